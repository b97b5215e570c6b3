package env

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imagePushTimeout bounds one helper call; pushes of these tiny images take milliseconds.
const imagePushTimeout = 60 * time.Second

// Pushed describes an image written by PushRandomImage.
type Pushed struct {
	Ref          string // HOST/repo:tag
	DigestRef    string // HOST/repo@sha256:...
	Digest       string // manifest digest, sha256:...
	ConfigDigest string // config blob digest (what kind reports as a bare imageID)
}

// PushedChild is one platform image of a pushed index.
type PushedChild struct {
	Platform     v1.Platform
	Digest       string
	ConfigDigest string
}

// PushedIndex describes an index written by PushIndex.
type PushedIndex struct {
	Ref       string
	DigestRef string
	Digest    string // index digest
	Children  []PushedChild
}

// Authenticator returns the credentials of a registry user for
// go-containerregistry: anonymous for "", an error for an unknown user.
func (reg *Registry) Authenticator(user string) (authn.Authenticator, error) {
	if user == "" {
		return authn.Anonymous, nil
	}
	u, ok := reg.Users[user]
	if !ok {
		return nil, fmt.Errorf("registry %s has no user %q", reg.Host, user)
	}
	return &authn.Basic{Username: user, Password: u.Password}, nil
}

// RemoteOptions are the go-containerregistry options to talk to the registry
// as user ("" for anonymous) over its transport.
func (reg *Registry) RemoteOptions(ctx context.Context, user string) ([]remote.Option, error) {
	auth, err := reg.Authenticator(user)
	if err != nil {
		return nil, err
	}
	return []remote.Option{
		remote.WithAuth(auth),
		remote.WithTransport(reg.transport),
		remote.WithContext(ctx),
	}, nil
}

// nameOptions lets plain-HTTP registries work; ggcr already tries both
// schemes for loopback hosts, but Insecure makes the intent explicit.
func (reg *Registry) nameOptions() []name.Option {
	if reg.TLS {
		return nil
	}
	return []name.Option{name.Insecure}
}

// PushRandomImage pushes a new small random linux/amd64 image to repo:tag as
// user ("" pushes anonymously). Pushing again to the same tag moves the tag
// to a new digest.
func PushRandomImage(reg *Registry, repo, tag, user string) (Pushed, error) {
	img, err := randomPlatformImage(v1.Platform{OS: "linux", Architecture: "amd64"})
	if err != nil {
		return Pushed{}, err
	}
	return PushImage(reg, repo, tag, user, img)
}

// PushImage pushes img to repo:tag as user.
func PushImage(reg *Registry, repo, tag, user string, img v1.Image) (Pushed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), imagePushTimeout)
	defer cancel()
	ref, err := name.NewTag(reg.Ref(repo, tag), reg.nameOptions()...)
	if err != nil {
		return Pushed{}, fmt.Errorf("parsing reference: %w", err)
	}
	opts, err := reg.RemoteOptions(ctx, user)
	if err != nil {
		return Pushed{}, err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return Pushed{}, fmt.Errorf("pushing %s as %q: %w", ref, user, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return Pushed{}, fmt.Errorf("digest of %s: %w", ref, err)
	}
	cfg, err := img.ConfigName()
	if err != nil {
		return Pushed{}, fmt.Errorf("config digest of %s: %w", ref, err)
	}
	return Pushed{
		Ref:          ref.String(),
		DigestRef:    ref.Context().Digest(digest.String()).String(),
		Digest:       digest.String(),
		ConfigDigest: cfg.String(),
	}, nil
}

// PushIndex pushes a Docker manifest list with one new random image per
// platform to repo:tag as user.
func PushIndex(reg *Registry, repo, tag, user string, platforms []v1.Platform) (PushedIndex, error) {
	return pushIndex(reg, repo, tag, user, platforms, randomPlatformImage)
}

// PushRunnableIndex is PushIndex whose image for this machine's platform
// (linux/GOARCH) is a new RunnableImage, so a real node runs it; the other
// platforms' images are random.
func PushRunnableIndex(reg *Registry, repo, tag, user string, platforms []v1.Platform) (PushedIndex, error) {
	return pushIndex(reg, repo, tag, user, platforms, func(p v1.Platform) (v1.Image, error) {
		if p.OS == "linux" && p.Architecture == runtime.GOARCH {
			return RunnableImage()
		}
		return randomPlatformImage(p)
	})
}

func pushIndex(reg *Registry, repo, tag, user string, platforms []v1.Platform, image func(v1.Platform) (v1.Image, error)) (PushedIndex, error) {
	if len(platforms) == 0 {
		return PushedIndex{}, fmt.Errorf("pushing index %s: no platforms", reg.Ref(repo, tag))
	}
	ctx, cancel := context.WithTimeout(context.Background(), imagePushTimeout)
	defer cancel()
	ref, err := name.NewTag(reg.Ref(repo, tag), reg.nameOptions()...)
	if err != nil {
		return PushedIndex{}, fmt.Errorf("parsing reference: %w", err)
	}
	opts, err := reg.RemoteOptions(ctx, user)
	if err != nil {
		return PushedIndex{}, err
	}

	// random.Image makes Docker schema 2 manifests, so the index is a Docker
	// manifest list to keep media types consistent.
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	out := PushedIndex{Ref: ref.String()}
	for _, p := range platforms {
		img, err := image(p)
		if err != nil {
			return PushedIndex{}, err
		}
		digest, err := img.Digest()
		if err != nil {
			return PushedIndex{}, fmt.Errorf("digest of %s image: %w", p, err)
		}
		cfg, err := img.ConfigName()
		if err != nil {
			return PushedIndex{}, fmt.Errorf("config digest of %s image: %w", p, err)
		}
		plat := p
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &plat},
		})
		out.Children = append(out.Children, PushedChild{Platform: p, Digest: digest.String(), ConfigDigest: cfg.String()})
	}
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return PushedIndex{}, fmt.Errorf("pushing index %s as %q: %w", ref, user, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		return PushedIndex{}, fmt.Errorf("digest of index %s: %w", ref, err)
	}
	out.Digest = digest.String()
	out.DigestRef = ref.Context().Digest(out.Digest).String()
	return out, nil
}

// DeleteManifest deletes a manifest by digest (the registry has delete enabled),
// e.g. to make a workload's running digest disappear.
func DeleteManifest(reg *Registry, repo, digest, user string) error {
	ctx, cancel := context.WithTimeout(context.Background(), imagePushTimeout)
	defer cancel()
	ref, err := name.NewDigest(reg.Host+"/"+repo+"@"+digest, reg.nameOptions()...)
	if err != nil {
		return fmt.Errorf("parsing reference: %w", err)
	}
	opts, err := reg.RemoteOptions(ctx, user)
	if err != nil {
		return err
	}
	if err := remote.Delete(ref, opts...); err != nil {
		return fmt.Errorf("deleting %s as %q: %w", ref, user, err)
	}
	return nil
}

// randomPlatformImage is a one-layer random image whose config names its platform,
// so platform-aware clients see what the index claims.
func randomPlatformImage(p v1.Platform) (v1.Image, error) {
	img, err := random.Image(512, 1)
	if err != nil {
		return nil, fmt.Errorf("generating random image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading random image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting platform %s: %w", p, err)
	}
	return img, nil
}
