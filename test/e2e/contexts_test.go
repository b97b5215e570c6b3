package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestContexts runs `scan` and `doctor` over several kubeconfig contexts
// in one run (--contexts, --all-contexts), as the real kubectl and helm
// run the plugin: two contexts on the real API server, each with its own
// default namespace (one runs a stale image, one a current one), and a
// third whose server is a closed port. Every result names its context;
// the unreachable one is a cluster.read skip, not the end of the run.
func TestContexts(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	old, err := env.PushRandomImage(reg, "fleet/app", "v1", "")
	must(t, err)
	now, err := env.PushRandomImage(reg, "fleet/app", "v1", "") // v1 moves on: "east" runs the old digest
	must(t, err)
	must(t, c.CreateNode(ctx, "contexts-node", "linux", "amd64"))
	for ns, running := range map[string]env.Pushed{"ctx-east": old, "ctx-west": now} {
		must(t, c.CreateNamespace(ctx, ns))
		_, err := c.RunDeployment(ctx, ns, "app", 1, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: now.Ref}}},
			"contexts-node", func(int) map[string]string { return map[string]string{"app": running.DigestRef} })
		must(t, err)
	}
	// A workload east runs and west does not.
	_, err = c.RunDeployment(ctx, "ctx-east", "east-only", 1, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: now.Ref}}},
		"contexts-node", func(int) map[string]string { return map[string]string{"app": now.DigestRef} })
	must(t, err)

	// The user's kubeconfig with three more contexts, as a fleet's has.
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	must(t, err)
	admin := cfg.Contexts[env.AdminContext]
	cfg.Contexts["east"] = &clientcmdapi.Context{Cluster: admin.Cluster, AuthInfo: admin.AuthInfo, Namespace: "ctx-east"}
	cfg.Contexts["west"] = &clientcmdapi.Context{Cluster: admin.Cluster, AuthInfo: admin.AuthInfo, Namespace: "ctx-west"}
	port, err := env.FreePort()
	must(t, err)
	down := *cfg.Clusters[admin.Cluster]
	down.Server = fmt.Sprintf("https://127.0.0.1:%d", port) // nothing listens
	cfg.Clusters["down"] = &down
	cfg.Contexts["down"] = &clientcmdapi.Context{Cluster: "down", AuthInfo: admin.AuthInfo, Namespace: "ctx-east"}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, kubeconfig))

	byContext := func(r report.Report) map[string][]report.Result {
		out := map[string][]report.Result{}
		for _, x := range r.Results {
			out[x.Context] = append(out[x.Context], x)
		}
		return out
	}
	digestOf := func(rs []report.Result) report.Result {
		for _, x := range rs {
			if x.Check == report.CheckWorkloadDigest {
				return x
			}
		}
		return report.Result{}
	}

	t.Run("scan --contexts", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "scan", "--kubeconfig", kubeconfig, "--contexts", "east,down,west", "--plain-http", "--timeout", "30s")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1 (east is Stale; an unreachable context is only a skip)\nstderr: %s\n%s", res.Code, res.Stderr, dump(r))
		}
		got := byContext(r)
		if len(got[""]) != 0 {
			t.Errorf("results without a context: %v", got[""])
		}
		if d := digestOf(got["east"]); d.Reason != report.ReasonStale || d.Namespace != "ctx-east" || !strings.Contains(d.Remedy, "rollout restart deployment/app --context east -n ctx-east") {
			t.Errorf("east: workload.digest %s/%s in %q, want Stale in ctx-east, its remedy naming the context\n%s", d.Status, d.Reason, d.Namespace, dump(r))
		}
		if d := digestOf(got["west"]); d.Reason != report.ReasonCurrent || d.Namespace != "ctx-west" {
			t.Errorf("west: workload.digest %s/%s in %q, want Current in ctx-west\n%s", d.Status, d.Reason, d.Namespace, dump(r))
		}
		if dn := got["down"]; len(dn) != 1 || dn[0].Check != report.CheckClusterRead || dn[0].Status != report.StatusSkip || dn[0].Reason != report.ReasonUnreachable {
			t.Errorf("down: %v, want one cluster.read skip Unreachable", dn)
		}
		if !strings.Contains(res.Stderr, "context down") {
			t.Errorf("stderr does not warn about the down context: %s", res.Stderr)
		}
	})

	t.Run("a named workload missing in one context", func(t *testing.T) {
		// kubectl's words, then which context: "not found" alone does not
		// say which cluster of a fleet lacks it.
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "scan", "deploy/east-only", "--kubeconfig", kubeconfig, "--contexts", "east,west", "--plain-http")
		if res.Code != report.ExitCannotRun {
			t.Errorf("exit %d, want %d (a named workload was not found)\nstderr: %s", res.Code, report.ExitCannotRun, res.Stderr)
		}
		want := `Error from server (NotFound): deployments.apps "east-only" not found in context west`
		if !strings.Contains(res.Stderr, want) || strings.Count(res.Stderr, "not found") != 1 {
			t.Errorf("stderr does not say %q (and only that):\n%s", want, res.Stderr)
		}
		if d := digestOf(byContext(r)["east"]); d.Reason != report.ReasonCurrent || !strings.HasSuffix(d.Workload, "/east-only") {
			t.Errorf("east: workload.digest %s/%s of %q, want Current of east-only\n%s", d.Status, d.Reason, d.Workload, dump(r))
		}
	})

	t.Run("scan --all-contexts table", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "scan", "--kubeconfig", kubeconfig, "--all-contexts", "--plain-http", "--timeout", "30s", "-l", "app=app")
		head, _, _ := strings.Cut(res.Stdout, "\n")
		if !strings.HasPrefix(head, "CONTEXT") {
			t.Errorf("the table's first column is not CONTEXT:\n%s", res.Stdout)
		}
		for _, want := range []string{"east ", "west ", "down "} {
			if !strings.Contains(res.Stdout, "\n"+want) {
				t.Errorf("no %q row:\n%s\nstderr: %s", want, res.Stdout, res.Stderr)
			}
		}
	})

	t.Run("Helm's kube-context gives way", func(t *testing.T) {
		// helm sets HELM_KUBECONTEXT from --kube-context for every plugin;
		// --contexts is the user's choice and wins.
		r, res := runJSON(t, s, "", "helm", "--kubeconfig", kubeconfig, "--kube-context", "down", "regcheck", "scan", "--contexts", "east,west", "--plain-http")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1 (east is Stale)\nstderr: %s", res.Code, res.Stderr)
		}
		got := byContext(r)
		if len(got["down"]) != 0 || digestOf(got["east"]).Reason != report.ReasonStale {
			t.Errorf("helm --kube-context down regcheck scan --contexts east,west:\n%s", dump(r))
		}
	})

	t.Run("doctor --contexts", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "deploy/app", "--kubeconfig", kubeconfig, "--contexts", "east,west", "--plain-http", "--only", "staleness")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1 (east is Stale)\nstderr: %s", res.Code, res.Stderr)
		}
		got := byContext(r)
		if digestOf(got["east"]).Reason != report.ReasonStale || digestOf(got["west"]).Reason != report.ReasonCurrent {
			t.Errorf("doctor staleness by context:\n%s", dump(r))
		}
	})

	t.Run("refused before any cluster is asked", func(t *testing.T) {
		for _, args := range [][]string{
			{"--contexts", "east", "--context", "west"},
			{"--contexts", "east", "--all-contexts"},
			{"--contexts", "east,east"},
			{"--contexts", "nowhere"},
		} {
			res := run(t, s, "", "kubectl", append([]string{"regcheck", "scan", "--kubeconfig", kubeconfig}, args...)...)
			if res.Code != report.ExitCannotRun {
				t.Errorf("%v: exit %d, want %d\nstderr: %s", args, res.Code, report.ExitCannotRun, res.Stderr)
			}
		}
	})
}
