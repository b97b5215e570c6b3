package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
)

// TestPrefetchPull: one token request for many repositories, then each
// repository's HEAD reuses it; a repository the token does not grant asks
// its own token, as before.
func TestPrefetchPull(t *testing.T) {
	var tokens atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			tokens.Add(1)
			var access []string
			for _, sc := range r.URL.Query()["scope"] {
				name := strings.TrimSuffix(strings.TrimPrefix(sc, "repository:"), ":pull")
				if name != "secret/app" { // a repository this user may not pull
					access = append(access, fmt.Sprintf(`{"type":"repository","name":%q,"actions":["pull"]}`, name))
				}
			}
			body, _ := json.Marshal(map[string]any{"token": jwt(`{"access":[` + strings.Join(access, ",") + `]}`), "expires_in": 300})
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		case r.Header.Get("Authorization") == "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test"`)
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		default:
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	cred := credentials.Credential{Source: "docker-config", Username: "u", Password: "p"}
	repos := []string{"team/a", "team/b", "team/c", "secret/app"}
	ref, err := ParseReference(host + "/team/a:1")
	if err != nil {
		t.Fatal(err)
	}
	c.PrefetchPull(t.Context(), ref, repos, cred)
	if n := tokens.Load(); n != 1 {
		t.Fatalf("prefetch made %d token requests, want 1", n)
	}
	for _, repo := range repos {
		if _, err := c.Head(t.Context(), host+"/"+repo+":1", []credentials.Credential{cred}); err != nil {
			t.Fatalf("head %s: %v", repo, err)
		}
	}
	if n := tokens.Load(); n != 2 {
		t.Errorf("%d token requests in all, want 2 (the prefetch, and secret/app's own)", n)
	}
}
