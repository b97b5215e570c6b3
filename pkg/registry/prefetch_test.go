package registry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// prefetchRegistry is a token-auth registry whose front end may refuse
// long token URLs (414) and long Authorization headers (400), as nginx
// does past its header buffers.
type prefetchRegistry struct {
	*httptest.Server
	maxURL, maxAuth int  // 0: no limit
	authLimitOnV2   bool // maxAuth applies to GET /v2/ too, not only to manifests
	refuseTokens    bool // the registry answers 401 to every token (a key it does not trust)
	tokens          atomic.Int32
	refusedURLs     atomic.Int32
	proofs          atomic.Int32 // authenticated GET /v2/, accepted or not
	pings           atomic.Int32 // every GET /v2/, anonymous or not
}

func newPrefetchRegistry(t *testing.T, maxURL, maxAuth int, authLimitOnV2 bool) *prefetchRegistry {
	p := &prefetchRegistry{maxURL: maxURL, maxAuth: maxAuth, authLimitOnV2: authLimitOnV2}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// client is a plain-HTTP Client for p, closed with the test, and p's host.
func (p *prefetchRegistry) client(t *testing.T) (*Client, string) {
	t.Helper()
	c, err := NewClient(Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c, strings.TrimPrefix(p.URL, "http://")
}

func (p *prefetchRegistry) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		p.pings.Add(1)
	}
	if r.URL.Path == "/v2/" && r.Header.Get("Authorization") != "" {
		p.proofs.Add(1)
	}
	switch {
	case r.URL.Path == "/token" && p.maxURL > 0 && len(r.URL.RequestURI()) > p.maxURL:
		p.refusedURLs.Add(1)
		http.Error(w, "<html>414 Request-URI Too Large</html>", http.StatusRequestURITooLong)
	case r.URL.Path == "/token":
		p.tokens.Add(1)
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
	case p.maxAuth > 0 && len(r.Header.Get("Authorization")) > p.maxAuth && (p.authLimitOnV2 || r.URL.Path != "/v2/"):
		http.Error(w, "<html>400 Request Header Or Cookie Too Large</html>", http.StatusBadRequest)
	case r.Header.Get("Authorization") == "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.URL+`/token",service="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	case p.refuseTokens:
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.URL+`/token",service="test",error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	case r.URL.Path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.HasSuffix(r.URL.Path, "/tags/list"):
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"tags":["1","2"]}`))
	default:
		w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.WriteHeader(http.StatusOK)
	}
}

// TestPrefetchPull: one token request for many repositories, then each
// repository's HEAD reuses it; a repository the token does not grant asks
// its own token. A front end that refuses the long URL makes the batch
// split; one that refuses the long header makes each session ask its own.
func TestPrefetchPull(t *testing.T) {
	manyRepos := []string{"secret/app"}
	for i := range 199 {
		manyRepos = append(manyRepos, fmt.Sprintf("team/app-%03d", i))
	}
	tests := []struct {
		name            string
		repos           []string
		maxURL, maxAuth int
		authLimitOnV2   bool
		scopesPerToken  int
		prefetchTokens  int32 // token requests the prefetch made
		allTokens       int32 // after a HEAD of every repository
		refusedURLs     int32
		// prefetchProofs are the GET /v2/ the prefetch made: none for a
		// token of at most maxUnprovenToken, which any front end takes.
		prefetchProofs int32
	}{
		// A small token is handed out unproven; secret/app, which it does
		// not grant, asks its own and verifies it on GET /v2/ (after).
		{name: "few repositories", repos: []string{"team/a", "team/b", "team/c", "secret/app"},
			prefetchTokens: 1, allTokens: 2},
		// The default, 50 a token: four tokens asked at the same time,
		// each under 6 KiB, so none proven before the HEADs.
		{name: "200 repositories, the default", repos: manyRepos,
			prefetchTokens: 4, allTokens: 5},
		// The cases below ask 500 a token, to show how a batch too large
		// for the server splits; a token that large is proven first.
		{name: "200 repositories in one request", repos: manyRepos, scopesPerToken: 500,
			prefetchTokens: 1, allTokens: 2, prefetchProofs: 1},
		// At most 60 a token: four equal batches of 50, not 60+60+60+20.
		{name: "200 repositories, 60 a token", repos: manyRepos, scopesPerToken: 60,
			prefetchTokens: 4, allTokens: 5},
		// 200 scopes are about 8.4 KiB of URL: refused, then two halves pass.
		{name: "long URL refused: halves", repos: manyRepos, maxURL: 8 << 10, scopesPerToken: 500,
			prefetchTokens: 2, allTokens: 3, refusedURLs: 1, prefetchProofs: 2},
		// The token for 200 repositories is refused on GET /v2/: the batch
		// splits (200, 2×100, 4×50) until its tokens fit in 8 KiB; the
		// tokens for 50 are small enough to need no proof.
		{name: "long header refused: halves until it fits", repos: manyRepos, maxAuth: 8 << 10, authLimitOnV2: true, scopesPerToken: 500,
			prefetchTokens: 7, allTokens: 8, prefetchProofs: 3},
		// A front end that refuses it only on manifests: each repository
		// trades the batched token for its own (secret/app never had one).
		{name: "long header refused on manifests: own tokens", repos: manyRepos, maxAuth: 8 << 10, scopesPerToken: 500,
			prefetchTokens: 1, allTokens: 1 + 200, prefetchProofs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newPrefetchRegistry(t, tt.maxURL, tt.maxAuth, tt.authLimitOnV2)
			c, err := NewClient(Options{PlainHTTP: true, ScopesPerToken: tt.scopesPerToken})
			if err != nil {
				t.Fatal(err)
			}
			defer c.http.CloseIdleConnections()
			host := strings.TrimPrefix(srv.URL, "http://")
			cred := credentials.Credential{Source: "docker-config", Username: "u", Password: "p"}
			ref, err := imageref.Parse(host + "/" + tt.repos[0] + ":1")
			if err != nil {
				t.Fatal(err)
			}
			c.PrefetchPull(t.Context(), ref, tt.repos, cred)
			if n := srv.tokens.Load(); n != tt.prefetchTokens {
				t.Fatalf("prefetch made %d token requests, want %d", n, tt.prefetchTokens)
			}
			if n := srv.proofs.Load(); n != tt.prefetchProofs {
				t.Errorf("prefetch sent %d tokens to GET /v2/ to prove them, want %d", n, tt.prefetchProofs)
			}
			for _, repo := range tt.repos {
				r, err := imageref.Parse(host + "/" + repo + ":1")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Head(t.Context(), r, []credentials.Credential{cred}); err != nil {
					t.Fatalf("head %s: %v", repo, err)
				}
			}
			if n := srv.tokens.Load(); n != tt.allTokens {
				t.Errorf("%d token requests in all, want %d", n, tt.allTokens)
			}
			if n := srv.refusedURLs.Load(); n != tt.refusedURLs {
				t.Errorf("%d token URLs refused, want %d", n, tt.refusedURLs)
			}
		})
	}
}

// TestPrefetchUnprovenTokenRefused: a registry that refuses the tokens its
// token service issues (say, a signing key it does not trust) refuses the
// small batched token on the manifest request that is its proof, and the
// HEAD says InvalidCredentials, as the GET /v2/ proof would have.
func TestPrefetchUnprovenTokenRefused(t *testing.T) {
	srv := newPrefetchRegistry(t, 0, 0, false)
	srv.refuseTokens = true
	c, host := srv.client(t)
	cred := credentials.Credential{Source: "docker-config", Username: "u", Password: "p"}
	ref, err := imageref.Parse(host + "/team/a:1")
	if err != nil {
		t.Fatal(err)
	}
	c.PrefetchPull(t.Context(), ref, []string{"team/a", "team/b"}, cred)
	if n := srv.proofs.Load(); n != 0 {
		t.Fatalf("prefetch proved the token %d times, want none (it is small)", n)
	}
	_, err = c.Head(t.Context(), ref, []credentials.Credential{cred})
	if f := AsFailure(err); err == nil || f.Reason != report.ReasonInvalidCredentials {
		t.Fatalf("head with a refused token: %v, want InvalidCredentials", err)
	}
}

// TestPrefetchUnprovenTokenAuthenticate: a session that authenticates for
// itself (auth, doctor) still proves a batched token it finds unproven on
// GET /v2/, and says so (Verified); only a scan's Head lets its manifest
// request be the proof.
func TestPrefetchUnprovenTokenAuthenticate(t *testing.T) {
	srv := newPrefetchRegistry(t, 0, 0, false)
	c, host := srv.client(t)
	cred := credentials.Credential{Source: "docker-config", Username: "u", Password: "p"}
	ref, err := imageref.Parse(host + "/team/a:1")
	if err != nil {
		t.Fatal(err)
	}
	c.PrefetchPull(t.Context(), ref, []string{"team/a", "team/b"}, cred)
	res, err := c.NewSession(ref, cred).Authenticate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || srv.proofs.Load() != 1 || srv.tokens.Load() != 1 {
		t.Errorf("verified %v after %d GET /v2/ and %d token requests, want true after 1 and 1 (the batched token)", res.Verified, srv.proofs.Load(), srv.tokens.Load())
	}
	if _, err := c.Head(t.Context(), ref, []credentials.Credential{cred}); err != nil {
		t.Fatal(err)
	}
	if n := srv.proofs.Load(); n != 1 {
		t.Errorf("%d GET /v2/ after the HEAD, want still 1", n)
	}
}

// TestListTagsAfterBatchedHeadsPingsOnce: a scan with --newer HEADs many
// repositories with one batched token, then lists their tags at once with
// the same credential. Each list's request proves the token, as each
// HEAD's did: the registry sees one GET /v2/ in all (the anonymous ping),
// not one more per list (make bench counted 17 at 16 in flight).
func TestListTagsAfterBatchedHeadsPingsOnce(t *testing.T) {
	srv := newPrefetchRegistry(t, 0, 0, false)
	c, host := srv.client(t)
	cred := credentials.Credential{Source: "docker-config", Username: "u", Password: "p"}
	var repos []string
	var refs []imageref.Reference
	for i := range 16 {
		repo := fmt.Sprintf("team/app-%02d", i)
		ref, err := imageref.Parse(host + "/" + repo + ":1")
		if err != nil {
			t.Fatal(err)
		}
		repos, refs = append(repos, repo), append(refs, ref)
	}
	c.PrefetchPull(t.Context(), refs[0], repos, cred)
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Go(func() {
			if _, err := c.Head(t.Context(), ref, []credentials.Credential{cred}); err != nil {
				t.Errorf("head %s: %v", ref.Repository, err)
			}
		})
	}
	wg.Wait()
	for _, ref := range refs {
		wg.Go(func() {
			list, err := c.ListTags(t.Context(), ref, cred, TagsOptions{})
			if err != nil || len(list.Tags) != 2 || list.CredentialSource != "docker-config" {
				t.Errorf("tags of %s: %+v, %v; want 2 tags read with docker-config", ref.Repository, list, err)
			}
		})
	}
	wg.Wait()
	if n := srv.pings.Load(); n != 1 {
		t.Errorf("%d GET /v2/ for 16 HEADs and 16 tags lists, want 1", n)
	}
	if n := srv.tokens.Load(); n != 1 {
		t.Errorf("%d token requests, want 1 (the batch)", n)
	}
}
