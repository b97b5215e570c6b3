package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// fetchToken exchanges the session's credential for a token at the realm
// a Bearer challenge names, asking the session's exact scopes: a GET with
// Basic (or nothing, anonymously), the OAuth2 POST with grant_type=
// refresh_token for an identity token, and grant_type=password when the
// GET is refused. Tokens are cached per realm, scopes and credential.
func (s *Session) fetchToken(ctx context.Context, ch Challenge) (*Token, error) {
	realm, service := ch.Params["realm"], ch.Params["service"]
	u, err := url.Parse(realm)
	if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, s.fail(&Failure{Reason: report.ReasonTokenEndpointError,
			Fault:    s.fault(report.CauseChallengeNoRealm),
			Evidence: report.Evidence{"challenge": ch.String()}})
	}
	key := tokenKey(realm, service, s.scopes, s.cred.Fingerprint())
	if t := s.c.tokens.get(key); t != nil {
		s.tokenKey = key
		return t, nil
	}
	if !s.cred.Anonymous() && u.Scheme == "http" && u.Hostname() != hostOnly(s.ref.Host) {
		// Credentials in clear text to a third host: refuse, and say so.
		f := &Failure{Reason: report.ReasonTokenEndpointError,
			Fault:    s.fault(report.CauseInsecureRealm),
			Evidence: report.Evidence{"challenge": ch.String()}}
		f.URL = redactURL(u)
		return nil, f
	}
	var r *response
	method := TokenGET
	switch {
	case s.cred.IdentityToken != "":
		method = TokenPOSTRefresh
		r, err = s.postToken(ctx, u, service, "refresh_token")
	default:
		r, err = s.getToken(ctx, u, service)
		if err == nil && (r.Status == http.StatusMethodNotAllowed || r.Status == http.StatusNotFound) && s.cred.Username != "" {
			method = TokenPOSTPassword
			r, err = s.postToken(ctx, u, service, "password")
		}
	}
	if err != nil {
		return nil, err
	}
	value, expiresIn, perr := parseTokenResponse(r.Body)
	if f := s.tokenFailure(u, ch, r, perr); f != nil {
		return nil, s.fail(f)
	}
	t := newToken(value, expiresIn)
	t.Realm, t.Service, t.Scopes, t.Method = redactURL(u), service, s.Scopes(), method
	t.Attempts = r.Attempts.attempts
	s.c.trace.printf("token from %s (%s, %s): requested scope %s, granted %s, expires in %s",
		t.Realm, method, s.Source(), strings.Join(t.Scopes, " "), grantString(t), expiresIn)
	s.c.tokens.put(key, t)
	s.tokenKey = key
	return t, nil
}

func hostOnly(hostport string) string {
	if u, err := url.Parse("//" + hostport); err == nil {
		return u.Hostname()
	}
	return hostport
}

func grantString(t *Token) string {
	g := t.GrantEvidence()
	if s, ok := g.(string); ok {
		return s
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func (s *Session) getToken(ctx context.Context, realm *url.URL, service string) (*response, error) {
	u := *realm
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	for _, sc := range s.scopes {
		q.Add("scope", sc)
	}
	u.RawQuery = q.Encode()
	h := http.Header{"Accept": {"application/json"}}
	if s.cred.Username != "" {
		h.Set("Authorization", "Basic "+basicAuth(s.cred.Username, s.cred.Password))
	}
	return s.c.exchange(ctx, request{method: http.MethodGet, url: &u, header: h})
}

// postToken is the OAuth2 form clients use for identity tokens.
func (s *Session) postToken(ctx context.Context, realm *url.URL, service, grant string) (*response, error) {
	form := url.Values{
		"grant_type": {grant},
		"service":    {service},
		"client_id":  {"regcheck"},
	}
	if len(s.scopes) > 0 {
		form.Set("scope", strings.Join(s.scopes, " "))
	}
	if grant == "refresh_token" {
		form.Set("refresh_token", s.cred.IdentityToken)
	} else {
		form.Set("username", s.cred.Username)
		form.Set("password", s.cred.Password)
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	// The OAuth2 token POST changes nothing on the server: retrying it is safe.
	return s.c.exchange(ctx, request{method: http.MethodPost, url: realm, header: h, body: []byte(form.Encode()), retry: true})
}

// tokenFailure names a token endpoint answer that gave no usable token.
// An anonymous push-scoped request that is refused or broken is
// AnonymousPushDenied whatever the breakage: that is seed 1's
// "unexpected EOF" — there are no credentials for the host.
func (s *Session) tokenFailure(realm *url.URL, ch Challenge, r *response, perr error) (f *Failure) {
	// A token that parses is a token, whatever its Content-Type says:
	// Docker, containerd and oras never look at it.
	if r.Status == http.StatusOK && r.BodyErr == nil && perr == nil {
		return nil
	}
	defer func() {
		f.answered(r)
		f.Step, f.URL = report.StepToken, redactURL(realm)
		switch {
		case r.BodyErr != nil:
			f.BodyProblem = bodyProblem(r.BodyErr)
		case isHTML(r):
			f.HTML = true
		case perr != nil && r.Status == http.StatusOK:
			f.ParseError = perr.Error()
		}
	}()
	ev := responseEvidence(r)
	ev["tokenEndpoint"] = redactURL(realm)
	ev["requestedScope"] = s.Scopes()
	ev["challenge"] = ch.String()
	switch {
	case r.BodyErr != nil:
	case isHTML(r):
		if t := pageTitle(r.Body); t != "" {
			ev["pageTitle"] = t
		}
	case perr != nil && r.Status == http.StatusOK:
		ev["body"] = perr.Error()
	}
	if d := tokenDetails(r.Body); d != "" {
		ev["registryMessage"] = d
	}
	anon := s.cred.Anonymous()
	switch {
	case r.Status == http.StatusTooManyRequests:
		return rateLimited(s.fault(report.CauseRateLimited), r)
	case anon && s.wantsPush():
		return &Failure{Reason: report.ReasonAnonymousPushDenied, Evidence: ev, Fault: s.fault(report.CauseUnauthorized)}
	case (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden) && anon:
		return &Failure{Reason: report.ReasonCredentialsRequired, Evidence: ev, Fault: s.fault(report.CauseUnauthorized)}
	case r.Status == http.StatusUnauthorized:
		return &Failure{Reason: report.ReasonInvalidCredentials, Evidence: ev, Fault: s.fault(report.CauseUnauthorized)}
	case r.Status == http.StatusForbidden:
		return &Failure{Reason: report.ReasonForbidden, Evidence: ev, Fault: s.fault(report.CauseTokenForbidden)}
	default:
		return &Failure{Reason: report.ReasonTokenEndpointError, Evidence: ev, Fault: s.fault(report.CauseTokenService)}
	}
}

// tokenDetails reads the short error text token endpoints send
// ({"details": ...} on Docker Hub, OCI error bodies elsewhere).
func tokenDetails(body []byte) string {
	var d struct {
		Details string `json:"details"`
		Error   string `json:"error"`
		Errors  []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &d) != nil {
		return ""
	}
	msg := d.Details
	if msg == "" && len(d.Errors) > 0 {
		msg = strings.TrimSpace(d.Errors[0].Code + ": " + d.Errors[0].Message)
	}
	if msg == "" {
		msg = d.Error
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}
