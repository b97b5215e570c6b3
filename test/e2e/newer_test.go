package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestNewer runs `kubectl regcheck --newer` against a real token-auth
// registry where every repository is private (read with the pods' pull
// secret): semver tags, a pre-release, v-prefixed tags, -alpine tags and
// enough tags to paginate at a forced page size of 3, one workload on each.
func TestNewer(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "newer-e2e"
	// One image under many tags: the tags list is what is read.
	img, err := env.PushRandomImage(reg, "team/app", "1.1.0", "admin")
	must(t, err)
	appTags := []string{"1.2.0", "1.2.3", "1.10.0", "2.0.0", "2.1.0-rc.1", "2.1.0-rc.2", "1.25-alpine", "1.27-alpine", "1.27", "latest"}
	for _, tag := range appTags {
		must(t, env.Tag(reg, "team/app", img.Digest, tag, "admin"))
	}
	tool, err := env.PushRandomImage(reg, "team/tool", "v1.0.0", "admin")
	must(t, err)
	for _, tag := range []string{"v1.1.0", "v2.0.0"} {
		must(t, env.Tag(reg, "team/tool", tool.Digest, tag, "admin"))
	}

	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, "newer-node", "linux", "amd64"))
	_, err = c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	// Each pod runs its tag's digest (Current), so the goldens show the
	// versions next to a quiet workload.digest.
	deploy := func(name, image string, secrets ...string) {
		t.Helper()
		ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: reg.Host + "/" + image}}}
		for _, s := range secrets {
			ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		id := img.DigestRef
		if strings.HasPrefix(image, "team/tool:") {
			id = tool.DigestRef
		}
		_, err := c.RunDeployment(ctx, ns, name, 1, ps, "newer-node", func(int) map[string]string { return map[string]string{"app": id} })
		must(t, err)
	}
	deploy("app-120", "team/app:1.2.0", "regcred")
	deploy("app-120-again", "team/app:1.2.0", "regcred")
	deploy("app-200", "team/app:2.0.0", "regcred")
	deploy("app-rc", "team/app:2.1.0-rc.1", "regcred")
	deploy("app-alpine", "team/app:1.25-alpine", "regcred")
	deploy("app-latest", "team/app:latest", "regcred")
	deploy("tool", "team/tool:v1.0.0", "regcred")
	deploy("no-secret", "team/app:1.2.0")

	before, err := reg.Snapshot()
	must(t, err)
	type want struct {
		status  report.Status
		reason  report.Reason
		message string
		newer   []string
	}
	scan := func(scope string, wants map[string]want) string {
		t.Helper()
		args := []string{"regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--debug", "--newer-page-size", "3"}
		if scope != "" {
			args = append(args, "--newer="+scope)
		} else {
			args = append(args, "--newer")
		}
		r, res := runJSON(t, s, "", "kubectl", args...)
		if res.Code != 1 {
			t.Errorf("--newer=%s: exit %d, want 1 (no-secret cannot pull)\nstderr: %s", scope, res.Code, res.Stderr)
		}
		got := map[string]report.Result{}
		for _, x := range r.Results {
			if x.Check == report.CheckWorkloadVersion {
				got[strings.TrimPrefix(x.Workload, "Deployment/")] = x
			}
		}
		for name, w := range wants {
			x, ok := got[name]
			if !ok {
				t.Errorf("--newer=%s: no workload.version for %s:\n%s", scope, name, dump(r))
				continue
			}
			if x.Status != w.status || x.Reason != w.reason || (w.message != "" && x.Message != w.message) {
				t.Errorf("--newer=%s %s: %s/%s %q, want %s/%s %q", scope, name, x.Status, x.Reason, x.Message, w.status, w.reason, w.message)
			}
			var newer []string
			if n, ok := x.Evidence["newerTags"].([]any); ok {
				for _, v := range n {
					newer = append(newer, fmt.Sprint(v))
				}
			}
			if !slices.Equal(newer, w.newer) {
				t.Errorf("--newer=%s %s: newerTags %v, want %v", scope, name, newer, w.newer)
			}
			if w.reason == report.ReasonNewerVersion || w.reason == report.ReasonLatestVersion {
				if x.CredentialSource != "secret/"+ns+"/regcred" {
					t.Errorf("--newer=%s %s: credentialSource %q, want the pod's pull secret", scope, name, x.CredentialSource)
				}
			}
		}
		return res.Stderr
	}

	// The whole scan pings the registry once: the tags lists are read
	// with the token the lookups' HEADs already proved (batched for both
	// repositories), so no list sends a GET /v2/ of its own.
	reg.ResetStats()
	stderr := scan("", map[string]want{
		"app-120":       {report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out", []string{"2.0.0", "1.10.0", "1.2.3"}},
		"app-120-again": {report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out", []string{"2.0.0", "1.10.0", "1.2.3"}},
		"app-200":       {report.StatusPass, report.ReasonLatestVersion, "2.0.0 is the newest version of team/app", nil},
		"app-rc":        {report.StatusWarn, report.ReasonNewerVersion, "2.1.0-rc.1 → 2.1.0-rc.2 in 2.x", []string{"2.1.0-rc.2"}},
		"app-alpine":    {report.StatusWarn, report.ReasonNewerVersion, "1.25-alpine → 1.27-alpine in 1.x", []string{"1.27-alpine"}},
		"app-latest":    {report.StatusSkip, report.ReasonNotAVersion, "", nil},
		"tool":          {report.StatusWarn, report.ReasonNewerVersion, "v1.0.0 → v1.1.0 in 1.x; v2.0.0 is out", []string{"v2.0.0", "v1.1.0"}},
		"no-secret":     {report.StatusSkip, report.ReasonCredentialsRequired, "", nil},
	})
	// 11 tags at 3 a page: 4 pages, read once for the five workloads on
	// team/app (the anonymous lookup of no-secret failed: never listed).
	pages := 0
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, "GET ") && strings.Contains(line, "/v2/team/app/tags/list") && strings.Contains(line, "-> 200") {
			pages++
		}
	}
	if pages != 4 {
		t.Errorf("team/app's tags list read in %d pages, want 4 (11 tags, 3 a page, once per run):\n%s", pages, stderr)
	}
	if st := reg.Stats(); st.Ping != 1 {
		t.Errorf("--newer scan: %d GET /v2/ at the registry, want 1 (one ping, no proof per tags list): %+v\n%s", st.Ping, st, stderr)
	}

	scan("minor", map[string]want{
		"app-120": {report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out", []string{"1.10.0", "1.2.3"}},
		"app-200": {report.StatusPass, report.ReasonLatestVersion, "", nil},
		"tool":    {report.StatusWarn, report.ReasonNewerVersion, "v1.0.0 → v1.1.0 in 1.x; v2.0.0 is out", []string{"v1.1.0"}},
	})
	scan("patch", map[string]want{
		"app-120": {report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.2.3 in 1.2.x; 2.0.0 is out", []string{"1.2.3"}},
		"tool":    {report.StatusPass, report.ReasonLatestVersion, "v1.0.0 is the newest in 1.0.x; v2.0.0 is out (--newer=patch)", nil},
	})

	t.Run("golden table and markdown", func(t *testing.T) {
		for _, format := range []string{"table", "markdown"} {
			res := run(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--newer", "-o", format)
			golden(t, "newer."+format+".golden", normalize(res.Stdout, reg.Host))
		}
	})

	// The doctor's staleness check carries it too.
	r, _ := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "deploy/tool", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--newer")
	found := false
	for _, x := range r.Results {
		if x.Check == report.CheckWorkloadVersion && x.Reason == report.ReasonNewerVersion && x.Workload == "Deployment/tool" {
			// The rerun that verifies a fix must list the tags too.
			found = strings.Contains(fmt.Sprint(x.Evidence["verify"]), "--newer=major")
		}
	}
	if !found {
		t.Errorf("doctor --newer: no NewerVersion for tool:\n%s", dump(r))
	}

	// A scope that is not one is a flag error.
	if res := run(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--newer=latest"); res.Code != 2 {
		t.Errorf("--newer=latest: exit %d, want 2\nstderr: %s", res.Code, res.Stderr)
	}
	after, err := reg.Snapshot()
	must(t, err)
	if diff := env.DiffSnapshots(before, after); len(diff) > 0 {
		t.Errorf("--newer changed registry storage: %v", diff)
	}
}
