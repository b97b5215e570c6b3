package registry

import (
	"bytes"
	"context"
	_ "crypto/sha256" // go-digest's SHA-256
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"

	"github.com/regcheck/regcheck/pkg/report"
)

// manifestAccept asks for every manifest and index type a runtime pulls.
var manifestAccept = strings.Join([]string{
	string(types.OCIManifestSchema1),
	string(types.OCIImageIndex),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestList),
}, ", ")

// Manifest is what a manifest request showed.
type Manifest struct {
	Digest    string
	MediaType string
	Size      int64
	Status    int
	Method    string // HEAD, or GET when HEAD could not tell
	Header    http.Header
	Attempts  int     // requests the answer took; more than 1 when retried
	Retried   []Retry // why each retry was made
	body      []byte  // GET only
}

// IsIndex reports whether the manifest is an index / manifest list.
func (m *Manifest) IsIndex() bool { return types.MediaType(m.MediaType).IsIndex() }

// RateLimit is what the answer announced about the pull limit.
func (m *Manifest) RateLimit() report.RateLimit { return rateLimitOf(m.Header) }

// Evidence is the manifest answer as result evidence.
func (m *Manifest) Evidence() report.Evidence {
	ev := report.Evidence{"httpStatus": m.Status, "request": m.Method + " manifest", "digest": m.Digest, "mediaType": m.MediaType}
	for k, v := range rateLimitEvidence(m.Header) {
		ev[k] = v
	}
	if m.Attempts > 1 {
		ev["attempts"] = m.Attempts
		ev["retried"] = retryStrings(m.Retried)
	}
	return ev
}

func (s *Session) manifestURL(identifier string) *url.URL {
	u := s.c.baseURL(s.ref.Host)
	u.Path += s.ref.Repository + "/manifests/" + identifier
	return u
}

// HeadManifest resolves the reference with a HEAD (cheap: Docker Hub does
// not count it against the pull limit). A HEAD has no body, so when it
// fails, or gives no digest, a GET follows to read the error code or the
// manifest.
func (s *Session) HeadManifest(ctx context.Context) (*Manifest, error) {
	r, err := s.do(ctx, request{method: http.MethodHead, url: s.manifestURL(s.ref.Identifier()),
		header: http.Header{"Accept": {manifestAccept}}})
	if err != nil {
		return nil, err
	}
	if r.Status == http.StatusOK && !isHTML(r) && r.Header.Get("Docker-Content-Digest") != "" {
		return &Manifest{
			Digest:    r.Header.Get("Docker-Content-Digest"),
			MediaType: mediaType(r.Header),
			Size:      contentLength(r.Header),
			Status:    r.Status,
			Method:    http.MethodHead,
			Header:    r.Header,
			Attempts:  r.Attempts.attempts,
			Retried:   r.Attempts.retried,
		}, nil
	}
	if r.Status == http.StatusTooManyRequests || r.Status >= 500 {
		// Nothing a GET would add, and on Docker Hub a GET counts against
		// the pull limit.
		return nil, s.fail(s.manifestFailure(r))
	}
	if r.Status != http.StatusNotFound || isHTML(r) {
		return s.GetManifest(ctx, s.ref.Identifier())
	}
	// A 404: the GET that reads its error code will most likely say
	// MANIFEST_UNKNOWN, which needs the tags list to tell a missing tag
	// from a missing repository. Both go out at once, so a missing image
	// costs two round trips, not three. The list is wasted only when the
	// GET finds the manifest after all or names the repository unknown.
	tctx, cancel := context.WithCancel(ctx)
	tags := s.startTagsPage(tctx)
	defer func() {
		cancel()
		tags.wait() // nothing outlives the call
	}()
	return s.getManifest(ctx, s.ref.Identifier(), tags)
}

// GetManifest fetches a manifest or index by tag or digest (body capped
// at 4 MiB).
func (s *Session) GetManifest(ctx context.Context, identifier string) (*Manifest, error) {
	return s.getManifest(ctx, identifier, nil)
}

// getManifest is GetManifest with, when tags is not nil, the answer of a
// tags list already asked (startTagsPage) for telling a missing tag from
// a missing repository.
func (s *Session) getManifest(ctx context.Context, identifier string, tags *pendingTags) (*Manifest, error) {
	r, err := s.do(ctx, request{method: http.MethodGet, url: s.manifestURL(identifier),
		header: http.Header{"Accept": {manifestAccept}}, limit: maxManifestBody})
	if err != nil {
		return nil, err
	}
	if f := s.manifestFailure(r); f != nil {
		if f.Reason == report.ReasonTagNotFound {
			var a tagsAnswer
			if tags != nil {
				a = tags.wait()
			} else {
				a.tags, _, a.err = s.tagsPage(ctx, s.repositoryTagsURL())
			}
			f = s.repositoryOrTag(f, a)
		}
		return nil, s.fail(f)
	}
	if r.BodyErr != nil || !isJSON(r.Body) {
		f := (&Failure{Reason: report.ReasonServerError, Evidence: responseEvidence(r),
			Fault: s.fault(report.CauseBrokenManifest)}).answered(r)
		f.Step, f.BodyProblem = report.StepManifest, bodyProblem(r.BodyErr)
		return nil, f
	}
	computed := digest.FromBytes(r.Body).String()
	m := &Manifest{
		Digest:    r.Header.Get("Docker-Content-Digest"),
		MediaType: mediaType(r.Header),
		Size:      int64(len(r.Body)),
		Status:    r.Status,
		Method:    http.MethodGet,
		Header:    r.Header,
		Attempts:  r.Attempts.attempts,
		Retried:   r.Attempts.retried,
		body:      r.Body,
	}
	if m.Digest == "" {
		m.Digest = computed
	}
	if m.MediaType == "" || m.MediaType == "application/json" || m.MediaType == "text/plain" {
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(r.Body, &probe) == nil && probe.MediaType != "" {
			m.MediaType = probe.MediaType
		}
	}
	return m, nil
}

func contentLength(h http.Header) int64 {
	var n int64
	if _, err := fmt.Sscan(h.Get("Content-Length"), &n); err != nil {
		return 0
	}
	return n
}

// manifestFailure names a manifest answer that is not a manifest.
func (s *Session) manifestFailure(r *response) (f *Failure) {
	defer func() {
		if f.answered(r) != nil {
			f.Step = report.StepManifest
		}
	}()
	html := isHTML(r)
	if r.Status == http.StatusOK && !html {
		return nil
	}
	te := registryError(r)
	ev := responseEvidence(r)
	ev["requestedScope"] = s.Scopes()
	if s.token != nil {
		ev["granted"] = s.token.GrantEvidence()
	}
	switch {
	case html && r.Status == http.StatusOK && isJSON(r.Body):
		// The registry's JSON under a web page's label: runtimes take the
		// Content-Type as the manifest's media type and refuse it.
		return &Failure{Reason: report.ReasonServerError, Evidence: ev,
			Fault: s.fault(report.CauseHTMLManifestType)}
	case html && te == nil && r.Status < 500 && r.Status != http.StatusTooManyRequests:
		f := &Failure{Reason: report.ReasonNotARegistry, Evidence: ev, Fault: s.fault(report.CauseHTMLPage)}
		if f.PageTitle = pageTitle(r.Body); f.PageTitle != "" {
			ev["pageTitle"] = f.PageTitle
		}
		return f
	case hasCode(te, transport.NameUnknownErrorCode):
		return &Failure{Reason: report.ReasonRepositoryNotFound, Evidence: ev,
			Fault: s.fault(report.CauseNameUnknown)}
	case hasCode(te, transport.ManifestUnknownErrorCode):
		return &Failure{Reason: report.ReasonTagNotFound, Evidence: ev,
			Fault: s.fault(report.CauseManifestUnknown)}
	case r.Status == http.StatusTooManyRequests || hasCode(te, transport.TooManyRequestsErrorCode):
		return rateLimited(s.fault(report.CauseRateLimited), r)
	case ecrTokenExpired(r):
		return s.ecrExpired(r)
	case r.Status == http.StatusForbidden || hasCode(te, transport.DeniedErrorCode):
		return &Failure{Reason: report.ReasonForbidden, Evidence: ev,
			Fault: s.fault(report.CauseDenied)}
	case r.Status == http.StatusUnauthorized && s.cred.Anonymous():
		return &Failure{Reason: report.ReasonCredentialsRequired, Evidence: ev,
			Fault: s.fault(report.CauseUnauthorized)}
	case r.Status == http.StatusUnauthorized:
		if granted, known := s.token.Grants(s.ref.Repository, "pull"); known && !granted {
			return &Failure{Reason: report.ReasonScopeNotGranted, Evidence: ev,
				Fault: s.fault(report.CausePullNotGranted)}
		}
		return &Failure{Reason: report.ReasonInvalidCredentials, Evidence: ev,
			Fault: s.fault(report.CauseUnauthorized)}
	case r.Status == http.StatusNotFound:
		return &Failure{Reason: report.ReasonTagNotFound, Evidence: ev,
			Fault: s.fault(report.CauseNotFound)}
	case r.Status >= 500:
		return s.serverError(r)
	case hasCode(te, transport.NameInvalidErrorCode):
		return &Failure{Reason: report.ReasonInvalidReference, Evidence: ev,
			Fault: s.fault(report.CauseNameInvalid)}
	}
	return &Failure{Reason: report.ReasonServerError, Evidence: ev,
		Fault: s.fault(report.CauseUnexpectedAnswer)}
}

// parse helpers for Expand.
func bodyReader(m *Manifest) *bytes.Reader { return bytes.NewReader(m.body) }

// tagsAnswer is one page of a repository's tags list, or why not.
type tagsAnswer struct {
	tags []string
	err  error
}

// repositoryTagsURL is the first page of the repository's tags list, as
// much of it as a missing tag's near ones are named from.
func (s *Session) repositoryTagsURL() *url.URL {
	u := s.c.baseURL(s.ref.Host)
	u.Path += s.ref.Repository + "/tags/list"
	u.RawQuery = "n=" + fmt.Sprint(MaxTagsRead)
	return u
}

// pendingTags is a tags page asked in the background (startTagsPage).
type pendingTags struct {
	done chan struct{}
	a    tagsAnswer
}

// wait returns the answer once it is in; any number of calls.
func (p *pendingTags) wait() tagsAnswer {
	<-p.done
	return p.a
}

// startTagsPage asks for that page in a goroutine of its own, on a copy
// of the session: a Session serves one goroutine at a time, and a token
// the copy refreshes stays its own.
func (s *Session) startTagsPage(ctx context.Context) *pendingTags {
	c := *s
	p := &pendingTags{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.a.tags, _, p.a.err = c.tagsPage(ctx, c.repositoryTagsURL())
	}()
	return p
}

// repositoryOrTag tells a missing repository from a missing tag by the
// tags list's answer a. Many registries (distribution among them) answer
// MANIFEST_UNKNOWN for both, and only the tags list says NAME_UNKNOWN for
// a repository that does not exist. When the repository is there, its
// first tags go in evidence so the user sees what can be pulled.
func (s *Session) repositoryOrTag(f *Failure, a tagsAnswer) *Failure {
	tags, err := a.tags, a.err
	var lf *Failure
	if err != nil && (!errors.As(err, &lf) || lf.HTTPStatus == 0) {
		return f
	}
	ev := report.Evidence{}
	for k, v := range f.Evidence {
		ev[k] = v
	}
	ev["tagsListStatus"] = http.StatusOK
	if lf != nil {
		ev["tagsListStatus"] = lf.HTTPStatus
	}
	if lf != nil && lf.Reason == report.ReasonRepositoryNotFound {
		nf := &Failure{Reason: report.ReasonRepositoryNotFound, Evidence: ev, HTTPStatus: f.HTTPStatus, RateLimit: f.RateLimit,
			Fault: f.Fault}
		nf.Cause, nf.TagsListStatus = report.CauseNameUnknown, lf.HTTPStatus
		return nf
	}
	out := &Failure{Reason: f.Reason, Fault: f.Fault, Evidence: ev, HTTPStatus: f.HTTPStatus, RateLimit: f.RateLimit}
	if lf == nil {
		out.Tags = tags[:min(len(tags), MaxTagsRead)]
		ev["tags"] = tags[:min(len(tags), maxListedTags)]
	}
	return out
}

// maxListedTags bounds the tags put in evidence; MaxTagsRead the tags read
// (one page of the tags list) to name those near a missing one.
const (
	maxListedTags = 10
	MaxTagsRead   = 100
)
