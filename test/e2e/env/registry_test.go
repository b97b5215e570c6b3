package env

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func startRegistry(t *testing.T, opts RegistryOptions) *Registry {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	reg, err := StartRegistry(opts)
	if err != nil {
		t.Fatalf("StartRegistry: %v", err)
	}
	t.Cleanup(func() {
		if err := reg.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return reg
}

var tokenUsers = map[string]User{
	"admin":  {Password: "admin-pass", Push: []string{"*"}},
	"reader": {Password: "reader-pass", Pull: []string{"team/*"}},
}

func tokenRegistry(t *testing.T, tls bool) *Registry {
	return startRegistry(t, RegistryOptions{Auth: AuthToken, TLS: tls, Users: tokenUsers, Public: []string{"public/*"}})
}

// do sends one request with the registry's client and returns status, headers and body.
func do(t *testing.T, reg *Registry, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := reg.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of %s %s: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, body
}

func newRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	return req
}

// getToken asks the token endpoint with GET (Basic credentials unless user is empty).
func getToken(t *testing.T, reg *Registry, user, pass string, scopes ...string) (int, TokenResponse, []byte) {
	t.Helper()
	q := url.Values{"service": {reg.Service}, "scope": scopes}
	req := newRequest(t, http.MethodGet, reg.Realm+"?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	status, _, body := do(t, reg, req)
	var tr TokenResponse
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatalf("token response %s: %v", body, err)
		}
	}
	return status, tr, body
}

func postToken(t *testing.T, reg *Registry, form url.Values) (int, TokenResponse, []byte) {
	t.Helper()
	req := newRequest(t, http.MethodPost, reg.Realm, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, _, body := do(t, reg, req)
	var tr TokenResponse
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &tr); err != nil {
			t.Fatalf("token response %s: %v", body, err)
		}
	}
	return status, tr, body
}

func grantedActions(t *testing.T, tok, repo string) []string {
	t.Helper()
	c, err := DecodeTokenClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	return c.Actions(repo)
}

func getManifestDigest(t *testing.T, reg *Registry, ref, user string) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := reg.RemoteOptions(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		t.Fatalf("pulling %s as %q: %v", ref, user, err)
	}
	return desc.Digest.String()
}

func TestRegistryAnonymousPushPull(t *testing.T) {
	reg := startRegistry(t, RegistryOptions{})
	first, err := PushRandomImage(reg, "library/app", "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := getManifestDigest(t, reg, first.Ref, ""); got != first.Digest {
		t.Fatalf("pulled digest %s, pushed %s", got, first.Digest)
	}
	// A second push to the same tag moves it: the "Stale" scenario.
	second, err := PushRandomImage(reg, "library/app", "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if second.Digest == first.Digest || second.ConfigDigest == first.ConfigDigest {
		t.Fatalf("re-push produced the same digests %+v", second)
	}
	if got := getManifestDigest(t, reg, first.Ref, ""); got != second.Digest {
		t.Fatalf("tag resolves to %s, want the re-pushed %s", got, second.Digest)
	}
	// The old manifest stays pullable by digest, as on a real registry.
	if got := getManifestDigest(t, reg, first.DigestRef, ""); got != first.Digest {
		t.Fatalf("old digest resolves to %s", got)
	}
	if err := DeleteManifest(reg, "library/app", first.Digest, ""); err != nil {
		t.Fatal(err)
	}
	if s := reg.Stats(); s.Ping == 0 || s.ManifestGet == 0 || s.Other == 0 || s.Token != 0 {
		t.Fatalf("unexpected stats %+v", s)
	}
}

func TestRegistryBasicAuth(t *testing.T) {
	reg := startRegistry(t, RegistryOptions{Auth: AuthBasic, Users: map[string]User{"alice": {Password: "s3cret:with-colon"}}})
	for _, tc := range []struct {
		name, user, pass string
		want             int
	}{
		{"anonymous", "", "", http.StatusUnauthorized},
		{"wrong password", "alice", "nope", http.StatusUnauthorized},
		{"unknown user", "bob", "s3cret:with-colon", http.StatusUnauthorized},
		{"right password", "alice", "s3cret:with-colon", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, reg.URL+"/v2/", nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			status, h, _ := do(t, reg, req)
			if status != tc.want {
				t.Fatalf("status %d, want %d", status, tc.want)
			}
			if status == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("challenge %q, want Basic", h.Get("WWW-Authenticate"))
			}
		})
	}
	p, err := PushRandomImage(reg, "private/app", "v1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PushRandomImage(reg, "private/app", "v2", ""); err == nil {
		t.Fatal("anonymous push succeeded on a basic-auth registry")
	}
	if got := getManifestDigest(t, reg, p.Ref, "alice"); got != p.Digest {
		t.Fatalf("pulled %s, pushed %s", got, p.Digest)
	}
}

func TestRegistryTokenAuth(t *testing.T) {
	reg := tokenRegistry(t, false)
	pub, err := PushRandomImage(reg, "public/app", "v1", "admin")
	if err != nil {
		t.Fatalf("admin push through the token dance: %v", err)
	}
	team, err := PushRandomImage(reg, "team/app", "v1", "admin")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("challenge", func(t *testing.T) {
		status, h, _ := do(t, reg, newRequest(t, http.MethodGet, reg.URL+"/v2/", nil))
		want := `Bearer realm="` + reg.Realm + `",service="` + reg.Service + `"`
		if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != want {
			t.Fatalf("got %d %q, want 401 %q", status, h.Get("WWW-Authenticate"), want)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		status, _, body := getToken(t, reg, "admin", "wrong", "repository:team/app:pull")
		if status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", status)
		}
		var e struct{ Details string }
		if err := json.Unmarshal(body, &e); err != nil || e.Details != "incorrect username or password" {
			t.Fatalf("body %s (%v)", body, err)
		}
	})

	t.Run("anonymous gets pull only", func(t *testing.T) {
		status, tr, body := getToken(t, reg, "", "", "repository:public/app:pull,push", "repository:team/app:pull,push")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		if tr.Token == "" || tr.AccessToken != tr.Token || tr.ExpiresIn != 300 || tr.IssuedAt == "" || tr.RefreshToken != "" {
			t.Fatalf("response %+v", tr)
		}
		if got := grantedActions(t, tr.Token, "public/app"); !slices.Equal(got, []string{"pull"}) {
			t.Fatalf("public/app granted %v, want [pull]", got)
		}
		if got := grantedActions(t, tr.Token, "team/app"); len(got) != 0 {
			t.Fatalf("team/app granted %v to anonymous", got)
		}
		if got := getManifestDigest(t, reg, pub.Ref, ""); got != pub.Digest {
			t.Fatalf("anonymous pull of public image: %s", got)
		}
	})

	t.Run("granted token works on the registry", func(t *testing.T) {
		_, tr, _ := getToken(t, reg, "reader", "reader-pass", "repository:team/app:pull")
		req := newRequest(t, http.MethodHead, reg.URL+"/v2/team/app/manifests/v1", nil)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json")
		req.Header.Set("Authorization", "Bearer "+tr.Token)
		status, h, _ := do(t, reg, req)
		if status != http.StatusOK || h.Get("Docker-Content-Digest") != team.Digest {
			t.Fatalf("HEAD with token: %d %s", status, h.Get("Docker-Content-Digest"))
		}
	})

	t.Run("pull-only user cannot push", func(t *testing.T) {
		_, tr, _ := getToken(t, reg, "reader", "reader-pass", "repository:team/app:pull,push")
		if got := grantedActions(t, tr.Token, "team/app"); !slices.Equal(got, []string{"pull"}) {
			t.Fatalf("reader granted %v", got)
		}
		if got := getManifestDigest(t, reg, team.Ref, "reader"); got != team.Digest {
			t.Fatalf("reader pull: %s", got)
		}
		_, err := PushRandomImage(reg, "team/app", "v2", "reader")
		var terr *transport.Error
		if !errors.As(err, &terr) || (terr.StatusCode != http.StatusUnauthorized && terr.StatusCode != http.StatusForbidden) {
			t.Fatalf("reader push: got %v, want a 401/403 transport error", err)
		}
	})

	t.Run("several scopes and catalog", func(t *testing.T) {
		_, tr, _ := getToken(t, reg, "admin", "admin-pass", "repository:team/app:pull", "repository:team/app:push", "registry:catalog:*")
		if got := grantedActions(t, tr.Token, "team/app"); !slices.Equal(got, []string{"pull", "push"}) {
			t.Fatalf("merged scopes granted %v", got)
		}
		req := newRequest(t, http.MethodGet, reg.URL+"/v2/_catalog", nil)
		req.Header.Set("Authorization", "Bearer "+tr.Token)
		status, _, body := do(t, reg, req)
		if status != http.StatusOK || !strings.Contains(string(body), `"team/app"`) || !strings.Contains(string(body), `"public/app"`) {
			t.Fatalf("catalog: %d %s", status, body)
		}
		req = newRequest(t, http.MethodGet, reg.URL+"/v2/team/app/tags/list", nil)
		req.Header.Set("Authorization", "Bearer "+tr.Token)
		status, _, body = do(t, reg, req)
		if status != http.StatusOK || !strings.Contains(string(body), `"v1"`) {
			t.Fatalf("tags/list: %d %s", status, body)
		}
	})

	t.Run("POST form and refresh token", func(t *testing.T) {
		status, tr, body := postToken(t, reg, url.Values{
			"grant_type": {"password"}, "username": {"admin"}, "password": {"admin-pass"},
			"service": {reg.Service}, "scope": {"repository:team/app:pull,push"},
			"access_type": {"offline"}, "client_id": {"regcheck-test"},
		})
		if status != http.StatusOK || tr.RefreshToken == "" {
			t.Fatalf("password grant: %d %s", status, body)
		}
		if got := grantedActions(t, tr.Token, "team/app"); !slices.Equal(got, []string{"pull", "push"}) {
			t.Fatalf("password grant gave %v", got)
		}
		status, tr2, body := postToken(t, reg, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken},
			"service": {reg.Service}, "scope": {"repository:public/app:pull"},
		})
		if status != http.StatusOK {
			t.Fatalf("refresh grant: %d %s", status, body)
		}
		c, err := DecodeTokenClaims(tr2.Token)
		if err != nil || c.Subject != "admin" || !slices.Equal(c.Actions("public/app"), []string{"pull"}) {
			t.Fatalf("refresh grant claims %+v (%v)", c, err)
		}
		if status, _, _ := postToken(t, reg, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"forged"}, "service": {reg.Service}}); status != http.StatusUnauthorized {
			t.Fatalf("forged refresh token: %d", status)
		}
		if status, _, _ := postToken(t, reg, url.Values{"grant_type": {"password"}, "username": {"admin"}, "password": {"x"}, "service": {reg.Service}}); status != http.StatusUnauthorized {
			t.Fatalf("POST wrong password: %d", status)
		}
	})

	// ggcr's bearer transport asks with Basic auth; with an identity token it
	// would POST. Either way the counts show the token endpoint was used.
	if s := reg.Stats(); s.Token == 0 {
		t.Fatalf("no token requests counted: %+v", s)
	}
}

func TestRegistryTLS(t *testing.T) {
	reg := tokenRegistry(t, true)
	if !strings.HasPrefix(reg.URL, "https://") || !strings.HasPrefix(reg.Realm, "https://") {
		t.Fatalf("URL %s realm %s", reg.URL, reg.Realm)
	}
	pemBytes, err := os.ReadFile(reg.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("CA file %s holds no certificate", reg.CAFile)
	}
	p, err := PushRandomImage(reg, "team/app", "v1", "admin")
	if err != nil {
		t.Fatalf("push over TLS trusting the CA: %v", err)
	}

	// Without the CA the same pull fails certificate verification.
	ref, err := name.ParseReference(p.Ref)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Get(ref, remote.WithAuth(&authn.Basic{Username: "admin", Password: "admin-pass"}),
		remote.WithTransport(http.DefaultTransport.(*http.Transport).Clone()), remote.WithContext(t.Context()))
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		t.Fatalf("pull without the CA: got %v, want x509.UnknownAuthorityError", err)
	}

	// Plain HTTP to the TLS port is answered with an HTTP 400, not a registry.
	resp, err := http.Get("http://" + reg.Host + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("HTTP to the HTTPS port: %d", resp.StatusCode)
	}
}

func TestRegistrySnapshotUploadCancel(t *testing.T) {
	reg := tokenRegistry(t, false)
	if _, err := PushRandomImage(reg, "team/app", "v1", "admin"); err != nil {
		t.Fatal(err)
	}
	// A repository that was never pushed must come back unchanged too.
	for _, repo := range []string{"team/app", "team/never-pushed"} {
		t.Run(repo, func(t *testing.T) {
			before, err := reg.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			rawBefore, err := reg.RawSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			if repo == "team/app" && len(before) == 0 {
				t.Fatal("empty snapshot after a push")
			}
			// distribution authorizes every DELETE, an upload cancel included,
			// with the "delete" action: a pull,push token is not enough.
			_, tr, _ := getToken(t, reg, "admin", "admin-pass", "repository:"+repo+":pull,push")
			_, trDelete, _ := getToken(t, reg, "admin", "admin-pass", "repository:"+repo+":pull,push,delete")

			req := newRequest(t, http.MethodPost, reg.URL+"/v2/"+repo+"/blobs/uploads/", nil)
			req.Header.Set("Authorization", "Bearer "+tr.Token)
			status, h, body := do(t, reg, req)
			if status != http.StatusAccepted || h.Get("Location") == "" {
				t.Fatalf("start upload: %d %s", status, body)
			}
			during, err := reg.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(DiffSnapshots(before, during), func(s string) bool { return strings.Contains(s, "/_uploads/") }) {
				t.Fatalf("snapshot does not show the open upload: %v", DiffSnapshots(before, during))
			}

			loc, err := url.Parse(h.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			cancelURL := reg.URL + "/" + strings.TrimPrefix(loc.RequestURI(), "/")
			req = newRequest(t, http.MethodDelete, cancelURL, nil)
			req.Header.Set("Authorization", "Bearer "+tr.Token)
			status, h, _ = do(t, reg, req)
			if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `scope="repository:`+repo+`:delete"`) {
				t.Fatalf("cancel with a pull,push token: %d %q, want 401 asking for delete", status, h.Get("WWW-Authenticate"))
			}
			req = newRequest(t, http.MethodDelete, cancelURL, nil)
			req.Header.Set("Authorization", "Bearer "+trDelete.Token)
			if status, _, body := do(t, reg, req); status != http.StatusNoContent {
				t.Fatalf("cancel upload: %d %s", status, body)
			}
			after, err := reg.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if d := DiffSnapshots(before, after); len(d) != 0 {
				t.Fatalf("storage changed by a cancelled upload:\n%s", strings.Join(d, "\n"))
			}
			// The only raw leftover allowed is distribution's dead hash state.
			rawAfter, err := reg.RawSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range DiffSnapshots(rawBefore, rawAfter) {
				if !strings.HasPrefix(d, "added ") || !strings.Contains(d, "/hashstates/") {
					t.Errorf("unexpected raw change: %s", d)
				}
			}

			// Resuming the cancelled upload must fail: it is gone for clients.
			req = newRequest(t, http.MethodGet, cancelURL, nil)
			req.Header.Set("Authorization", "Bearer "+tr.Token)
			if status, _, body := do(t, reg, req); status != http.StatusNotFound || !strings.Contains(string(body), "BLOB_UPLOAD_UNKNOWN") {
				t.Fatalf("status of cancelled upload: %d %s", status, body)
			}
		})
	}
}

func TestRegistryIndexPush(t *testing.T) {
	reg := tokenRegistry(t, false)
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	pi, err := PushIndex(reg, "team/multi", "v1", "admin", platforms)
	if err != nil {
		t.Fatal(err)
	}
	if len(pi.Children) != 2 {
		t.Fatalf("children %+v", pi.Children)
	}
	ref, err := name.ParseReference(pi.Ref)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := reg.RemoteOptions(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(ref, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := idx.Digest(); d.String() != pi.Digest {
		t.Fatalf("index digest %s, pushed %s", d, pi.Digest)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range pi.Children {
		m := im.Manifests[i]
		if m.Digest.String() != c.Digest || m.Platform == nil || !m.Platform.Equals(c.Platform) {
			t.Fatalf("child %d: index has %s %v, helper says %s %v", i, m.Digest, m.Platform, c.Digest, c.Platform)
		}
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cn, _ := img.ConfigName(); cn.String() != c.ConfigDigest || cfg.Architecture != c.Platform.Architecture {
			t.Fatalf("child %d config %s arch %s, want %s %s", i, cn, cfg.Architecture, c.ConfigDigest, c.Platform.Architecture)
		}
	}
}

func TestRegistryWrapAndStats(t *testing.T) {
	reg := startRegistry(t, RegistryOptions{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/limited/") {
				w.Header().Set("Retry-After", "7")
				http.Error(w, `{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}`, http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	status, h, _ := do(t, reg, newRequest(t, http.MethodHead, reg.URL+"/v2/limited/app/manifests/v1", nil))
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" {
		t.Fatalf("wrapped response: %d %v", status, h)
	}
	if status, _, _ := do(t, reg, newRequest(t, http.MethodGet, reg.URL+"/v2/", nil)); status != http.StatusOK {
		t.Fatalf("ping: %d", status)
	}
	if s := reg.Stats(); s != (Stats{Ping: 1, ManifestHead: 1}) {
		t.Fatalf("stats %+v", s)
	}
	reg.ResetStats()
	if s := reg.Stats(); s.Total() != 0 {
		t.Fatalf("after reset %+v", s)
	}
}
