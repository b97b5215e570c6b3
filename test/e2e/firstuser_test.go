package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		// The table says where it looked, as kubectl's "No resources found".
		res = run(t, s, "", tool, "regcheck", "creds")
		if res.Code != 0 || res.Stdout != "" || !strings.Contains(res.Stderr, "No credentials found in ") || !strings.Contains(res.Stderr, "not created yet") {
			t.Errorf("%s regcheck creds: exit %d\nstdout: %s\nstderr: %s", tool, res.Code, res.Stdout, res.Stderr)
		}
	}
	// No kubeconfig: client-go tries localhost:8080, as kubectl does; the
	// hint is to point regcheck at a cluster.
	if res := run(t, s, "", "kubectl", "regcheck"); res.Code != 2 || !strings.Contains(res.Stderr, "no kubeconfig was found") || !strings.Contains(res.Stderr, "set KUBECONFIG") {
		t.Errorf("kubectl regcheck without a kubeconfig: exit %d\nstderr: %s", res.Code, res.Stderr)
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

// TestFirstTimeKubectlUser runs `kubectl regcheck` through the real kubectl
// with nothing but HOME, PATH and a kubeconfig: a selector that does not
// parse, a workload that does not exist and a namespace with none get
// kubectl's answers.
func TestFirstTimeKubectlUser(t *testing.T) {
	c := sharedCluster(t)
	s := newFreshSandbox(t).With("KUBECONFIG=" + c.Kubeconfig)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ns = "firstuser-empty"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}

	// A selector that does not parse is the user's to fix: exit 2 with
	// labels.Parse's words, before the API server is asked.
	res := run(t, s, "", "kubectl", "regcheck", "-A", "-l", "app in (")
	if res.Code != 2 || !strings.HasPrefix(res.Stderr, `error: invalid label selector "app in (": unable to parse requirement`) ||
		strings.Contains(res.Stderr, "ServerError") || strings.Contains(res.Stderr, "readyz") {
		t.Errorf("bad selector: exit %d, want 2 and the parse error\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}

	// A named workload that does not exist: what kubectl get says, and a
	// non-zero exit (2: there was nothing to check).
	kubectl := run(t, s, "", "kubectl", "get", "deploy/nope", "-n", ns)
	res = run(t, s, "", "kubectl", "regcheck", "deploy/nope", "-n", ns)
	if res.Code != 2 || res.Stderr != kubectl.Stderr || res.Stdout != "" {
		t.Errorf("deploy/nope: exit %d, want 2 and kubectl's %q\nstdout: %q\nstderr: %q", res.Code, kubectl.Stderr, res.Stdout, res.Stderr)
	}
	if want := "Error from server (NotFound): deployments.apps \"nope\" not found\n"; kubectl.Stderr != want {
		t.Errorf("kubectl get deploy/nope said %q, want %q", kubectl.Stderr, want)
	}

	// A namespace with no workloads: kubectl's words, exit 0.
	kubectl = run(t, s, "", "kubectl", "get", "deploy,sts,ds,job,cronjob,rc,pod", "-n", ns)
	res = run(t, s, "", "kubectl", "regcheck", "-n", ns)
	if res.Code != 0 || res.Stderr != kubectl.Stderr || res.Stdout != "" {
		t.Errorf("empty namespace: exit %d, want 0 and kubectl's %q\nstdout: %q\nstderr: %q", res.Code, kubectl.Stderr, res.Stdout, res.Stderr)
	}
}
