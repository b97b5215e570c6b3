package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// ECR's shapes (../shared/REGISTRIES.md): /v2/ answers a Basic challenge
// and no token service; an expired 12-hour login is 403 "denied: Your
// authorization token has expired." on /v2/ and on manifests alike.
func TestECRExpiredToken(t *testing.T) {
	for _, where := range []string{"/v2/", "/manifests/"} {
		t.Run(where, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, _, ok := r.BasicAuth(); !ok {
					w.Header().Set("WWW-Authenticate", `Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"`)
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					w.WriteHeader(http.StatusUnauthorized)
					fmt.Fprint(w, "Not Authorized\n")
					return
				}
				if r.URL.Path == "/v2/" && where != "/v2/" {
					fmt.Fprint(w, "{}")
					return
				}
				if strings.Contains(r.URL.Path, where) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}`)
					return
				}
				w.WriteHeader(http.StatusNotFound)
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient(Options{PlainHTTP: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdleConnections)
			ref, err := imageref.Parse(strings.TrimPrefix(srv.URL, "http://") + "/team/app:1.0")
			if err != nil {
				t.Fatal(err)
			}
			cred := credentials.Credential{Source: "docker-config", Username: "AWS", Password: "expired-token"}
			_, err = c.Head(context.Background(), ref, []credentials.Credential{cred})
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("err = %v", err)
			}
			if f.Reason != report.ReasonInvalidCredentials || !strings.Contains(remedy.Message(f.Fault), "expired") || !strings.Contains(remedy.Registry(f.Fault, remedy.ForKubectl), "aws ecr get-login-password") {
				t.Errorf("%s: %s / %s", f.Reason, remedy.Message(f.Fault), remedy.Registry(f.Fault, remedy.ForKubectl))
			}
		})
	}
}
