package registry

import (
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

// TestVerifyOnceAtATime: a scan's HEADs of many repositories on a
// basic-auth registry start together with one credential. They share one
// authenticated GET /v2/ (and the anonymous ping): 2 in all, where each
// sent its own before (17 for 16). A refused credential is still refused
// for every HEAD, each with its own InvalidCredentials.
func TestVerifyOnceAtATime(t *testing.T) {
	for _, tt := range []struct {
		name     string
		password string
		pings    int32 // GET /v2/ in all
	}{
		{"accepted: one proof", "p", 2},
		{"refused: each its own", "wrong", 1 + 16},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var pings atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/" {
					pings.Add(1)
				}
				if u, p, ok := r.BasicAuth(); !ok || u != "u" || p != "p" {
					w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if r.URL.Path == "/v2/" {
					return
				}
				w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
				w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient(Options{PlainHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			host := strings.TrimPrefix(srv.URL, "http://")
			cred := credentials.Credential{Source: "docker-config", Username: "u", Password: tt.password}
			var wg sync.WaitGroup
			for i := range 16 {
				ref, err := imageref.Parse(fmt.Sprintf("%s/team/app-%02d:1", host, i))
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					_, err := c.Head(t.Context(), ref, []credentials.Credential{cred})
					switch f := AsFailure(err); {
					case tt.password == "p" && err != nil:
						t.Errorf("head %s: %v", ref.Repository, err)
					case tt.password != "p" && (f == nil || f.Reason != report.ReasonInvalidCredentials):
						t.Errorf("head %s with a refused password: %v, want InvalidCredentials", ref.Repository, err)
					}
				})
			}
			wg.Wait()
			if n := pings.Load(); n != tt.pings {
				t.Errorf("%d GET /v2/ for 16 HEADs at once, want %d", n, tt.pings)
			}
		})
	}
}
