package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// releaseChart is a tiny chart: one Deployment whose image is a value
// (left out with enabled=false), and a ConfigMap and a Service that are not
// workloads. The ConfigMap carries a value so the test can prove release
// contents (which Helm's secret driver decodes) never reach the output.
var releaseChart = map[string]string{
	"Chart.yaml": `apiVersion: v2
name: demo
version: 0.1.0
`,
	"values.yaml": `image: ""
enabled: true
canary: ""
`,
	"templates/deployment.yaml": `{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {{ .Release.Name }}-web
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}-web
    spec:
      imagePullSecrets:
      - name: regcred
      containers:
      - name: app
        image: {{ .Values.image | quote }}
{{- end }}
`,
	"templates/other.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  canary: {{ .Values.canary | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    app: {{ .Release.Name }}-web
  ports:
  - port: 80
`,
}

// TestRelease runs `helm regcheck release` through the real helm against a
// release the real helm installed (stored by Helm's secret driver in the
// real API server) and a real token-auth registry.
func TestRelease(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t).With("KUBECONFIG=" + c.Kubeconfig)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const (
		ns     = "release-e2e"
		node   = "release-e2e-node"
		canary = "RELEASE-VALUE-CANARY"
	)
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, node, "linux", "amd64"))
	_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx,
		env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	web, err := env.PushRandomImage(reg, "release/web", "1.0", "admin")
	must(t, err)
	other, err := env.PushRandomImage(reg, "release/other", "1.0", "admin")
	must(t, err)

	chart := t.TempDir()
	for name, body := range releaseChart {
		path := filepath.Join(chart, name)
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(body), 0o644))
	}
	helm := func(args ...string) env.Result {
		t.Helper()
		res := run(t, s, "", "helm", args...)
		if res.Code != 0 {
			t.Fatalf("helm %s: exit %d\n%s%s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
		}
		return res
	}
	// Without --wait helm returns once the objects exist: there is no kubelet.
	helm("install", "demo", chart, "-n", ns, "--kubeconfig", c.Kubeconfig, "--set", "image="+web.Ref, "--set", "canary="+canary)
	helm("install", "empty", chart, "-n", ns, "--kubeconfig", c.Kubeconfig, "--set", "enabled=false", "--set", "canary="+canary)

	// Play scheduler and kubelet for the release's pod.
	pods, err := c.WaitForPods(ctx, ns, "app=demo-web", 1)
	must(t, err)
	must(t, c.BindPod(ctx, ns, pods[0].Name, node))
	must(t, c.SetPodRunning(ctx, ns, pods[0].Name, map[string]string{"app": web.DigestRef}))
	// A release whose pod cannot pull: a tag that was never pushed.
	missing := reg.Host + "/release/web:1.1"
	helm("install", "broken", chart, "-n", ns, "--kubeconfig", c.Kubeconfig, "--set", "image="+missing, "--set", "canary="+canary)
	broken, err := c.WaitForPods(ctx, ns, "app=broken-web", 1)
	must(t, err)
	must(t, c.BindPod(ctx, ns, broken[0].Name, node))
	must(t, c.FailPull(ctx, ns, broken[0].Name, node, env.PullFailure{Container: "app", Waiting: "ImagePullBackOff",
		Message: fmt.Sprintf("rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found", missing, missing, missing)}))
	// A workload in the same namespace that the release does not own.
	_, err = c.RunDeployment(ctx, ns, "outsider", 1, spec1(other.Ref, "regcred"), node,
		func(int) map[string]string { return map[string]string{"app": other.DigestRef} })
	must(t, err)

	noLeak := func(t *testing.T, res env.Result) {
		t.Helper()
		for _, secret := range []string{canary, readerPass} {
			if strings.Contains(res.Stdout, secret) || strings.Contains(res.Stderr, secret) {
				t.Errorf("output holds %q, from the release or its pull secret", secret)
			}
		}
	}
	release := func(t *testing.T, name string, extra ...string) (report.Report, env.Result) {
		t.Helper()
		// helm strips -n (and --debug) and passes HELM_NAMESPACE (HELM_DEBUG).
		args := append([]string{"-n", ns}, extra...)
		args = append(args, "regcheck", "release", name, "--plain-http")
		r, res := runJSON(t, s, "", "helm", args...)
		noLeak(t, res)
		if r.Kind != report.KindScan {
			t.Errorf("kind = %q, want %s", r.Kind, report.KindScan)
		}
		for _, x := range r.Results {
			if x.Workload == "Deployment/outsider" || x.Namespace != ns {
				t.Errorf("a result outside the release: %s %s %s", x.Namespace, x.Workload, x.Check)
			}
			if x.Evidence["release"] != name {
				t.Errorf("%s %s: evidence.release = %v, want %s", x.Workload, x.Check, x.Evidence["release"], name)
			}
		}
		return r, res
	}

	t.Run("the release's deployment is current", func(t *testing.T) {
		r, res := release(t, "demo", "--debug")
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s", res.Code, res.Stderr)
		}
		got := digest2(r, "Deployment/demo-web")
		if got.Status != report.StatusPass || got.Reason != report.ReasonCurrent {
			t.Errorf("Deployment/demo-web = %s/%s, want pass/Current: %s\n%s", got.Status, got.Reason, got.Message, dump(r))
		}
		if got.CredentialSource != "secret/"+ns+"/regcred" {
			t.Errorf("credentialSource %q, want the chart's pull secret", got.CredentialSource)
		}
	})

	t.Run("a release whose pod cannot pull: the kubelet's words, replayed", func(t *testing.T) {
		r, res := release(t, "broken")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		got := expect(t, r, report.CheckWorkloadPull, report.StatusFail, report.ReasonTagNotFound)
		if got.Evidence["replay"] != string(report.ReasonTagNotFound) || !strings.Contains(got.Remedy, "near 1.1: 1.0") {
			t.Errorf("replay %v, remedy %q: want TagNotFound replayed and the tag near 1.1 named", got.Evidence["replay"], got.Remedy)
		}
	})

	t.Run("--newer: the release's tags compared, with its pull secret", func(t *testing.T) {
		r, res := runJSON(t, s, "", "helm", "-n", ns, "regcheck", "release", "demo", "--plain-http", "--newer")
		noLeak(t, res)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s", res.Code, res.Stderr)
		}
		got := expect(t, r, report.CheckWorkloadVersion, report.StatusPass, report.ReasonLatestVersion)
		if got.Message != "1.0 is the newest version of release/web" || got.CredentialSource != "secret/"+ns+"/regcred" || got.Evidence["release"] != "demo" {
			t.Errorf("%q with %q, release %v", got.Message, got.CredentialSource, got.Evidence["release"])
		}
	})

	t.Run("a release without workloads is an empty report", func(t *testing.T) {
		r, res := release(t, "empty")
		if res.Code != 0 || len(r.Results) != 0 {
			t.Errorf("exit %d, %d results, want 0 and none (the namespace's other workloads are not the release's)\n%s", res.Code, len(r.Results), dump(r))
		}
	})

	t.Run("a release that does not exist", func(t *testing.T) {
		res := run(t, s, "", "helm", "-n", ns, "regcheck", "release", "nope")
		if res.Code != 2 {
			t.Errorf("exit %d, want 2", res.Code)
		}
		if want := "release nope not found in namespace " + ns; !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr %q does not say %q", res.Stderr, want)
		}
		if res.Stdout != "" || strings.Contains(res.Stderr, "goroutine ") {
			t.Errorf("stdout %q, stderr %q: want only the error on stderr", res.Stdout, res.Stderr)
		}
	})

	t.Run("a user who may not read Helm's secrets", func(t *testing.T) {
		res := run(t, s, "", "helm", "-n", ns, "--kube-context", c.ViewerContext, "regcheck", "release", "demo")
		if res.Code != 2 {
			t.Errorf("exit %d, want 2\nstderr: %s", res.Code, res.Stderr)
		}
		for _, want := range []string{"may not list secrets in namespace " + ns, "ask for get and list on secrets"} {
			if !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr %q does not say %q", res.Stderr, want)
			}
		}
		noLeak(t, res)
	})

	t.Run("the tag moved on: stale", func(t *testing.T) {
		_, err := env.PushRandomImage(reg, "release/web", "1.0", "admin")
		must(t, err)
		r, res := release(t, "demo")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		if got := digest2(r, "Deployment/demo-web"); got.Reason != report.ReasonStale {
			t.Errorf("Deployment/demo-web = %s/%s, want fail/Stale\n%s", got.Status, got.Reason, dump(r))
		}
	})
}
