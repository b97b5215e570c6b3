package registry

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/regcheck/regcheck/pkg/report"
)

// fault is the typed observation of a session's failure: cause and the
// names a fix needs (what pkg/remedy words it from). what names the
// broken document of CauseUnparsable.
func (s *Session) fault(cause report.Cause, what ...string) report.Fault {
	f := s.c.fault(cause, s.ref.Host)
	f.Registry, f.Repository, f.CredentialKey = s.ref.Registry, s.ref.Repository, s.ref.CredentialKey
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
// answers with 429 or TOOMANYREQUESTS: name is the registry as the
// message names it.
func rateLimited(fault report.Fault, name string, r *response) *Failure {
	msg := name + " is rate limiting (429)"
	if ra := r.Header.Get("Retry-After"); ra != "" {
		msg += "; retry after " + ra
		if _, err := strconv.Atoi(ra); err == nil {
			msg += "s"
		}
	}
	if r.Header.Get(heldHeader) != "" {
		msg += " (it answered 429 with Retry-After earlier: regcheck does not ask it again before then)"
	}
	fault.Cause = report.CauseRateLimited
	return (&Failure{Reason: report.ReasonRateLimited, Evidence: responseEvidence(r), Message: msg, Fault: fault}).answered(r)
}

func (s *Session) serverError(r *response) *Failure {
	return (&Failure{Reason: report.ReasonServerError, Evidence: responseEvidence(r),
		Message: s.ref.Registry + " failed with HTTP " + strconv.Itoa(r.Status) + " on " + r.Method + " " + r.URL.Path,
		Fault:   s.fault(report.CauseServerError)}).answered(r)
}

// fail scrubs a failure of anything the server may have echoed back from
// the session's secrets.
func (s *Session) fail(f *Failure) *Failure {
	if f == nil {
		return nil
	}
	f.Message = s.scrub(f.Message)
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
		Message: s.ref.Registry + " says the ECR authorization token from " + s.cred.String() + " has expired (403; ECR logins last 12 hours)",
		Fault:   s.fault(report.CauseTokenExpiredECR)}).answered(r)
}
