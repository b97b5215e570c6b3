package env

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Tag points repo:tag at the manifest digest already in repo, as user
// (crane tag): many tags at the cost of one manifest PUT each.
func Tag(reg *Registry, repo, digest, tag, user string) error {
	ctx, cancel := context.WithTimeout(context.Background(), imagePushTimeout)
	defer cancel()
	src, err := name.NewDigest(reg.Host+"/"+repo+"@"+digest, reg.nameOptions()...)
	if err != nil {
		return fmt.Errorf("parsing reference: %w", err)
	}
	opts, err := reg.RemoteOptions(ctx, user)
	if err != nil {
		return err
	}
	desc, err := remote.Get(src, opts...)
	if err != nil {
		return fmt.Errorf("reading %s as %q: %w", src, user, err)
	}
	if err := remote.Tag(src.Context().Tag(tag), desc, opts...); err != nil {
		return fmt.Errorf("tagging %s:%s as %q: %w", repo, tag, user, err)
	}
	return nil
}
