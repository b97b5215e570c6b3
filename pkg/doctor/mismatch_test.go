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

// TestMismatchListsWithTheCredentialUsed: the catalog that names the
// repository a person meant is listed with the credential the probe's
// result describes, taken by identity (probe.Outcome), not looked up again
// by the result's source string: two credentials may share one (an old
// password first, then the current one). Here the old one is refused,
// the current one authenticates and the upload meets NAME_UNKNOWN; only
// the current one may list the catalog.
func TestMismatchListsWithTheCredentialUsed(t *testing.T) {
	var catalogs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		u, p, _ := r.BasicAuth()
		if r.URL.Path == "/v2/_catalog" {
			catalogs = append(catalogs, p)
		}
		if u != "ci" || p != "new" {
			w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
			return
		}
		switch {
		case r.URL.Path == "/v2/":
			fmt.Fprint(w, "{}")
		case r.URL.Path == "/v2/_catalog":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"repositories":["team/app","team/web"]}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	client, err := registry.NewClient(registry.Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	creds := func(context.Context, string) credentials.Lookup {
		return credentials.Lookup{Credentials: []credentials.Credential{
			{Source: "docker-config", Origin: credentials.OriginDockerConfig, Username: "ci", Password: "old"},
			{Source: "docker-config", Origin: credentials.OriginDockerConfig, Username: "ci", Password: "new"},
		}}
	}
	checks, err := ParseChecks([]string{Reachable, Credentials, Push, Reference}, nil)
	if err != nil {
		t.Fatal(err)
	}
	results, err := Run(t.Context(), Config{PushTargets: []string{host + "/team/ap"}, Checks: checks, Dial: DialOptions{PlainHTTP: true}},
		Deps{Registry: client, Credentials: creds})
	if err != nil {
		t.Fatal(err)
	}
	var ref, push report.Result
	for _, r := range results {
		switch r.Check {
		case report.CheckImageReference:
			ref = r
		case report.CheckRegistryPush:
			push = r
		}
	}
	if push.Reason != report.ReasonRepositoryNotFound {
		t.Fatalf("registry.push %s/%s: %s", push.Status, push.Reason, push.Message)
	}
	if len(catalogs) != 1 || catalogs[0] != "new" {
		t.Errorf("the catalog was reached %d times (with the current password: %v); want once, with it", len(catalogs), len(catalogs) == 1 && catalogs[0] == "new")
	}
	if ref.Doctor == nil || !strings.HasPrefix(ref.Doctor.Corrected, host+"/team/app") || !strings.HasPrefix(push.Remedy, "did you mean "+host+"/team/app") {
		t.Errorf("image.reference %s/%s %q (facts %+v); push remedy %q", ref.Status, ref.Reason, ref.Message, ref.Doctor, push.Remedy)
	}
}
