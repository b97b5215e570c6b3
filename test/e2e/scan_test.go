package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dockerConfigJSON is a dockerconfigjson payload for user on reg.
func dockerConfigJSON(t *testing.T, host, user, pass string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"auths": map[string]any{
		host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScan runs `kubectl regcheck` through the real kubectl against a real
// API server (pods made by the real controller manager, status written as
// the kubelet would) and a real token-auth registry. The statuses are
// hand-written on purpose: they are what one amd64 containerd node cannot
// produce (other architectures' children of an index, dockershim's
// docker-pullable:// IDs, runtimes reporting a config digest as imageID).
// What a real kubelet and containerd write is TestRealPullScan's
// (realpull_test.go).
func TestScan(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "scan-e2e"
	push := func(repo, tag string) env.Pushed {
		t.Helper()
		p, err := env.PushRandomImage(reg, repo, tag, "admin")
		must(t, err)
		return p
	}
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, "node-amd64", "linux", "amd64"))
	must(t, c.CreateNode(ctx, "node-arm64", "linux", "arm64"))
	secrets := c.Admin.CoreV1().Secrets(ns)
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)),
		env.DockerConfigSecret(ns, "badcred", dockerConfigJSON(t, reg.Host, "reader", "wrong")),
		// The API server validates the JSON of a dockerconfigjson secret,
		// so what reaches clusters malformed is the base64 inside it.
		env.DockerConfigSecret(ns, "malformed", []byte(`{"auths": {"`+reg.Host+`": {"auth": "%%not-base64%%"}}}`)),
	} {
		_, err := secrets.Create(ctx, sec, metav1.CreateOptions{})
		must(t, err)
	}
	_, err := c.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Name: "builder", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	}, metav1.CreateOptions{})
	must(t, err)

	web := push("team/web", "1.0")
	apiOld := push("team/api", "latest")
	workerOld := push("team/worker", "2.0")
	multi, err := env.PushIndex(reg, "team/multi", "1.0", "admin", []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}})
	must(t, err)
	amd64 := multi.Children[0]
	if amd64.Platform.Architecture != "amd64" {
		amd64 = multi.Children[1]
	}

	spec := func(image string, secrets ...string) corev1.PodSpec {
		ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}
		for _, s := range secrets {
			ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return ps
	}
	running := func(id string) func(int) map[string]string {
		return func(int) map[string]string { return map[string]string{"app": id} }
	}
	deploy := func(name string, replicas int32, ps corev1.PodSpec, node string, ids func(int) map[string]string) {
		t.Helper()
		_, err := c.RunDeployment(ctx, ns, name, replicas, ps, node, ids)
		must(t, err)
	}
	deploy("web", 2, spec(web.Ref, "regcred"), "node-amd64", running(web.DigestRef))
	apiSpec := spec(apiOld.Ref, "regcred")
	apiSpec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
	deploy("api", 1, apiSpec, "node-amd64", running("docker-pullable://"+apiOld.DigestRef))
	deploy("worker", 2, spec(workerOld.Ref, "regcred"), "node-amd64", nil)
	deploy("multi", 3, spec(multi.Ref, "regcred"), "node-amd64", func(i int) map[string]string {
		return map[string]string{"app": []string{multi.DigestRef, reg.Host + "/team/multi@" + amd64.Digest, amd64.ConfigDigest}[i]}
	})
	deploy("pinned", 1, spec(web.DigestRef, "regcred"), "node-amd64", running(web.DigestRef))
	deploy("pinned-missing", 1, spec(reg.Host+"/team/web@sha256:"+strings.Repeat("0", 64), "regcred"), "", nil)
	saSpec := spec(web.Ref)
	saSpec.ServiceAccountName = "builder"
	deploy("via-sa", 1, saSpec, "node-amd64", running(web.DigestRef))
	deploy("second-secret", 1, spec(web.Ref, "badcred", "regcred"), "node-amd64", running(web.DigestRef))
	deploy("malformed", 1, spec(web.Ref, "malformed"), "", nil)

	// Re-push: api's :latest moves on (its pod is now stale); worker gets a
	// new 2.0 and only one of its pods restarts onto it (a half rollout).
	apiNew := push("team/api", "latest")
	workerNew := push("team/worker", "2.0")
	pods, err := c.WaitForPods(ctx, ns, "app=worker", 2)
	must(t, err)
	must(t, c.SetPodRunning(ctx, ns, pods[0].Name, map[string]string{"app": workerOld.DigestRef}))
	must(t, c.SetPodRunning(ctx, ns, pods[1].Name, map[string]string{"app": workerNew.DigestRef}))

	before, err := reg.Snapshot()
	must(t, err)
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (stale and broken workloads)\nstderr: %s", res.Code, res.Stderr)
	}
	if r.Kind != report.KindScan {
		t.Errorf("kind = %q", r.Kind)
	}
	digest := func(workload string) report.Result {
		t.Helper()
		for _, x := range r.Results {
			if x.Workload == workload && x.Check == report.CheckWorkloadDigest {
				return x
			}
		}
		t.Fatalf("no workload.digest result for %s in %s", workload, dump(r))
		return report.Result{}
	}
	for _, tc := range []struct {
		workload string
		status   report.Status
		reason   report.Reason
		source   string
	}{
		{"Deployment/web", report.StatusPass, report.ReasonCurrent, "secret/" + ns + "/regcred"},
		{"Deployment/api", report.StatusFail, report.ReasonStale, "secret/" + ns + "/regcred"},
		{"Deployment/worker", report.StatusWarn, report.ReasonMixed, "secret/" + ns + "/regcred"},
		{"Deployment/multi", report.StatusPass, report.ReasonCurrent, "secret/" + ns + "/regcred"},
		{"Deployment/pinned", report.StatusPass, report.ReasonPinned, "secret/" + ns + "/regcred"},
		{"Deployment/pinned-missing", report.StatusFail, report.ReasonTagNotFound, ""},
		{"Deployment/via-sa", report.StatusPass, report.ReasonCurrent, "secret/" + ns + "/regcred"},
		{"Deployment/second-secret", report.StatusPass, report.ReasonCurrent, "secret/" + ns + "/regcred"},
	} {
		got := digest(tc.workload)
		if got.Status != tc.status || got.Reason != tc.reason {
			t.Errorf("%s: %s/%s, want %s/%s: %s", tc.workload, got.Status, got.Reason, tc.status, tc.reason, got.Message)
		}
		if tc.source != "" && got.CredentialSource != tc.source {
			t.Errorf("%s: credentialSource %q, want %q", tc.workload, got.CredentialSource, tc.source)
		}
	}
	if m := digest("Deployment/worker"); !strings.Contains(m.Message, "1") {
		t.Errorf("Mixed should count pods per digest: %q", m.Message)
	}
	var policy, malformed bool
	for _, x := range r.Results {
		if x.Workload == "Deployment/api" && x.Check == report.CheckWorkloadPullPolicy && x.Reason == report.ReasonMutableTagIfNotPresent {
			policy = true
		}
		if x.Check == report.CheckCredentialsSecret && x.Reason == report.ReasonMalformedCredentials && strings.HasSuffix(x.CredentialSource, "/malformed") {
			malformed = true
		}
		if x.Workload == "Deployment/malformed" && (x.Check == report.CheckWorkloadDigest ||
			x.Check == report.CheckRegistryPull && (x.Status != report.StatusFail || x.Reason != report.ReasonMalformedCredentials)) {
			// The kubelet cannot decode the secret: it fails the pull
			// before asking the registry, so there is no digest to compare.
			t.Errorf("Deployment/malformed %s: %s/%s, want only registry.pull fail MalformedCredentials: %s", x.Check, x.Status, x.Reason, x.Message)
		}
	}
	if !policy {
		t.Errorf("no MutableTagIfNotPresent for api:latest with IfNotPresent:\n%s", dump(r))
	}
	if !malformed {
		t.Errorf("no MalformedCredentials for the malformed secret:\n%s", dump(r))
	}
	after, err := reg.Snapshot()
	must(t, err)
	if diff := env.DiffSnapshots(before, after); len(diff) > 0 {
		t.Errorf("the scan changed registry storage: %v", diff)
	}

	t.Run("golden table and markdown", func(t *testing.T) {
		for _, format := range []string{"table", "markdown"} {
			res := run(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "-o", format)
			golden(t, "scan."+format+".golden", normalize(res.Stdout, reg.Host))
		}
	})

	t.Run("wide shows what a Stale workload runs and what its tag points to now", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "scan", "deploy/api", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "-o", "wide")
		want := imageref.ShortDigest(apiOld.Digest) + " → " + imageref.ShortDigest(apiNew.Digest)
		var line string
		for _, l := range strings.Split(res.Stdout, "\n") {
			if strings.Contains(l, string(report.CheckWorkloadDigest)) {
				line = l
			}
		}
		if !strings.Contains(line, string(report.ReasonStale)) || !strings.HasSuffix(strings.TrimSpace(line), want) {
			t.Errorf("the workload.digest row of -o wide should end with its DIGESTS %q:\n%s%s", want, res.Stdout, res.Stderr)
		}
	})

	t.Run("completion of workload names through kubectl", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "__complete", "scan", "-n", ns, "--kubeconfig", c.Kubeconfig, "deploy/we")
		if !strings.Contains(res.Stdout, "deploy/web\n") || strings.Contains(res.Stdout, "deploy/api") {
			t.Errorf("completion of deploy/we:\n%s%s", res.Stdout, res.Stderr)
		}
	})

	t.Run("a user who may not read secrets", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--context", c.ViewerContext, "--plain-http", "deploy/web")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1", res.Code)
		}
		expect(t, r, report.CheckCredentialsSecret, report.StatusWarn, report.ReasonCredentialsUnreadable)
		if got := digest2(r, "Deployment/web"); got.Reason != report.ReasonCredentialsRequired {
			t.Errorf("anonymous scan of a private image: %s, want CredentialsRequired", got.Reason)
		}
	})

	t.Run("regcheck auth with the service account's pull secret", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "auth", web.Ref, "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--service-account", "builder")
		if res.Code != 0 {
			t.Errorf("exit %d: %s", res.Code, dump(r))
		}
		got := expect(t, r, report.CheckRegistryPull, report.StatusPass, report.ReasonOk)
		if got.CredentialSource != "secret/"+ns+"/regcred" {
			t.Errorf("credentialSource %q", got.CredentialSource)
		}
	})
}

func digest2(r report.Report, workload string) report.Result {
	for _, x := range r.Results {
		if x.Workload == workload && x.Check == report.CheckWorkloadDigest {
			return x
		}
	}
	return report.Result{}
}

var (
	digestRE = regexp.MustCompile(`sha256:[0-9a-f]{64}|sha256:[0-9a-f]{12}\b`)
	podRE    = regexp.MustCompile(`-[a-z0-9]{6,10}-[a-z0-9]{5}\b`)
	timeRE   = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	ageRE    = regexp.MustCompile(`\b\d+(\.\d+)?(ms|s|m|h)\b`)
)

// normalize replaces what changes from run to run (random digests, the
// registry's port, times) so golden files stay stable.
func normalize(out, host string) string {
	out = strings.ReplaceAll(out, host, "REGISTRY")
	// distribution orders the actions of its challenge's scope at random.
	out = strings.ReplaceAll(out, ":push,pull", ":pull,push")
	out = digestRE.ReplaceAllStringFunc(out, func(d string) string {
		if strings.Trim(d[len("sha256:"):], "0") == "" {
			return d
		}
		return "sha256:DIGEST"
	})
	out = timeRE.ReplaceAllString(out, "TIME")
	out = podRE.ReplaceAllString(out, "-POD")
	return ageRE.ReplaceAllString(out, "AGE")
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/e2e -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", path, got)
	}
}
