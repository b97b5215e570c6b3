package probe

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fake is a configurable registry that copies the documented behaviour of
// public registries (REGISTRIES.md). Tokens are unsigned JWTs (or opaque
// strings) the fake decodes itself to authorize requests.
type fake struct {
	Basic           string              // "Basic"/"BASIC" challenge scheme instead of Bearer (ECR, Nexus)
	Users           map[string]string   // user → password
	Grants          map[string][]string // "user repo" or "* repo" (anonymous too) → actions
	Repos           map[string][]string // repo → tags
	Opaque          bool                // GHCR: opaque tokens
	TokenGETOnly    bool                // GHCR: POST to the token endpoint → 405
	AnonPushCut     bool                // Quay: anonymous push-scoped token request → body cut off
	UploadDenial    int                 // 401 (default) or 403 with DENIED
	DeleteStatus    int                 // upload DELETE answer; 204 when 0
	RateLimit       bool                // Docker Hub ratelimit-* headers on manifests
	ManifestStatus  int                 // force an answer for manifests (429, 500)
	RetryAfter      string
	TokenStatus     int // force the token endpoint's status (500)
	TokenHTML       bool
	RejectTokensV2  bool // GET /v2/ refuses every token (seed 3's false pass)
	ExtraV2Handler  http.HandlerFunc
	ManifestHandler http.HandlerFunc

	mu       sync.Mutex
	requests []string
	srv      *httptest.Server
}

func (f *fake) start(t *testing.T) *httptest.Server {
	t.Helper()
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f.srv
}

func (f *fake) host() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fake) log(r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := r.Method + " " + r.URL.Path
	if r.URL.Path == "/token" {
		line += " ?" + r.URL.RawQuery
	}
	f.requests = append(f.requests, line)
}

func (f *fake) saw(prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
}

type claims struct {
	Sub    string   `json:"sub"`
	Access []access `json:"access"`
}

type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

func (f *fake) mint(c claims) string {
	b, _ := json.Marshal(c)
	p := base64.RawURLEncoding.EncodeToString(b)
	if f.Opaque {
		return "gho_" + p
	}
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + p + ".c2ln"
}

func (f *fake) parse(tok string) (claims, bool) {
	var p string
	if f.Opaque {
		var ok bool
		if p, ok = strings.CutPrefix(tok, "gho_"); !ok {
			return claims{}, false
		}
	} else {
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			return claims{}, false
		}
		p = parts[1]
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return claims{}, false
	}
	var c claims
	return c, json.Unmarshal(b, &c) == nil
}

// allowed is what user may do on repo.
func (f *fake) allowed(user, repo string) []string {
	if a, ok := f.Grants[user+" "+repo]; ok && user != "" {
		return a
	}
	return f.Grants["* "+repo]
}

// who authenticates a request: the user, whether it is valid, whether
// anything was presented.
func (f *fake) basicUser(r *http.Request) (user string, ok, presented bool) {
	u, p, has := r.BasicAuth()
	if !has {
		return "", false, false
	}
	return u, f.Users[u] == p && p != "", true
}

func (f *fake) challenge(scope, errCode string) string {
	if f.Basic != "" {
		return f.Basic + ` realm="fake"`
	}
	c := fmt.Sprintf(`Bearer realm="%s/token",service="fake"`, f.srv.URL)
	if scope != "" {
		c += fmt.Sprintf(`,scope="%s"`, scope)
	}
	if errCode != "" {
		c += fmt.Sprintf(`,error="%s"`, errCode)
	}
	return c
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}

// can reports whether the request may do action on repo.
func (f *fake) can(r *http.Request, repo, action string) (bool, bool) {
	auth := r.Header.Get("Authorization")
	if f.Basic != "" {
		user, ok, presented := f.basicUser(r)
		if presented && !ok {
			return false, true
		}
		return contains(f.allowed(user, repo), action), presented
	}
	tok, isBearer := strings.CutPrefix(auth, "Bearer ")
	if !isBearer {
		return false, false // a bearer registry wants a token, even for public pulls
	}
	c, ok := f.parse(tok)
	if !ok {
		return false, true
	}
	for _, a := range c.Access {
		if a.Name == repo && contains(a.Actions, action) {
			return true, true
		}
	}
	return false, true
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x || v == "*" {
			return true
		}
	}
	return false
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.log(r)
	switch {
	case r.URL.Path == "/v2/" || r.URL.Path == "/v2":
		if f.ExtraV2Handler != nil {
			f.ExtraV2Handler(w, r)
			return
		}
		f.serveV2(w, r)
	case r.URL.Path == "/token":
		f.serveToken(w, r)
	case strings.Contains(r.URL.Path, "/manifests/"):
		if f.ManifestHandler != nil {
			f.ManifestHandler(w, r)
			return
		}
		f.serveManifest(w, r)
	case strings.Contains(r.URL.Path, "/blobs/uploads/"):
		f.serveUpload(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fake) serveV2(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	auth := r.Header.Get("Authorization")
	if f.Basic != "" {
		if _, ok, _ := f.basicUser(r); ok {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "{}")
			return
		}
		w.Header().Set("WWW-Authenticate", f.challenge("", ""))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, "Not Authorized\n")
		return
	}
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok && !f.RejectTokensV2 {
		if _, valid := f.parse(tok); valid {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "{}")
			return
		}
	}
	w.Header().Set("WWW-Authenticate", f.challenge("", ""))
	writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
}

func (f *fake) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && f.TokenGETOnly {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if f.TokenStatus != 0 {
		w.WriteHeader(f.TokenStatus)
		fmt.Fprint(w, "upstream failure")
		return
	}
	if f.TokenHTML {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><head><title>Sign in</title></head><body>login</body></html>")
		return
	}
	_ = r.ParseForm()
	var user, pass string
	presented := false
	if u, p, ok := r.BasicAuth(); ok {
		user, pass, presented = u, p, true
	} else if r.Method == http.MethodPost && r.PostForm.Get("grant_type") == "password" {
		user, pass, presented = r.PostForm.Get("username"), r.PostForm.Get("password"), true
	}
	if presented && (f.Users[user] != pass || pass == "") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"details":"incorrect username or password"}`)
		return
	}
	scopes := r.Form["scope"]
	if r.Method == http.MethodPost {
		scopes = strings.Fields(r.PostForm.Get("scope"))
	}
	var c claims
	c.Sub = user
	pushAsked := false
	for _, sc := range scopes {
		parts := strings.Split(sc, ":")
		if len(parts) != 3 {
			continue
		}
		var granted []string
		for _, a := range strings.Split(parts[2], ",") {
			if a == "push" {
				pushAsked = true
			}
			if contains(f.allowed(user, parts[1]), a) {
				granted = append(granted, a)
			}
		}
		// Like Docker Hub, a token is issued whatever was granted.
		c.Access = append(c.Access, access{Type: "repository", Name: parts[1], Actions: granted})
	}
	if f.AnonPushCut && !presented && pushAsked {
		// Quay: the anonymous push-scoped request gets a cut-off body.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "400")
		fmt.Fprint(w, `{"token":"`)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": f.mint(c), "access_token": f.mint(c), "expires_in": 300})
}

const testManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[]}`

func manifestDigest() string {
	s := sha256.Sum256([]byte(testManifest))
	return "sha256:" + hex.EncodeToString(s[:])
}

func (f *fake) serveManifest(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v2/")
	repo, ref, _ := strings.Cut(path, "/manifests/")
	if f.RateLimit {
		w.Header().Set("ratelimit-limit", "100;w=21600")
		w.Header().Set("ratelimit-remaining", "99;w=21600")
	}
	if f.ManifestStatus != 0 {
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := "TOOMANYREQUESTS"
		if f.ManifestStatus >= 500 {
			code = "UNKNOWN"
		}
		writeErr(w, f.ManifestStatus, code, "forced")
		return
	}
	ok, presented := f.can(r, repo, "pull")
	if !ok {
		errCode := ""
		if presented && f.Basic == "" {
			errCode = "insufficient_scope"
		}
		w.Header().Set("WWW-Authenticate", f.challenge("repository:"+repo+":pull", errCode))
		writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	tags, exists := f.Repos[repo]
	if !exists {
		writeErr(w, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry")
		return
	}
	if !contains(tags, ref) && ref != manifestDigest() {
		writeErr(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown")
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	w.Header().Set("Docker-Content-Digest", manifestDigest())
	w.Header().Set("Content-Length", fmt.Sprint(len(testManifest)))
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprint(w, testManifest)
}

func (f *fake) serveUpload(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v2/")
	repo, _, _ := strings.Cut(path, "/blobs/uploads/")
	switch r.Method {
	case http.MethodPost:
		ok, _ := f.can(r, repo, "push")
		if !ok {
			if f.UploadDenial == http.StatusForbidden {
				writeErr(w, http.StatusForbidden, "DENIED", "requested access to the resource is denied")
				return
			}
			w.Header().Set("WWW-Authenticate", f.challenge("repository:"+repo+":pull,push", "insufficient_scope"))
			writeErr(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
			return
		}
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/1234-uuid?_state=c2VjcmV0LXN0YXRl")
		w.WriteHeader(http.StatusAccepted)
	case http.MethodDelete:
		if f.DeleteStatus != 0 {
			writeErr(w, f.DeleteStatus, "UNSUPPORTED", "not allowed")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		// regcheck must never PUT, PATCH or mount.
		w.WriteHeader(http.StatusTeapot)
	}
}
