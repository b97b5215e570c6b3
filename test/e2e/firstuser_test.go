package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// What a first-time user meets, on a fresh HOME with nothing but PATH:
// regcheck run by the real helm and kubectl with the environment they
// give plugins.

// TestFirstTimeHelmUser is a Helm user who never ran helm registry login:
// Helm passes HELM_REGISTRY_CONFIG at its default path, which does not
// exist. That is "not logged in", never a failure.
func TestFirstTimeHelmUser(t *testing.T) {
	s := newFreshSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})

	for _, tool := range []string{"helm", "kubectl"} {
		r, res := runJSON(t, s, "", tool, "regcheck", "creds")
		if res.Code != 0 || r.Summary.Fail != 0 {
			t.Errorf("%s regcheck creds: exit %d, want 0 with nothing failed\n%s\nstderr: %s", tool, res.Code, dump(r), res.Stderr)
		}
	}

	r, res := runJSON(t, s, "", "helm", "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "demo", "--plain-http")
	if res.Code != 1 {
		t.Errorf("push-auth exit %d, want 1 (an anonymous push is refused)\n%s", res.Code, dump(r))
	}
	var creds []report.Result
	for _, x := range r.Results {
		if x.Check == report.CheckRegistryCredentials {
			creds = append(creds, x)
		}
	}
	if len(creds) != 1 || creds[0].Status != report.StatusPass || creds[0].CredentialSource != "anonymous" {
		t.Errorf("registry.credentials = %+v, want one pass, anonymous", creds)
	}
	push := expect(t, r, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
	if want := "helm registry login " + reg.Host; !strings.Contains(push.Remedy, want) {
		t.Errorf("remedy %q does not say %q", push.Remedy, want)
	}

	// helm --registry-config PATH is the user's own path: Helm strips the
	// flag and passes it as HELM_REGISTRY_CONFIG. A missing one is a fault.
	typo := filepath.Join(s.Dir, "typo.json")
	r, res = runJSON(t, s, "", "helm", "--registry-config", typo, "regcheck", "creds")
	got := expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonCredentialsUnreadable)
	if res.Code != 1 || !strings.Contains(got.Message, typo+" does not exist") {
		t.Errorf("helm --registry-config %s regcheck creds: exit %d, message %q", typo, res.Code, got.Message)
	}
}
