// Package imageref is regcheck's one image reference parser. Every image
// or chart reference regcheck reads (a command's argument, a workload's
// container image, a doctor setting) is parsed here once, at the input
// boundary, into a Reference that carries every name the later steps need:
// the registry domain, the host serving its API, the key credential stores
// file it under, the repository, tag and digest, and the forms the runtime
// and people read.
//
// Parsing is distribution/reference's, as Docker, containerd and the kubelet
// parse ("nginx" is docker.io/library/nginx:latest), with go-digest for the
// digest. Where regcheck refuses what distribution accepts, or names why a
// reference is refused more precisely, the reason is a Kind of Error; the
// differences are listed in imageref_test.go (deliberateDifferences).
package imageref

import (
	// go-digest validates only the algorithms linked in.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// Docker Hub's three names: the one references use, the host serving its
// API, and the key credential stores (Docker's config, the kubelet's
// keyring) file it under.
const (
	DockerHubDomain = "docker.io"
	DockerHubAPI    = "registry-1.docker.io"
	DockerHubKey    = "index.docker.io"
)

// ociScheme is how Helm writes a chart reference.
const ociScheme = "oci://"

// Reference is a parsed image (or chart) reference.
type Reference struct {
	// Input is the reference as written (spaces around it trimmed).
	Input string
	// Registry is the reference's domain: "docker.io", "ghcr.io",
	// "localhost:5000".
	Registry string
	// Host is where the registry API lives: "registry-1.docker.io" for
	// Docker Hub, else the domain.
	Host string
	// CredentialKey is the key credential stores use for the registry:
	// "index.docker.io" for Docker Hub, else the domain.
	CredentialKey string
	// Repository is the path: "library/nginx".
	Repository string
	// Tag is the tag as written; empty when none is.
	Tag string
	// Digest is the pinned digest as written; empty when none is.
	Digest digest.Digest
	// OCI reports a chart reference written with Helm's oci:// prefix.
	OCI bool
}

// Name is the normalised repository without tag or digest:
// "docker.io/library/nginx". The kubelet looks credentials up by it.
func (r Reference) Name() string { return r.Registry + "/" + r.Repository }

// Identifier is what the manifest route takes: the digest when pinned,
// else the tag, "latest" when none is written.
func (r Reference) Identifier() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.tagOrLatest()
}

func (r Reference) tagOrLatest() string {
	if r.Tag == "" {
		return "latest"
	}
	return r.Tag
}

// String is the normalised reference, Docker's full form:
// "docker.io/library/nginx:latest", "ghcr.io/org/app:1.0@sha256:…" (a
// written tag is kept next to a digest; "latest" is added when neither is
// written).
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" || r.Digest == "" {
		s += ":" + r.tagOrLatest()
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Pull is what the runtime pulls: the digest wins over a tag, as
// distribution's ParseDockerRef and containerd have it:
// "docker.io/library/nginx:latest" or "ghcr.io/org/app@sha256:…".
func (r Reference) Pull() string {
	if r.Digest != "" {
		return r.Name() + "@" + r.Digest.String()
	}
	return r.Name() + ":" + r.tagOrLatest()
}

// Written reports whether the reference names a tag or a digest itself,
// rather than meaning "latest".
func (r Reference) Written() bool { return r.Tag != "" || r.Digest != "" }

// Mutable reports a tag that moves by design: "latest", or none at all,
// with no digest pinned.
func (r Reference) Mutable() bool {
	return r.Digest == "" && (r.Tag == "" || r.Tag == "latest")
}

// Short is the repository with its tag or abbreviated digest, for
// messages: "library/nginx:latest", "team/app@sha256:0123456789ab".
func (r Reference) Short() string {
	if r.Digest != "" {
		return r.Repository + "@" + ShortDigest(r.Digest.String())
	}
	return r.Repository + ":" + r.tagOrLatest()
}

// ShortDigest abbreviates a digest to 12 hex digits for messages; evidence
// keeps it whole. Anything else is returned as it is.
func ShortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

// APIHost maps a registry domain (or Docker Hub's credential key) to the
// host that serves its API.
func APIHost(domain string) string {
	switch domain {
	case DockerHubDomain, DockerHubKey:
		return DockerHubAPI
	}
	return domain
}

// Registry is the reference of a registry alone, for what is checked
// without a repository (a login, as docker login and helm registry login
// do): domain as references name it ("docker.io", "ghcr.io",
// "localhost:5000"), lower case, no scheme. Repository stays empty.
func Registry(domain string) Reference {
	ref := Reference{Input: domain, Registry: domain, Host: APIHost(domain), CredentialKey: domain}
	if domain == DockerHubDomain || domain == DockerHubKey {
		ref.Registry, ref.CredentialKey = DockerHubDomain, DockerHubKey
	}
	return ref
}

// Kind says why a reference is refused.
type Kind string

// Kinds of refusal.
const (
	// Empty: nothing was written.
	Empty Kind = "Empty"
	// BareDigest: a digest ("sha256:…") alone, naming no repository.
	BareDigest Kind = "BareDigest"
	// Identifier: 64 hex digits alone, an image ID, not a repository.
	Identifier Kind = "Identifier"
	// Uppercase: a repository name with capitals.
	Uppercase Kind = "Uppercase"
	// Scheme: a URL scheme ("https://") where a reference has none.
	Scheme Kind = "Scheme"
	// InvalidHost: a first part that looks like a registry host (it has a
	// dot) but is no valid host name.
	InvalidHost Kind = "InvalidHost"
	// Malformed: anything else distribution/reference refuses (an invalid
	// tag, digest or path component, a name too long).
	Malformed Kind = "Malformed"
)

// Error is a refused reference. Error() is one line: the reference and why.
type Error struct {
	Input string // as written
	Kind  Kind
	// Why is the reason in a few words, without the reference: "a bare
	// digest names no repository", or distribution's own words.
	Why string
	// Digest is the digest a BareDigest refusal holds, when it is a valid
	// one (REPOSITORY@Digest then parses).
	Digest digest.Digest
	err    error // distribution's or go-digest's error, when one was the cause
}

func (e *Error) Error() string { return fmt.Sprintf("invalid image reference %q: %s", e.Input, e.Why) }

// Unwrap gives distribution/reference's (or go-digest's) error, when the
// refusal came from it.
func (e *Error) Unwrap() error { return e.err }

// Parse parses an image reference as Docker and the kubelet do. Spaces
// around it are trimmed; a URL scheme (oci:// included) is refused: see
// ParseChart for Helm's chart references.
func Parse(s string) (Reference, error) {
	return parse(s, false, false)
}

// ParseAsKubelet parses an image as the kubelet and the runtime read it
// (distribution/reference unchanged): a capitalised first part with no dot
// or port ("LOCALDOMAIN/app") is a host there, not a refusal. Only code
// that predicts what the kubelet does with such an image uses it (its
// credential keyring); everything a user reads is parsed with Parse.
func ParseAsKubelet(s string) (Reference, error) {
	return parse(s, false, true)
}

// ParseChart parses a reference as Helm's OCI commands take it: an image
// reference with an optional oci:// prefix (helm push, pull, registry).
func ParseChart(s string) (Reference, error) {
	return parse(s, true, false)
}

// oneLine escapes control characters: distribution's messages quote the
// input as given, and a why is one line a person reads (found by FuzzParse:
// "0\nA").
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func parse(s string, chart, upperHost bool) (Reference, error) {
	in := strings.TrimSpace(s)
	bad := func(k Kind, why string, err error) (Reference, error) {
		return Reference{}, &Error{Input: in, Kind: k, Why: oneLine(why), err: err}
	}
	body := in
	oci := false
	if chart && strings.HasPrefix(body, ociScheme) {
		body, oci = strings.TrimPrefix(body, ociScheme), true
	}
	if body == "" {
		return bad(Empty, "no image reference was given", nil)
	}
	if scheme, _, ok := strings.Cut(body, "://"); ok && !strings.ContainsAny(scheme, "/@") {
		return bad(Scheme, scheme+":// is a URL scheme; an image reference has none", nil)
	}
	if d, err := digest.Parse(body); err == nil || strings.HasPrefix(body, "sha256:") {
		if err != nil {
			d = ""
		}
		return Reference{}, &Error{Input: in, Kind: BareDigest, Why: "a bare digest names no repository", Digest: d}
	}
	named, err := reference.ParseNormalizedNamed(body)
	switch {
	case err != nil && (errors.Is(err, reference.ErrNameContainsUppercase) || strings.Contains(err.Error(), "must be lowercase")):
		// ParseNormalizedNamed's own lowercase check returns a plain
		// error, with the wording Docker prints.
		return bad(Uppercase, err.Error(), err)
	case err != nil && strings.Contains(err.Error(), "64-byte hexadecimal"):
		return bad(Identifier, err.Error(), err)
	case err != nil:
		return bad(Malformed, err.Error(), err)
	}
	domain := reference.Domain(named)
	if domain == "" {
		// distribution takes "0_0.0/app" as a path with no domain: its
		// first part has a dot, so it is not normalised to docker.io, yet
		// it is no valid host name either (found by fuzzing).
		first, _, _ := strings.Cut(body, "/")
		return bad(InvalidHost, first+" looks like a registry host but is not a valid host name", nil)
	}
	if !upperHost && domain != "localhost" && !strings.ContainsAny(domain, ".:") {
		// distribution takes a first part with capitals and no dot or port
		// ("UPPER/case") for a host, only because repository names are
		// lowercase; Docker answers that the repository name must be
		// lowercase, in the words ParseNormalizedNamed uses for "docker/Docker",
		// and so does regcheck rather than look up "UPPER".
		name, _, _ := strings.Cut(body, "@")
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i]
		}
		return bad(Uppercase, "invalid reference format: repository name ("+name+") must be lowercase", reference.ErrNameContainsUppercase)
	}
	ref := Reference{
		Input:         in,
		Registry:      domain,
		Host:          APIHost(domain),
		CredentialKey: domain,
		Repository:    reference.Path(named),
		OCI:           oci,
	}
	if domain == DockerHubDomain {
		ref.CredentialKey = DockerHubKey
	}
	if t, ok := named.(reference.Tagged); ok {
		ref.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		ref.Digest = d.Digest()
	}
	return ref, nil
}
