package doctor

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/printers"
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
		golden    string // the doctor's table and markdown, when named
	}{
		{"two images, one credential: one result", []string{"a"}, []string{"team/a/x:1", "team/a/y:1"}, 1, ""},
		// The two rows would read the same but for the config entry,
		// which the table and markdown name for them alone.
		{"two entries of one source, each in use: two results", []string{"a", "b"}, []string{"team/a/x:1", "team/b/y:1"}, 2, "two-entries"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			creds := func(context.Context, string) credentials.Lookup {
				var l credentials.Lookup
				for _, p := range tt.passwords {
					// The entries' keys, as a config file would file them.
					key := host
					if p == "a" {
						key = host + "/team/a"
					}
					l.Credentials = append(l.Credentials, credentials.Credential{Source: "docker-config", Origin: credentials.OriginDockerConfig, Key: key, Username: "ci", Password: p})
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
			if tt.golden == "" {
				return
			}
			// The registry's random port named REGISTRY before printing,
			// so the table's columns do not move with it.
			var shown []report.Result
			for _, r := range results {
				for _, f := range []*string{&r.Registry, &r.Image, &r.Message, &r.Remedy} {
					*f = strings.ReplaceAll(*f, host, "REGISTRY")
				}
				ev := report.Evidence{}
				for k, v := range r.Evidence {
					if s, ok := v.(string); ok {
						v = strings.ReplaceAll(s, host, "REGISTRY")
					}
					ev[k] = v
				}
				r.Evidence = ev
				shown = append(shown, r)
			}
			for _, format := range []string{"table", "markdown"} {
				var buf bytes.Buffer
				if err := printers.Print(&buf, format, report.New(report.KindDoctor, shown)); err != nil {
					t.Fatal(err)
				}
				for _, secret := range []string{"ci:a", "ci:b", "Y2k6"} { // Y2k6: base64 of "ci:"
					if strings.Contains(buf.String(), secret) {
						t.Errorf("the %s output shows a secret", format)
					}
				}
				golden(t, filepath.Join("testdata", tt.golden+"."+format+".golden"), buf.String())
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the file at path (go test ./pkg/doctor -update
// rewrites it).
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/doctor -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
	}
}
