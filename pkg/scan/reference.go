package scan

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"

	"github.com/regcheck/regcheck/pkg/report"
)

// imageRef is a container image reference, parsed as the kubelet does.
type imageRef struct {
	image      string // as written in the spec
	registry   string // e.g. "docker.io"
	repository string // e.g. "library/nginx"
	tag        string // as written; empty when none
	digest     string // the pinned digest, when any
	// canonical is what is resolved and matched against credentials:
	// "docker.io/library/nginx:latest" or "HOST/REPO@sha256:…" (a digest
	// wins over a tag, as it does for the runtime).
	canonical string
}

// mutable reports a tag that moves by design: "latest", or none at all.
func (r imageRef) mutable() bool {
	return r.digest == "" && (r.tag == "" || r.tag == "latest")
}

// display is the tag or digest the spec asks for, for messages.
func (r imageRef) display() string {
	if r.digest != "" {
		return r.repository + "@" + short(r.digest)
	}
	tag := r.tag
	if tag == "" {
		tag = "latest"
	}
	return r.repository + ":" + tag
}

// parseImage parses image; the error is a one-line reason for people.
func parseImage(image string) (imageRef, error) {
	if image == "" {
		return imageRef{}, fmt.Errorf("the container has no image")
	}
	if validDigest(image) || strings.HasPrefix(image, "sha256:") {
		return imageRef{}, fmt.Errorf("%q is a bare digest: it names no repository (write REPOSITORY@%s)", image, image)
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return imageRef{}, fmt.Errorf("%q does not parse as an image reference: %v", image, err)
	}
	if reference.Domain(named) == "" {
		// See registry.ParseReference: a dotted first part that is no host.
		return imageRef{}, fmt.Errorf("%q does not parse as an image reference: its first part looks like a registry host but is not a valid host name", image)
	}
	r := imageRef{
		image:      image,
		registry:   reference.Domain(named),
		repository: reference.Path(named),
	}
	if t, ok := named.(reference.Tagged); ok {
		r.tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.digest = d.Digest().String()
		r.canonical = named.Name() + "@" + r.digest
	} else {
		r.canonical = reference.TagNameOnly(named).String()
	}
	return r, nil
}

func invalidReference(base report.Result, err error) report.Result {
	base.Check = report.CheckImageReference
	base.Status = report.StatusFail
	base.Reason = report.ReasonInvalidReference
	base.Message = err.Error()
	base.Remedy = "write the image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. registry.example.com/team/app:1.4.2"
	return base
}

// short abbreviates a digest for messages; evidence keeps it whole.
func short(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}
