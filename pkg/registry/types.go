package registry

import (
	"strconv"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// Failure is a registry exchange that went wrong, named: the SPEC reason,
// the evidence, and the typed observation (Fault: its cause, the names a
// fix needs and the facts seen). The client words nothing: pkg/remedy
// words the message (remedy.Message) and the fix, for whoever reads it.
// Every error the registry client returns to callers is a *Failure (use
// AsFailure).
type Failure struct {
	Reason   report.Reason
	Evidence report.Evidence // display only: decisions read the typed fields below

	report.Fault

	// HTTPStatus is the status of the answer that failed; 0 when no answer
	// came (a transport failure, a refusal before any request).
	HTTPStatus int
	// RateLimit is what that answer announced about the pull limit.
	RateLimit report.RateLimit
	// Attempts are the credentials tried, in order, and the reason each
	// one failed, when a lookup tried more than one (Head).
	Attempts []Attempt
	// Tags are the repository's tags as the first page of its tags list
	// gave them (at most MaxTagsRead), read when a manifest was not found
	// to tell a missing tag from a missing repository.
	Tags []string
}

// Error names the failure as a Go error, from its typed facts alone: the
// reason, the cause, the step and what it was asked of, and what came
// back (the status and request line, the registry's own error, or why no
// answer came). It gives no advice; the sentence a person reads is
// remedy.Message's, and the fix remedy.Registry's.
func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(string(f.Reason))
	if f.Cause != "" {
		b.WriteString(" (" + string(f.Cause) + ")")
	}
	if f.Step != "" {
		b.WriteString(" at " + string(f.Step))
	}
	switch {
	case f.Reference != "":
		b.WriteString(" of " + f.Reference)
	case f.Host != "":
		b.WriteString(" with " + f.Host)
	case f.Input != "":
		b.WriteString(" of " + strconv.Quote(f.Input))
	}
	if f.Status != 0 {
		b.WriteString(": HTTP " + strconv.Itoa(f.Status))
		if f.Method != "" {
			b.WriteString(" on " + f.Method + " " + f.Path)
		}
	}
	if f.RegistryMessage != "" {
		b.WriteString(": " + f.RegistryMessage)
	}
	if f.Silence != "" {
		b.WriteString(": " + string(f.Silence))
		if f.DNSName != "" {
			b.WriteString(" " + f.DNSName)
		}
	}
	if f.ErrText != "" {
		b.WriteString(": " + f.ErrText)
	}
	return b.String()
}

// answered records the typed facts of the answer r that f names.
func (f *Failure) answered(r *response) *Failure {
	if f != nil && r != nil {
		f.HTTPStatus = r.Status
		f.RateLimit = rateLimitOf(r.Header)
		f.Status, f.Method = r.Status, r.Method
		if r.URL != nil {
			f.Path = r.URL.Path
		}
		f.ContentType = r.Header.Get("Content-Type")
		f.RegistryMessage = firstMessage(registryError(r))
		f.RetryAfter = r.Header.Get("Retry-After")
		f.Held = r.Header.Get(heldHeader) != ""
	}
	return f
}

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
	// CredentialSource names the credential that worked ("anonymous" when
	// none was needed), as display text; Used is that credential itself,
	// for a request that must present the same one (the tags list of
	// --newer) or a result that names it.
	CredentialSource string
	Used             Used
}

// Attempt is one credential a lookup tried (by its position in the
// lookup's credentials) and the reason it failed.
type Attempt struct {
	Credential Used
	Reason     report.Reason
}

// Child is one platform manifest of an index.
type Child struct {
	Digest       string
	OS           string
	Architecture string
	Variant      string
	ConfigDigest string
}
