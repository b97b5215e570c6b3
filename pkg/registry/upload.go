package registry

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/regcheck/regcheck/pkg/report"
)

// Upload is a blob upload session opened to prove push access. regcheck
// never writes: no PUT, PATCH or mount ever follows, only a DELETE.
type Upload struct {
	Status   int
	location *url.URL
	// Cancel is how the session ended (CancelUpload); remedy.UploadNote
	// words it.
	Cancel report.UploadCancel
}

// Evidence is the upload as result evidence; how its session ended is
// the caller's to word (remedy.UploadNote).
func (u *Upload) Evidence() report.Evidence {
	ev := report.Evidence{"request": "POST blobs/uploads/", "httpStatus": u.Status}
	if u.location != nil {
		ev["uploadLocation"] = u.location.Path // the path only: the query can hold signed state
	}
	return ev
}

// StartUpload opens a blob upload session: POST /v2/NAME/blobs/uploads/.
// 202 means the push is authorized, whatever the token said. Any other
// answer is a *Failure naming why the push would fail.
func (s *Session) StartUpload(ctx context.Context) (*Upload, error) {
	u := s.c.baseURL(s.ref.Host)
	u.Path += s.ref.Repository + "/blobs/uploads/"
	r, err := s.do(ctx, request{method: http.MethodPost, url: u, body: []byte{}})
	if err != nil {
		return nil, err
	}
	if r.Status != http.StatusAccepted {
		return nil, s.fail(s.uploadFailure(r))
	}
	up := &Upload{Status: r.Status}
	if loc := r.Header.Get("Location"); loc != "" {
		if l, err := r.URL.Parse(loc); err == nil {
			up.location = l
		}
	}
	return up, nil
}

// CancelUpload deletes the session synchronously. A refusal (distribution
// wants the delete action; GHCR answers 405) is not a push failure: the
// session is left to expire and the evidence says so.
func (s *Session) CancelUpload(ctx context.Context, up *Upload) {
	if up == nil {
		return
	}
	up.Cancel.Tried = true
	if up.location == nil {
		up.Cancel.NoLocation = true
		return
	}
	req := request{method: http.MethodDelete, url: up.location}
	var r *response
	var err error
	if sameOrigin(up.location, s.c.baseURL(s.ref.Host)) {
		r, err = s.do(ctx, req)
		if err == nil && r.Status == http.StatusUnauthorized && s.method == AuthBearer {
			// distribution wants the delete action to cancel an upload, and a
			// push token does not carry it. Ask for it in a token of its
			// own (registries grant only what is allowed) rather than
			// widening the push check's first, exact scope.
			r, err = s.c.NewSession(s.ref, s.cred, "delete").do(ctx, req)
		}
	} else {
		// Never send the registry's credentials to another host.
		r, err = s.c.exchange(ctx, req)
	}
	if err != nil {
		up.Cancel.NoAnswer = true
		return
	}
	up.Cancel.Status, up.Cancel.Cancelled = r.Status, r.Status >= 200 && r.Status < 300
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// uploadFailure names a refused upload. A denial is 401 (often with
// error="insufficient_scope") or 403 DENIED, depending on the registry.
func (s *Session) uploadFailure(r *response) (f *Failure) {
	defer func() {
		if f.answered(r) != nil {
			f.Step = report.StepUpload
		}
	}()
	te := registryError(r)
	ev := responseEvidence(r)
	ev["requestedScope"] = s.Scopes()
	if s.token != nil {
		ev["granted"] = s.token.GrantEvidence()
	}
	repo := s.ref.Repository
	denied := r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden ||
		hasCode(te, transport.DeniedErrorCode) || hasCode(te, transport.UnauthorizedErrorCode)
	switch {
	case r.Status == http.StatusTooManyRequests || hasCode(te, transport.TooManyRequestsErrorCode):
		return rateLimited(s.fault(report.CauseRateLimited), r)
	case denied && s.cred.Anonymous():
		return &Failure{Reason: report.ReasonAnonymousPushDenied, Evidence: ev,
			Fault: s.fault(report.CauseUnauthorized)}
	case denied && r.Status == http.StatusUnauthorized && !s.verified && !insufficientScope(r.Header):
		return &Failure{Reason: report.ReasonInvalidCredentials, Evidence: ev,
			Fault: s.fault(report.CauseUnauthorized)}
	case denied:
		if granted, known := s.token.Grants(repo, "push"); known && !granted {
			ev["grantedActions"] = s.token.Actions(repo)
			f := &Failure{Reason: report.ReasonScopeNotGranted, Evidence: ev, Fault: s.fault(report.CausePushDenied)}
			f.Granted, f.GrantKnown = s.token.Actions(repo), true
			return f
		}
		return &Failure{Reason: report.ReasonForbidden, Evidence: ev,
			Fault: s.fault(report.CausePushDenied)}
	case r.Status == http.StatusNotFound || hasCode(te, transport.NameUnknownErrorCode):
		return &Failure{Reason: report.ReasonRepositoryNotFound, Evidence: ev,
			Fault: s.fault(report.CausePushNameUnknown)}
	case r.Status == http.StatusMethodNotAllowed || hasCode(te, transport.UnsupportedErrorCode):
		return &Failure{Reason: report.ReasonForbidden, Evidence: ev,
			Fault: s.fault(report.CauseReadOnly)}
	case isHTML(r) && te == nil && r.Status < 500:
		ev["pageTitle"] = pageTitle(r.Body)
		return &Failure{Reason: report.ReasonNotARegistry, Evidence: ev,
			Fault: s.fault(report.CauseHTMLPage)}
	case r.Status >= 500:
		return s.serverError(r)
	}
	return &Failure{Reason: report.ReasonServerError, Evidence: ev,
		Fault: s.fault(report.CauseUnexpectedAnswer)}
}
