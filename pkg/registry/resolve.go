package registry

import (
	"context"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// Descriptor is what a HEAD showed: enough to compare with the digest a
// pod runs, without a second request.
type Descriptor struct {
	Reference imageref.Reference
	Digest    string
	MediaType string
	// CredentialSource is display text: it names the credential the HEAD
	// succeeded with ("anonymous" when none was given). Used is that
	// credential itself.
	CredentialSource string
	Used             Used
}

// Used names which of the credentials a lookup was given answered, by its
// position in them. Two credentials may share a source (one pull secret's
// two entries for a host, an old password first), so a caller that holds
// the same credentials picks the one by Used (Used.In), never by comparing
// source strings. The zero value names none: no credential was given
// (anonymous), or the answer was made elsewhere (a test's fake), so it is
// always safe to read.
type Used struct{ at int } // the position plus one

// UsedAt names the credential at position i of a lookup's credentials.
func UsedAt(i int) Used { return Used{at: i + 1} }

// In is the position in creds of the credential u names, false when it
// names none of them.
func (u Used) In(creds []credentials.Credential) (int, bool) {
	i := u.at - 1
	return i, i >= 0 && i < len(creds)
}

// Resolution is what the HEAD alone tells, for a caller that needs no
// Expand (the running digest is the one the tag points to).
func (d Descriptor) Resolution() Resolution {
	return Resolution{Digest: d.Digest, MediaType: d.MediaType, CredentialSource: d.CredentialSource, Used: d.Used}
}

// Resolve is Head then Expand: what ref points to now, with the children
// of an index and the config digests runtimes may report.
func (c *Client) Resolve(ctx context.Context, ref imageref.Reference, creds []credentials.Credential) (Resolution, error) {
	d, err := c.Head(ctx, ref, creds)
	if err != nil {
		return Resolution{}, err
	}
	return c.Expand(ctx, d, creds)
}

// Head resolves ref with one manifest HEAD, trying creds in order
// (anonymously when there are none) until one works. A scan that finds the
// running digest equal to Descriptor.Digest needs nothing more.
func (c *Client) Head(ctx context.Context, r imageref.Reference, creds []credentials.Credential) (Descriptor, error) {
	if _, err := c.Ping(ctx, r.Host); err != nil {
		return Descriptor{}, err
	}
	cands := creds
	if len(cands) == 0 {
		cands = []credentials.Credential{{Source: credentials.SourceAnonymous}}
	}
	var first *Failure
	tried := make([]string, 0, len(cands))
	var failures []report.FailedAttempt
	var attempts []Attempt
	for i, cred := range cands {
		s := c.NewSession(r, cred)
		s.requestProves = true
		tried = append(tried, s.Source())
		var used Used
		if len(creds) > 0 {
			used = UsedAt(i)
		}
		m, err := s.headManifest(ctx)
		if err == nil {
			return Descriptor{Reference: r, Digest: m.Digest, MediaType: m.MediaType, CredentialSource: s.Source(), Used: used}, nil
		}
		f := AsFailure(err)
		failures = append(failures, report.FailedAttempt{Credential: s.Source(), Key: cred.Key, Reason: f.Reason})
		attempts = append(attempts, Attempt{Credential: used, Reason: f.Reason})
		if first == nil {
			first = f
		}
	}
	if len(cands) > 1 {
		first.Attempts = attempts
		first.Evidence["tried"], first.Evidence["failures"] = tried, failures
	}
	return Descriptor{}, first
}

func (s *Session) headManifest(ctx context.Context) (*Manifest, error) {
	if _, err := s.Authenticate(ctx); err != nil {
		return nil, err
	}
	return s.HeadManifest(ctx)
}

// Expand fetches what a HEAD cannot tell: the config digest of a single
// manifest, or the platform children of an index and their config
// digests. Manifests by digest are immutable, so config digests are cached
// per manifest digest for the client's life.
func (c *Client) Expand(ctx context.Context, d Descriptor, creds []credentials.Credential) (Resolution, error) {
	cred := credentials.Credential{Source: credentials.SourceAnonymous}
	if i, ok := d.Used.In(creds); ok && !creds[i].Anonymous() {
		cred = creds[i]
	}
	s := c.NewSession(d.Reference, cred)
	s.requestProves = true
	if _, err := s.Authenticate(ctx); err != nil {
		return Resolution{}, err
	}
	res := Resolution{Digest: d.Digest, MediaType: d.MediaType, CredentialSource: d.CredentialSource, Used: d.Used}
	if !(&Manifest{MediaType: d.MediaType}).IsIndex() {
		cfg, err := c.configDigest(ctx, s, d.Digest)
		if err != nil {
			return Resolution{}, err
		}
		res.ConfigDigest = cfg
		return res, nil
	}
	m, err := s.GetManifest(ctx, d.Digest)
	if err != nil {
		return Resolution{}, err
	}
	idx, err := v1.ParseIndexManifest(bodyReader(m))
	if err != nil {
		return Resolution{}, malformed(s, "index", err)
	}
	for _, desc := range idx.Manifests {
		if desc.Annotations["vnd.docker.reference.type"] == "attestation-manifest" || desc.MediaType.IsIndex() {
			continue // attestations are never run; nested indexes are rare
		}
		child := Child{Digest: desc.Digest.String()}
		if p := desc.Platform; p != nil {
			child.OS, child.Architecture, child.Variant = p.OS, p.Architecture, p.Variant
		}
		cfg, err := c.configDigest(ctx, s, child.Digest)
		if err != nil {
			return Resolution{}, err
		}
		child.ConfigDigest = cfg
		res.Children = append(res.Children, child)
	}
	return res, nil
}

func (c *Client) configDigest(ctx context.Context, s *Session, digest string) (string, error) {
	c.configMu.Lock()
	cfg, ok := c.configs[digest]
	c.configMu.Unlock()
	if ok {
		return cfg, nil
	}
	m, err := s.GetManifest(ctx, digest)
	if err != nil {
		return "", err
	}
	man, err := v1.ParseManifest(bodyReader(m))
	if err != nil {
		return "", malformed(s, "manifest", err)
	}
	cfg = man.Config.Digest.String()
	c.configMu.Lock()
	c.configs[digest] = cfg
	c.configMu.Unlock()
	return cfg, nil
}

func malformed(s *Session, what string, err error) *Failure {
	return &Failure{Reason: report.ReasonServerError,
		Fault:    s.fault(report.CauseUnparsable, what),
		Evidence: report.Evidence{"parseError": err.Error()}}
}

// AsFailure names any error of a registry exchange as a *Failure, the
// only kind the client returns; a run cancelled or out of time, or an
// error from elsewhere, still reads as one (a result never carries a raw
// Go error as its reason). Evidence is never nil. nil stays nil.
func AsFailure(err error) *Failure {
	var f *Failure
	switch {
	case err == nil:
		return nil
	case errors.As(err, &f) && f != nil:
		if f.Evidence == nil {
			f.Evidence = report.Evidence{}
		}
		return f
	case errors.Is(err, context.DeadlineExceeded):
		return &Failure{Reason: report.ReasonUnreachable, Evidence: report.Evidence{},
			Fault: report.Fault{Cause: report.CauseTimeout, Seen: report.Seen{Silence: report.SilenceTimeout}}}
	case errors.Is(err, context.Canceled):
		return &Failure{Reason: report.ReasonUnreachable, Evidence: report.Evidence{},
			Fault: report.Fault{Cause: report.CauseTimeout, Seen: report.Seen{Silence: report.SilenceCancelled}}}
	}
	// An error from elsewhere: no finer fact is known than its own text,
	// which evidence shows.
	return &Failure{Reason: report.ReasonUnreachable, Evidence: report.Evidence{"error": err.Error()},
		Fault: report.Fault{Cause: report.CauseNoAnswer}}
}
