package registry

import (
	"bytes"
	"net/http"

	"github.com/regcheck/regcheck/pkg/report"
)

// fault is the typed observation of a session's failure: cause and the
// names a fix needs (what pkg/remedy words it from). what names the
// broken document of CauseUnparsable.
func (s *Session) fault(cause report.Cause, what ...string) report.Fault {
	f := s.c.fault(cause, s.ref.Host)
	f.Registry, f.Repository, f.CredentialKey = s.ref.Registry, s.ref.Repository, s.ref.CredentialKey
	f.Reference, f.Identifier = s.ref.String(), s.ref.Identifier()
	f.Credential, f.Anonymous, f.Bearer, f.Push = s.cred.String(), s.cred.Anonymous(), s.method == AuthBearer, s.wantsPush()
	f.Scopes = append([]string(nil), s.scopes...)
	if len(what) > 0 {
		f.What = what[0]
	}
	return f
}

// fault is the typed observation of a failure with host, before any
// repository is in play (GET /v2/, the transport, TLS).
func (c *Client) fault(cause report.Cause, host string) report.Fault {
	return report.Fault{Cause: cause, Host: host, PlainHTTP: c.opts.PlainHTTP}
}

// rateLimited is the one RateLimited failure, for any request a registry
// answers with 429 or TOOMANYREQUESTS.
func rateLimited(fault report.Fault, r *response) *Failure {
	fault.Cause = report.CauseRateLimited
	return (&Failure{Reason: report.ReasonRateLimited, Evidence: responseEvidence(r), Fault: fault}).answered(r)
}

func (s *Session) serverError(r *response) *Failure {
	return (&Failure{Reason: report.ReasonServerError, Evidence: responseEvidence(r),
		Fault: s.fault(report.CauseServerError)}).answered(r)
}

// fail scrubs a failure of anything the server may have echoed back from
// the session's secrets: the facts the message is worded from and the
// evidence.
func (s *Session) fail(f *Failure) *Failure {
	if f == nil {
		return nil
	}
	for _, p := range []*string{&f.RegistryMessage, &f.PageTitle, &f.ParseError, &f.URL, &f.ErrText, &f.ContentType, &f.Why} {
		*p = s.scrub(*p)
	}
	for k, v := range f.Evidence {
		switch x := v.(type) {
		case string:
			f.Evidence[k] = s.scrub(x)
		case []string:
			out := make([]string, len(x))
			for i := range x {
				out[i] = s.scrub(x[i])
			}
			f.Evidence[k] = out
		}
	}
	return f
}

// ecrTokenExpired reports ECR's answer to a login whose 12-hour token has
// run out: 403 with "denied: Your authorization token has expired.
// Reauthenticate and try again." (../shared/REGISTRIES.md). ECR gives it
// no error code of its own (DENIED, or a text body), so its words are the
// only sign; the credentials were refused, not short of a permission.
func ecrTokenExpired(r *response) bool {
	return r != nil && r.Status == http.StatusForbidden && bytes.Contains(r.Body, []byte("Your authorization token has expired"))
}

// ecrExpired is the InvalidCredentials failure of an expired ECR login.
func (s *Session) ecrExpired(r *response) *Failure {
	return (&Failure{Reason: report.ReasonInvalidCredentials, Evidence: responseEvidence(r),
		Fault: s.fault(report.CauseTokenExpiredECR)}).answered(r)
}
