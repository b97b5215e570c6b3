package env

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is an account known to a registry. Pull and Push are repository
// patterns: "*" matches every repository, anything else is a path.Match glob
// (so "team/*" matches "team/app" but not "team/a/b"). A push grant implies
// pull, as for a Harbor developer or a Docker Hub collaborator.
// Pull and Push are only enforced in AuthToken mode.
type User struct {
	Password string
	Pull     []string
	Push     []string
}

// TokenServerOptions configure a Docker-style token server.
type TokenServerOptions struct {
	// Service is the audience written into tokens; the registry must expect it.
	Service string
	// Issuer is the iss claim; the registry must trust it.
	Issuer string
	// TTL is the token lifetime announced as expires_in (default 300s, as Docker Hub).
	TTL   time.Duration
	Users map[string]User
	// Public lists repository patterns anonymous clients may pull.
	Public []string
}

// TokenServer implements the Docker registry token protocol: GET with optional
// Basic credentials, and the OAuth2 POST form (password and refresh_token
// grants). Tokens are ES256 JWTs carrying the signing certificate in x5c, which
// distribution verifies against the root bundle from RootCertPEM.
type TokenServer struct {
	opts   TokenServerOptions
	signer *CA

	mu      sync.Mutex
	refresh map[string]string // refresh token -> user name
}

// TokenAccess is one entry of a token's access claim.
type TokenAccess struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// TokenClaims are the claims the token server writes.
type TokenClaims struct {
	Issuer    string        `json:"iss"`
	Subject   string        `json:"sub"`
	Audience  string        `json:"aud"`
	ExpiresAt int64         `json:"exp"`
	NotBefore int64         `json:"nbf"`
	IssuedAt  int64         `json:"iat"`
	ID        string        `json:"jti"`
	Access    []TokenAccess `json:"access"`
}

// TokenResponse is the JSON body of a successful token request.
type TokenResponse struct {
	Token        string `json:"token"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	IssuedAt     string `json:"issued_at"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// NewTokenServer creates a token server with a fresh signing key.
func NewTokenServer(opts TokenServerOptions) (*TokenServer, error) {
	if opts.Service == "" || opts.Issuer == "" {
		return nil, fmt.Errorf("token server: service and issuer are required")
	}
	if opts.TTL <= 0 {
		opts.TTL = 300 * time.Second
	}
	signer, err := NewCA("regcheck e2e token signer")
	if err != nil {
		return nil, fmt.Errorf("token server signing key: %w", err)
	}
	return &TokenServer{opts: opts, signer: signer, refresh: map[string]string{}}, nil
}

// RootCertPEM is the certificate the registry must trust (rootcertbundle).
func (s *TokenServer) RootCertPEM() []byte { return s.signer.CertPEM }

func (s *TokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.serveGet(w, r)
	case http.MethodPost:
		s.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeTokenJSON(w, http.StatusMethodNotAllowed, map[string]string{"details": "method not allowed"})
	}
}

func (s *TokenServer) serveGet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkService(w, q.Get("service")) {
		return
	}
	user := ""
	if name, pass, ok := r.BasicAuth(); ok {
		if !s.authenticate(name, pass) {
			writeTokenJSON(w, http.StatusUnauthorized, map[string]string{"details": "incorrect username or password"})
			return
		}
		user = name
	}
	s.issue(w, user, q["scope"], user != "" && q.Get("offline_token") == "true")
}

func (s *TokenServer) servePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeTokenJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "details": "unparsable form"})
		return
	}
	f := r.PostForm
	if !s.checkService(w, f.Get("service")) {
		return
	}
	var user string
	offline := false
	switch f.Get("grant_type") {
	case "password":
		user = f.Get("username")
		if user == "" || !s.authenticate(user, f.Get("password")) {
			writeTokenJSON(w, http.StatusUnauthorized, map[string]string{"details": "incorrect username or password"})
			return
		}
		offline = f.Get("access_type") == "offline"
	case "refresh_token":
		s.mu.Lock()
		name, ok := s.refresh[f.Get("refresh_token")]
		s.mu.Unlock()
		if !ok {
			writeTokenJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_grant", "details": "invalid refresh token"})
			return
		}
		user = name
	default:
		writeTokenJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	// A refresh grant keeps its refresh token; only a password grant mints one.
	s.issue(w, user, f["scope"], offline)
}

// checkService rejects tokens asked for another audience: a client that
// echoes the wrong service would get tokens the registry refuses.
func (s *TokenServer) checkService(w http.ResponseWriter, service string) bool {
	if service != "" && service != s.opts.Service {
		writeTokenJSON(w, http.StatusBadRequest, map[string]string{"details": fmt.Sprintf("unknown service %q", service)})
		return false
	}
	return true
}

func (s *TokenServer) authenticate(name, pass string) bool {
	u, ok := s.opts.Users[name]
	return ok && subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) == 1
}

func (s *TokenServer) issue(w http.ResponseWriter, user string, scopeParams []string, offline bool) {
	now := time.Now()
	claims := TokenClaims{
		Issuer:    s.opts.Issuer,
		Subject:   user,
		Audience:  s.opts.Service,
		ExpiresAt: now.Add(s.opts.TTL).Unix(),
		NotBefore: now.Unix(),
		IssuedAt:  now.Unix(),
		ID:        tokenRandomHex(16),
		Access:    s.grant(user, scopeParams),
	}
	tok, err := s.sign(claims)
	if err != nil {
		writeTokenJSON(w, http.StatusInternalServerError, map[string]string{"details": err.Error()})
		return
	}
	resp := TokenResponse{
		Token:       tok,
		AccessToken: tok,
		ExpiresIn:   int(s.opts.TTL / time.Second),
		IssuedAt:    now.UTC().Format(time.RFC3339),
	}
	if offline {
		resp.RefreshToken = tokenRandomHex(24)
		s.mu.Lock()
		s.refresh[resp.RefreshToken] = user
		s.mu.Unlock()
	}
	writeTokenJSON(w, http.StatusOK, resp)
}

// grant answers every requested scope with what the user may do, possibly
// nothing (an empty actions list), as Harbor and Docker Hub do rather than
// refusing the whole request.
func (s *TokenServer) grant(user string, scopeParams []string) []TokenAccess {
	access := []TokenAccess{}
	index := map[string]int{}
	for _, param := range scopeParams {
		// Some clients join several scopes with spaces in one parameter.
		for _, scope := range strings.Fields(param) {
			typ, name, actions, ok := parseTokenScope(scope)
			if !ok {
				continue
			}
			key := typ + ":" + name
			i, seen := index[key]
			if !seen {
				i = len(access)
				index[key] = i
				access = append(access, TokenAccess{Type: typ, Name: name, Actions: []string{}})
			}
			for _, a := range actions {
				if s.allowed(user, typ, name, a) && !slices.Contains(access[i].Actions, a) {
					access[i].Actions = append(access[i].Actions, a)
				}
			}
		}
	}
	return access
}

func (s *TokenServer) allowed(user, typ, name, action string) bool {
	switch typ {
	case "registry":
		// The catalog is for any authenticated user.
		return user != "" && name == "catalog" && action == "*"
	case "repository":
	default:
		return false
	}
	u, known := s.opts.Users[user]
	canPush := user != "" && known && matchRepoPattern(u.Push, name)
	switch action {
	case "pull":
		if matchRepoPattern(s.opts.Public, name) {
			return true
		}
		return canPush || (user != "" && known && matchRepoPattern(u.Pull, name))
	case "push", "delete", "*":
		return canPush
	}
	return false
}

// parseTokenScope splits "repository:name:pull,push". The name may itself hold a
// colon (a registry host with a port), so the actions follow the last colon.
func parseTokenScope(scope string) (typ, name string, actions []string, ok bool) {
	first := strings.Index(scope, ":")
	last := strings.LastIndex(scope, ":")
	if first < 0 || last == first {
		return "", "", nil, false
	}
	typ, name = scope[:first], scope[first+1:last]
	for _, a := range strings.Split(scope[last+1:], ",") {
		if a != "" {
			actions = append(actions, a)
		}
	}
	return typ, name, actions, typ != "" && name != ""
}

func matchRepoPattern(patterns []string, repo string) bool {
	for _, p := range patterns {
		if p == "*" || p == repo {
			return true
		}
		if ok, err := path.Match(p, repo); err == nil && ok {
			return true
		}
	}
	return false
}

// sign builds a compact ES256 JWS by hand (it is a few lines) rather than
// adding a JWT dependency; x5c lets distribution find the key via its root bundle.
func (s *TokenServer) sign(claims TokenClaims) (string, error) {
	header := map[string]any{
		"typ": "JWT",
		"alg": "ES256",
		"x5c": []string{base64.StdEncoding.EncodeToString(s.signer.Cert.Raw)},
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("encoding token header: %w", err)
	}
	cj, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(hj) + "." + enc.EncodeToString(cj)
	sum := sha256.Sum256([]byte(signingInput))
	r, sv, err := ecdsa.Sign(rand.Reader, s.signer.Key, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	// JWS ES256 signatures are R||S, each left-padded to 32 bytes.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return signingInput + "." + enc.EncodeToString(sig), nil
}

// DecodeTokenClaims returns the claims of a JWT without verifying it, so
// tests can check which access the token server granted.
func DecodeTokenClaims(token string) (*TokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("decoding token: want 3 parts, got %d", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decoding token payload: %w", err)
	}
	var c TokenClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("parsing token claims: %w", err)
	}
	return &c, nil
}

// Actions returns the actions the claims grant on a repository.
func (c *TokenClaims) Actions(repo string) []string {
	var out []string
	for _, a := range c.Access {
		if a.Type == "repository" && a.Name == repo {
			out = append(out, a.Actions...)
		}
	}
	return out
}

func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is already sent; an encoding error can only mean a gone client.
	_ = json.NewEncoder(w).Encode(v)
}

func tokenRandomHex(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
