package registry

import (
	"github.com/regcheck/regcheck/pkg/report"
)

// Failure is a registry exchange that went wrong, already named: the SPEC
// reason, a one-line message, the remedy and the evidence. Every error the
// registry client returns to callers is a *Failure (use errors.As).
type Failure struct {
	Reason   report.Reason
	Message  string
	Remedy   string
	Evidence report.Evidence
}

func (f *Failure) Error() string { return string(f.Reason) + ": " + f.Message }

// Resolution is what a reference points to now.
type Resolution struct {
	// Digest is the digest the tag (or pinned digest) resolves to: a
	// manifest or an index.
	Digest    string
	MediaType string
	// ConfigDigest is the image config digest, for a single manifest.
	ConfigDigest string
	// Children are the platform manifests of an index, with their config
	// digests (a runtime may report the config digest as imageID).
	Children []Child
	// CredentialSource names the credential that worked ("anonymous" when none was needed).
	CredentialSource string
}

// Child is one platform manifest of an index.
type Child struct {
	Digest       string
	OS           string
	Architecture string
	Variant      string
	ConfigDigest string
}
