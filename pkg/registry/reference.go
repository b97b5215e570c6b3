package registry

import (
	"strings"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/regcheck/regcheck/pkg/report"
)

// Docker Hub's three names: the one references use, the API host and the
// key credential stores file it under.
const (
	dockerHubDomain = "docker.io"
	dockerHubAPI    = "registry-1.docker.io"
	dockerHubKey    = "index.docker.io"
)

// Reference is a parsed image reference, with the names each step needs.
type Reference struct {
	Input         string // as given
	Registry      string // the reference's domain: "docker.io", "ghcr.io", "localhost:5000"
	Host          string // where the API lives: "registry-1.docker.io" for Docker Hub
	CredentialKey string // the credential-store key: "index.docker.io" for Docker Hub
	Repository    string // the path, e.g. "library/nginx"
	Tag           string // "latest" when neither tag nor digest is given
	Digest        string

	full string
}

// Identifier is what the manifest route takes: the digest when pinned,
// else the tag.
func (r Reference) Identifier() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// String is the normalised reference, e.g. docker.io/library/nginx:latest.
func (r Reference) String() string { return r.full }

// APIHost maps a registry domain to the host that serves its API.
func APIHost(domain string) string {
	switch domain {
	case dockerHubDomain, dockerHubKey:
		return dockerHubAPI
	}
	return domain
}

// ParseReference parses an image reference the way docker and the kubelet
// do ("nginx" is docker.io/library/nginx:latest). An "oci://" prefix, as
// Helm writes chart references, is accepted. A bare digest names no
// repository and is refused with InvalidReference.
func ParseReference(s string) (Reference, error) {
	in := strings.TrimSpace(s)
	trimmed := strings.TrimPrefix(in, "oci://")
	if _, err := digest.Parse(trimmed); err == nil {
		return Reference{}, &Failure{
			Reason:   report.ReasonInvalidReference,
			Message:  "a bare digest names no repository: " + trimmed,
			Remedy:   "name the repository too: REPOSITORY@" + trimmed + " (e.g. registry.example.com/team/app@" + trimmed + ")",
			Evidence: report.Evidence{"reference": trimmed},
		}
	}
	named, err := reference.ParseNormalizedNamed(trimmed)
	if err != nil {
		return Reference{}, &Failure{
			Reason:   report.ReasonInvalidReference,
			Message:  "not a valid image reference: " + trimmed + " (" + err.Error() + ")",
			Remedy:   "use HOST/REPOSITORY[:TAG][@sha256:DIGEST], e.g. ghcr.io/org/app:1.0",
			Evidence: report.Evidence{"reference": trimmed},
		}
	}
	domain := reference.Domain(named)
	if domain == "" {
		// The distribution parser takes "0_0.0/app" as a path with no
		// domain: its first part has a dot, so it is not normalised to
		// docker.io, yet it is no valid host name either.
		first, _, _ := strings.Cut(trimmed, "/")
		return Reference{}, &Failure{
			Reason:   report.ReasonInvalidReference,
			Message:  "not a valid image reference: " + trimmed + " (" + first + " looks like a registry host but is not a valid host name)",
			Remedy:   "use HOST/REPOSITORY[:TAG][@sha256:DIGEST], e.g. ghcr.io/org/app:1.0",
			Evidence: report.Evidence{"reference": trimmed},
		}
	}
	ref := Reference{
		Input:         in,
		Registry:      domain,
		Host:          APIHost(domain),
		CredentialKey: domain,
		Repository:    reference.Path(named),
		full:          reference.TagNameOnly(named).String(),
	}
	if domain == dockerHubDomain {
		ref.CredentialKey = dockerHubKey
	}
	if t, ok := named.(reference.Tagged); ok {
		ref.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		ref.Digest = d.Digest().String()
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	return ref, nil
}
