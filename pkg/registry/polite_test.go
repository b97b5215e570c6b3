package registry

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A host that answered 429 with Retry-After is not asked again before
// then: the transport answers the 429 itself, marked and with the time
// left, and sends again once the time has passed. Observe sees only what
// was sent, by kind.
func TestPoliteTransportHoldsRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var seen []Request
	now := time.Now()
	p := newPoliteTransport(http.DefaultTransport, 0, func(r Request) { seen = append(seen, r) }, true)
	p.now = func() time.Time { return now }
	send := func(method, path string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := send(http.MethodHead, "/v2/app/manifests/1.0"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("first: %d", r.StatusCode)
	}
	now = now.Add(20 * time.Second)
	r := send(http.MethodGet, "/v2/")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get(heldHeader) == "" || r.Header.Get("Retry-After") != "40" {
		t.Errorf("held answer: %d %v", r.StatusCode, r.Header)
	}
	if hits.Load() != 1 {
		t.Errorf("the registry was asked %d times while it asked to wait", hits.Load())
	}
	now = now.Add(41 * time.Second)
	if r := send(http.MethodGet, "/v2/app/tags/list"); r.StatusCode != http.StatusOK {
		t.Errorf("after Retry-After: %d", r.StatusCode)
	}
	want := []Request{{Host: srv.Listener.Addr().String(), Kind: KindManifestHead, Code: "429"}, {Host: srv.Listener.Addr().String(), Kind: KindTags, Code: "200"}}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
		t.Errorf("observed %+v, want %+v", seen, want)
	}
}

func TestRequestKind(t *testing.T) {
	for _, tc := range []struct{ method, url, want string }{
		{"GET", "https://r.example/v2/", KindPing},
		{"GET", "https://auth.example/token?scope=x", KindToken},
		{"HEAD", "https://r.example/v2/a/b/manifests/latest", KindManifestHead},
		{"GET", "https://r.example/v2/a/b/manifests/sha256:00", KindManifestGet},
		{"GET", "https://r.example/v2/a/tags/list", KindTags},
		{"GET", "https://r.example/v2/a/blobs/sha256:00", KindBlob},
		{"POST", "https://r.example/v2/a/blobs/uploads/", KindUpload},
		{"GET", "https://r.example/v2/_catalog", KindCatalog},
		{"GET", "https://r.example/v2/a/referrers/sha256:00", KindOther},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, nil)
		if got := requestKind(req); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.method, tc.url, got, tc.want)
		}
	}
}
