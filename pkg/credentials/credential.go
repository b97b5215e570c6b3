// Package credentials finds the registry credentials that apply to an image
// and says where each came from: local Docker and Helm configs, credential
// helpers, flags, and the dockerconfig secrets the kubelet would use. It
// never prints, logs or returns a secret in any string form.
package credentials

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/regcheck/regcheck/pkg/report"
)

// Sources, as they appear in a result's credentialSource.
const (
	SourceAnonymous          = "anonymous"
	SourceDockerConfig       = "docker-config"
	SourceHelmRegistryConfig = "helm-registry-config"
	SourceFlags              = "flags"
	// Credential helpers are "credential-helper/NAME"; cluster secrets are
	// "secret/NAMESPACE/NAME", reached through "serviceaccount/NAMESPACE/NAME".
)

// Credential authenticates to one registry. Only Source, Key and Username
// are safe to show; String and GoString print nothing else.
type Credential struct {
	Source        string // where it came from, for display (see the Source constants)
	Origin        Origin // what kind of store that is, for code that decides by it
	Key           string // the config key it matched, e.g. "https://index.docker.io/v1/"
	Username      string
	Password      string
	IdentityToken string // an OAuth2 refresh token (Docker's "identitytoken")
	RegistryToken string // a bearer token presented as is (Docker's "registrytoken")
}

// Anonymous reports whether the credential carries nothing to present.
func (c Credential) Anonymous() bool {
	return c.Username == "" && c.Password == "" && c.IdentityToken == "" && c.RegistryToken == ""
}

// String names the credential without its secret.
func (c Credential) String() string {
	if c.Anonymous() {
		return SourceAnonymous
	}
	if c.Username != "" {
		return fmt.Sprintf("%s (user %s)", c.Source, c.Username)
	}
	return c.Source
}

// GoString keeps %#v from printing secrets.
func (c Credential) GoString() string { return "credentials.Credential{" + c.String() + "}" }

// Fingerprint identifies the credential for caching (one token per
// registry, scope and credential). It is a one-way hash: never a secret,
// but never printed either.
func (c Credential) Fingerprint() string {
	if c.Anonymous() {
		return SourceAnonymous
	}
	h := sha256.New()
	for _, s := range []string{c.Username, c.Password, c.IdentityToken, c.RegistryToken} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Problem is a fault found in a credential source. Callers turn it into a
// result (check credentials.secret for cluster secrets, registry.credentials
// for local sources).
type Problem struct {
	Source  string        // e.g. "secret/ns/name", "docker-config": for display, never read back
	Origin  Origin        // the kind of store at fault, for code that decides by it
	Helper  string        // the credential helper's NAME when Origin is OriginHelper
	Secret  SecretRef     // the pull secret at fault (OriginCluster); zero for a ServiceAccount's or another store's
	Host    string        // the registry key it concerns, when known
	Reason  report.Reason // IncompleteCredentials, MalformedCredentials, CredentialsUnreadable
	Message string        // one line, never a secret
	Remedy  string
	// FailsPulls: the kubelet cannot decode this pull secret, so it fails
	// every image pull of a pod that names it before asking any registry
	// (its node keyring and credential providers unused too).
	FailsPulls bool

	// missing is the path of a config file the user named that does not
	// exist: its remedy is the path first, a login second.
	missing string
}

// Lookup is what a source knows about one image or host: the credentials
// to try, in order, the sources consulted, and the problems met.
type Lookup struct {
	Credentials []Credential
	Tried       []Store
	Problems    []Problem
	// Halted is true when a credential helper failed for the host: Docker
	// and Helm stop there, with no later source and no anonymous request,
	// so the lookup stops there too (Credentials holds what came before).
	// Also when a pull secret fails every pull (Problem.FailsPulls): the
	// kubelet asks no registry then; and in Helm mode when the host's entry
	// (or the whole config) does not decode: oras-go returns that error.
	Halted bool
}

// ForHost is the problem as it concerns host: a fault of a whole file,
// found before any registry was named, gets the remedy for host.
func (p Problem) ForHost(host string) Problem {
	if p.Host == "" && host != "" {
		p.Remedy = p.localRemedy(host)
		if p.missing != "" {
			p.Remedy = missingRemedy(p.Origin, p.missing, host)
		}
	}
	return p
}
