package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// TestCredentialsOncePerCredential: the doctor files one
// registry.credentials result per registry and credential in use, however
// many images of that registry met it, and tells two credentials apart by
// identity, not by their source: two entries of one config file share the
// source "docker-config" (and here the user, so the messages match too),
// and each image's repository is readable by one of them only.
func TestCredentialsOncePerCredential(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Header().Set("Content-Type", "application/json")
		u, p, ok := r.BasicAuth()
		if !ok || u != "ci" || (p != "a" && p != "b") {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
			return
		}
		switch {
		case r.URL.Path == "/v2/":
			fmt.Fprint(w, "{}")
		case strings.HasPrefix(r.URL.Path, "/v2/team/"+p+"/") && strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat(p, 64))
			w.Header().Set("Content-Length", "2")
		default:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	client, err := registry.NewClient(registry.Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		passwords []string
		images    []string
		want      int
	}{
		{"two images, one credential: one result", []string{"a"}, []string{"team/a/x:1", "team/a/y:1"}, 1},
		{"two entries of one source, each in use: two results", []string{"a", "b"}, []string{"team/a/x:1", "team/b/y:1"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			creds := func(context.Context, string) credentials.Lookup {
				var l credentials.Lookup
				for _, p := range tt.passwords {
					l.Credentials = append(l.Credentials, credentials.Credential{Source: "docker-config", Origin: credentials.OriginDockerConfig, Username: "ci", Password: p})
				}
				return l
			}
			var images []string
			for _, i := range tt.images {
				images = append(images, host+"/"+i)
			}
			checks, err := ParseChecks([]string{Credentials, Pull}, nil)
			if err != nil {
				t.Fatal(err)
			}
			results, err := Run(t.Context(), Config{Images: images, Checks: checks, Dial: DialOptions{PlainHTTP: true}}, Deps{Registry: client, Credentials: creds})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range results {
				if r.Check == report.CheckRegistryPull && r.Status != report.StatusPass {
					t.Errorf("%s: registry.pull %s/%s: %s", r.Image, r.Status, r.Reason, r.Message)
				}
				if r.Check == report.CheckRegistryCredentials {
					got = append(got, fmt.Sprintf("%s/%s %s", r.Status, r.Reason, r.Message))
				}
			}
			if len(got) != tt.want {
				t.Errorf("%d registry.credentials results, want %d:\n%s", len(got), tt.want, strings.Join(got, "\n"))
			}
		})
	}
}
