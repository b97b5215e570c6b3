package registry

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
)

// Token is a bearer token and what is known about it. The value is
// unexported and never printed.
type Token struct {
	value     string
	Kind      TokenKind
	Granted   []Access // from the JWT "access" claim; nil when unknown
	ExpiresIn time.Duration
	Realm     string
	Service   string
	Scopes    []string
	Method    TokenRequest // how it was obtained
	Attempts  int          // token requests it took; more than 1 when retried
	expiry    time.Time
	batched   bool // prefetched for many repositories (PrefetchPull)
	// unproven: batched and handed out without a GET /v2/ (small enough
	// for any front end); the first request made with it is the proof.
	unproven bool
}

// TokenKind is what a token's value is: a JWT whose claims say what it
// grants, or opaque.
type TokenKind string

// Token kinds.
const (
	TokenJWT    TokenKind = "jwt"
	TokenOpaque TokenKind = "opaque"
)

// TokenRequest is how a token was obtained. Its value is what evidence
// shows (tokenRequest).
type TokenRequest string

// Token requests.
const (
	TokenGET          TokenRequest = "GET"                // the token endpoint's GET, with Basic credentials or none
	TokenPOSTRefresh  TokenRequest = "POST refresh_token" // OAuth2 POST with an identity token
	TokenPOSTPassword TokenRequest = "POST password"      // OAuth2 POST with username and password
	TokenFromConfig   TokenRequest = "registrytoken"      // presented as is, from a config's registrytoken
)

// AuthMethod is how a session authenticates. Its value is what evidence
// shows (method).
type AuthMethod string

// Auth methods.
const (
	AuthAnonymous AuthMethod = "anonymous"
	AuthBasic     AuthMethod = "basic"
	AuthBearer    AuthMethod = "bearer"
)

// Access is one entry of a token's "access" claim.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Known reports whether the token says what it grants (a JWT with access).
func (t *Token) Known() bool { return t != nil && t.Kind == TokenJWT && t.Granted != nil }

// Actions are the actions granted on repository, when Known.
func (t *Token) Actions(repository string) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, a := range t.Granted {
		if a.Type == "repository" && a.Name == repository {
			out = append(out, a.Actions...)
		}
	}
	return out
}

// Grants reports whether the token grants action on repository ("*"
// included), and whether that is known at all.
func (t *Token) Grants(repository, action string) (granted, known bool) {
	if !t.Known() {
		return false, false
	}
	for _, a := range t.Actions(repository) {
		if a == action || a == "*" {
			return true, true
		}
	}
	return false, true
}

// GrantEvidence describes the grant for evidence: actions per repository,
// or that the token is opaque.
func (t *Token) GrantEvidence() any {
	if t == nil {
		return nil
	}
	if !t.Known() {
		if t.Kind == TokenJWT {
			return "jwt without an access claim, grant unknown"
		}
		return "opaque token, grant unknown"
	}
	out := map[string][]string{}
	for _, a := range t.Granted {
		key := a.Type + ":" + a.Name
		out[key] = append(out[key], a.Actions...)
	}
	return out
}

// tokenResponse is the body of a token endpoint (distribution's token
// spec and the OAuth2 form both).
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

var (
	errTokenNotJSON = errors.New("truncated or non-JSON token response")
	errTokenEmpty   = errors.New("no token in the response")
)

// parseTokenResponse reads a token endpoint body. Truncated JSON (a body
// cut short) is errTokenNotJSON, as the client sees it.
func parseTokenResponse(body []byte) (value string, expiresIn time.Duration, err error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, errTokenNotJSON
	}
	value = tr.Token
	if value == "" {
		value = tr.AccessToken
	}
	if value == "" {
		return "", 0, errTokenEmpty
	}
	// The distribution token spec: 60 seconds when unsaid.
	expiresIn = 60 * time.Second
	if tr.ExpiresIn > 0 && tr.ExpiresIn < 366*24*3600 {
		expiresIn = time.Duration(tr.ExpiresIn) * time.Second
	}
	return value, expiresIn, nil
}

// decodeJWT reads a JWT's payload without verifying it: the claims are
// evidence, not a security decision. ok is false for opaque tokens.
func decodeJWT(tok string) (access []Access, hasAccess, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, false, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, false, false
	}
	var claims struct {
		Access *[]Access `json:"access"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, false, false
	}
	if claims.Access == nil {
		return nil, false, true
	}
	if *claims.Access == nil {
		return []Access{}, true, true
	}
	return *claims.Access, true, true
}

// newToken wraps a token value with what its claims say.
func newToken(value string, expiresIn time.Duration) *Token {
	t := &Token{value: value, Kind: TokenOpaque, ExpiresIn: expiresIn}
	if access, has, ok := decodeJWT(value); ok {
		t.Kind = TokenJWT
		if has {
			t.Granted = access
		}
	}
	if expiresIn > 0 {
		t.expiry = time.Now().Add(expiresIn)
	}
	return t
}

// tokenCache holds one token per registry realm, scope set and credential.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]*Token
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]*Token{}} }

func tokenKey(realm, service string, scopes []string, fingerprint string) string {
	s := append([]string(nil), scopes...)
	sort.Strings(s)
	return realm + "\x00" + service + "\x00" + strings.Join(s, " ") + "\x00" + fingerprint
}

// get returns a cached token that is still valid for a while.
func (c *tokenCache) get(key string) *Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.m[key]
	if t == nil {
		return nil
	}
	// Leave a margin so a token does not expire mid-request.
	if !t.expiry.IsZero() && time.Until(t.expiry) < 10*time.Second {
		delete(c.m, key)
		return nil
	}
	return t
}

func (c *tokenCache) put(key string, t *Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = t
}

func (c *tokenCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
