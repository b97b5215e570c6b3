package registry

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// Session talks to one repository with one credential, asking for one set
// of actions. It is used by one goroutine at a time; the Client under it
// (pings, tokens, config digests) is shared.
type Session struct {
	c       *Client
	ref     imageref.Reference
	cred    credentials.Credential
	actions []string
	scopes  []string

	method   AuthMethod
	token    *Token
	tokenKey string
	verified bool
	// requestProves: the manifest request that follows Authenticate is
	// the registry's check of an unproven batched token (a scan's Head and
	// Expand), so Authenticate sends no GET /v2/ for it. Other callers
	// (auth, doctor) keep their GET /v2/ and its verifiedWith evidence.
	requestProves bool
}

// NewSession prepares a session; nothing is sent until a method is called.
// actions default to pull; a push check asks "pull", "push" so the first
// token request carries the exact scope a push needs.
func (c *Client) NewSession(ref imageref.Reference, cred credentials.Credential, actions ...string) *Session {
	if len(actions) == 0 {
		actions = []string{"pull"}
	}
	return &Session{
		c:       c,
		ref:     ref,
		cred:    cred,
		actions: actions,
		scopes:  []string{"repository:" + ref.Repository + ":" + strings.Join(actions, ",")},
		method:  AuthAnonymous,
	}
}

// NewLoginSession is a session for ref's registry alone, as docker login
// opens one: a token asked with no scope, proven by GET /v2/. It shows
// the credentials are accepted, not that any repository may be pulled.
func (c *Client) NewLoginSession(ref imageref.Reference, cred credentials.Credential) *Session {
	return &Session{c: c, ref: ref, cred: cred, method: AuthAnonymous}
}

// Reference is the session's image reference.
func (s *Session) Reference() imageref.Reference { return s.ref }

// Source names the session's credential ("anonymous" when none).
func (s *Session) Source() string {
	if s.cred.Anonymous() {
		return credentials.SourceAnonymous
	}
	return s.cred.Source
}

// Anonymous reports whether the session presents no credential.
func (s *Session) Anonymous() bool { return s.cred.Anonymous() }

// Token is the bearer token in use, if any.
func (s *Session) Token() *Token { return s.token }

// Scopes are the scopes the session asks for.
func (s *Session) Scopes() []string { return append([]string(nil), s.scopes...) }

func (s *Session) wantsPush() bool {
	for _, a := range s.actions {
		if a == "push" {
			return true
		}
	}
	return false
}

// AuthResult is how a session authenticated.
type AuthResult struct {
	Method         AuthMethod
	Source         string
	Challenge      string // the challenge answered
	RequestedScope []string
	Token          *Token // for bearer
	Verified       bool   // an authenticated GET /v2/ answered 200
	// Unchallenged: credentials were at hand but GET /v2/ asked for none
	// (remedy.Unchallenged words it).
	Unchallenged bool
	Ping         *PingResult
}

// Evidence is the authentication as result evidence (Unchallenged is the
// caller's to word: remedy.Unchallenged).
func (a *AuthResult) Evidence() report.Evidence {
	ev := report.Evidence{"method": string(a.Method)}
	if a.Challenge != "" {
		ev["challenge"] = a.Challenge
	}
	if a.Token != nil {
		ev["requestedScope"] = a.RequestedScope
		ev["tokenEndpoint"] = a.Token.Realm
		ev["tokenRequest"] = string(a.Token.Method)
		ev["granted"] = a.Token.GrantEvidence()
		ev["tokenKind"] = string(a.Token.Kind)
		if a.Token.Attempts > 1 {
			ev["tokenAttempts"] = a.Token.Attempts
		}
	}
	if a.Verified {
		ev["verifiedWith"] = "GET /v2/ answered 200 with the " + a.Method + " credentials"
	}
	return ev
}

// Authenticate walks the registry's auth flow for this session: the /v2/
// challenge, a token exchange for a Bearer challenge (with the session's
// exact scope) and, for presented credentials, a real authenticated
// GET /v2/ — a 401 with a Bearer challenge is never taken as proof that
// basic credentials work.
func (s *Session) Authenticate(ctx context.Context) (*AuthResult, error) {
	ping, err := s.c.Ping(ctx, s.ref.Host)
	if err != nil {
		return nil, err
	}
	res := &AuthResult{Source: s.Source(), RequestedScope: s.Scopes(), Ping: ping}
	ch, ok := pickChallenge(ping.Challenges)
	if ok {
		res.Challenge = ch.String()
	}
	switch {
	case s.cred.RegistryToken != "":
		s.method = AuthBearer
		s.token = newToken(s.cred.RegistryToken, 0)
		s.token.Method = TokenFromConfig
		s.token.Scopes = s.Scopes()
	case ok && ch.Scheme == "bearer":
		tok, err := s.fetchToken(ctx, ch)
		if err != nil {
			return nil, err
		}
		s.method, s.token = AuthBearer, tok
	case ok && ch.Scheme == "basic" && s.cred.Username != "":
		s.method = AuthBasic
	case !s.cred.Anonymous() && !ok:
		res.Unchallenged = true
	}
	res.Method, res.Token = s.method, s.token
	if s.cred.Anonymous() || s.method == AuthAnonymous {
		return res, nil
	}
	verifiedKey := verifiedKey(s.ref.Host, s.method, s.cred)
	_, verified := s.c.verified.Load(verifiedKey)
	switch {
	case verified:
		s.verified = true
	case s.requestProves && s.token != nil && s.token.unproven:
		// The token service granted this repository's pull to the
		// credential in a batched token; the manifest request the
		// session makes with it next is the registry's check (a 401
		// there is InvalidCredentials too). A GET /v2/ per session would
		// add a round trip before the first manifest requests.
	default:
		if err := s.verifyOnce(ctx, verifiedKey); err != nil {
			return nil, err
		}
	}
	res.Verified = s.verified
	return res, nil
}

// verifiedKey files a credential the registry at host accepted with method.
func verifiedKey(host string, method AuthMethod, cred credentials.Credential) string {
	return host + "\x00" + string(method) + "\x00" + cred.Fingerprint()
}

// verifyInFlight is one GET /v2/ proof under way; ok once it answered 200.
type verifyInFlight struct {
	done chan struct{}
	ok   bool
}

// verifyOnce is verify for the credential filed under key, shared by the
// sessions that need it at the same time (a scan's HEADs start together,
// as do --newer's tags lists): the first sends the GET /v2/ and files the
// credential as verified; the others wait for it and are verified by its
// 200, not each by a GET /v2/ of its own. After a refusal (or a wait its
// context ended) each sends its own, so each reports what it met, as
// before. Hand-written: x/sync/singleflight would hand every waiter the
// first session's failure, with that session's evidence.
func (s *Session) verifyOnce(ctx context.Context, key string) error {
	mine := &verifyInFlight{done: make(chan struct{})}
	if v, busy := s.c.verifying.LoadOrStore(key, mine); busy {
		first := v.(*verifyInFlight)
		select {
		case <-first.done:
			if first.ok {
				s.verified = true
				return nil
			}
		case <-ctx.Done():
		}
		return s.verifyAndFile(ctx, key)
	}
	defer func() {
		s.c.verifying.Delete(key)
		close(mine.done)
	}()
	// A proof that ended between the caller's look and this one.
	if _, ok := s.c.verified.Load(key); ok {
		s.verified, mine.ok = true, true
		return nil
	}
	err := s.verifyAndFile(ctx, key)
	mine.ok = s.verified
	return err
}

// verifyAndFile is verify, filing the credential as verified on a 200.
func (s *Session) verifyAndFile(ctx context.Context, key string) error {
	if err := s.verify(ctx); err != nil {
		return err
	}
	if s.verified {
		s.c.verified.Store(key, true)
	}
	return nil
}

// verify sends an authenticated GET /v2/: the credentials (or the token
// issued for them) must be accepted by the registry itself.
func (s *Session) verify(ctx context.Context) error {
	r, err := s.c.exchange(ctx, request{method: http.MethodGet, url: s.c.baseURL(s.ref.Host), header: s.authHeader()})
	if err == nil && s.refusedBatchedToken(r) {
		if err := s.unbatch(ctx); err != nil {
			return err
		}
		r, err = s.c.exchange(ctx, request{method: http.MethodGet, url: s.c.baseURL(s.ref.Host), header: s.authHeader()})
	}
	if err != nil {
		return err
	}
	ev := responseEvidence(r)
	ev["method"] = string(s.method)
	switch {
	case r.Status == http.StatusOK:
		s.verified = true
	case r.Status == http.StatusUnauthorized:
		return s.fail(s.login((&Failure{Reason: report.ReasonInvalidCredentials, Evidence: ev,
			Fault: s.fault(report.CauseUnauthorized)}).answered(r)))
	case ecrTokenExpired(r):
		return s.fail(s.login(s.ecrExpired(r)))
	case r.Status == http.StatusForbidden:
		return s.fail(s.login((&Failure{Reason: report.ReasonForbidden, Evidence: ev,
			Fault: s.fault(report.CauseV2Forbidden)}).answered(r)))
	case r.Status == http.StatusTooManyRequests:
		return s.login(rateLimited(s.fault(report.CauseRateLimited), r))
	case r.Status >= 500:
		return s.login(s.serverError(r))
	}
	return nil
}

// authHeader is the Authorization header for the next request.
func (s *Session) authHeader() http.Header {
	h := http.Header{}
	switch {
	case s.token != nil:
		h.Set("Authorization", "Bearer "+s.token.value)
	case s.method == AuthBasic && s.cred.Username != "":
		h.Set("Authorization", "Basic "+basicAuth(s.cred.Username, s.cred.Password))
	}
	return h
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// do sends r with the session's auth and answers one fresh challenge: a
// Bearer challenge when no token is held (or it was rejected as invalid),
// or a Basic one when credentials were not yet sent.
func (s *Session) do(ctx context.Context, r request) (*response, error) {
	extra := r.header
	send := func() (*response, error) {
		h := s.authHeader()
		for k, vs := range extra {
			h[k] = vs
		}
		r.header = h
		return s.c.exchange(ctx, r)
	}
	resp, err := send()
	if err == nil && s.refusedBatchedToken(resp) {
		if err := s.unbatch(ctx); err != nil {
			return nil, err
		}
		resp, err = send()
	}
	if err != nil || resp.Status != http.StatusUnauthorized {
		return resp, err
	}
	chs := ParseChallenges(resp.Header.Values("WWW-Authenticate")...)
	ch, ok := pickChallenge(chs)
	switch {
	case !ok:
		return resp, nil
	case ch.Scheme == "bearer" && s.cred.RegistryToken == "" && (s.token == nil || ch.Params["error"] == "invalid_token"):
		if s.token != nil {
			s.c.tokens.drop(s.tokenKey)
		}
		tok, err := s.fetchToken(ctx, ch)
		if err != nil {
			return nil, err
		}
		s.method, s.token = AuthBearer, tok
	case ch.Scheme == "basic" && s.method != AuthBasic && s.cred.Username != "":
		s.method = AuthBasic
	default:
		return resp, nil
	}
	return send()
}

// refusedBatchedToken reports a front end refusing the size of the header
// a token prefetched for many repositories makes (nginx answers 400
// "Request Header Or Cookie Too Large" past 8 KiB by default).
func (s *Session) refusedBatchedToken(r *response) bool {
	return s.token != nil && s.token.batched && headerTooLarge(r.Status)
}

// unbatch trades a batched token for the session's own, asked with its
// exact scope, and forgets the batched one for this repository.
func (s *Session) unbatch(ctx context.Context) error {
	s.c.tokens.drop(s.tokenKey)
	s.c.trace.printf("%s refused the header of a token batched for many repositories; asking one for %s alone", s.ref.Host, s.ref.Repository)
	ping, err := s.c.Ping(ctx, s.ref.Host)
	if err != nil {
		return err
	}
	ch, ok := pickChallenge(ping.Challenges)
	if !ok || ch.Scheme != "bearer" {
		return s.fail(&Failure{Reason: report.ReasonTokenEndpointError,
			Fault: s.fault(report.CauseChallengeDropped)})
	}
	tok, err := s.fetchToken(ctx, ch)
	if err != nil {
		return err
	}
	s.token = tok
	return nil
}

// scrub removes the credential's secrets from text a server sent back,
// in case it echoes them.
func (s *Session) scrub(text string) string {
	for _, secret := range []string{s.cred.Password, s.cred.IdentityToken, s.cred.RegistryToken} {
		if len(secret) >= 4 {
			text = strings.ReplaceAll(text, secret, "REDACTED")
		}
	}
	if s.token != nil && len(s.token.value) >= 4 {
		text = strings.ReplaceAll(text, s.token.value, "REDACTED")
	}
	return text
}

// login marks f as met on GET /v2/ with the session's credentials.
func (s *Session) login(f *Failure) *Failure {
	f.Step = report.StepLogin
	return f
}
