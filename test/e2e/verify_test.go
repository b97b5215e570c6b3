package e2e

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// copyManifests copies testdata/verify/manifests into dir/manifests with
// the registry's address written in, and returns "manifests" (the path
// relative to the sandbox, where commands run, so golden files hold it).
func copyManifests(t *testing.T, dir, host string) string {
	t.Helper()
	src := filepath.Join("testdata", "verify", "manifests")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		dst := filepath.Join(dir, "manifests", rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, []byte(strings.ReplaceAll(string(b), "REGISTRY", host)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return "manifests"
}

// TestVerifyManifests runs the real `kubectl regcheck verify` on a
// directory of manifests (one case per failure verify exists to catch)
// against a real token-auth registry, without a cluster.
func TestVerifyManifests(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	for _, img := range [][2]string{{"team/web", "1.0"}, {"team/api", "latest"}} {
		if _, err := env.PushRandomImage(reg, img[0], img[1], "admin"); err != nil {
			t.Fatal(err)
		}
	}
	dir := copyManifests(t, s.Dir, reg.Host)
	reader := filepath.Join(s.Dir, "reader")
	writeDockerConfig(t, filepath.Join(reader, "config.json"), reg, "reader")
	anonymous := filepath.Join(s.Dir, "anonymous")
	writeDockerConfig(t, filepath.Join(anonymous, "config.json"), reg, "")
	verify := func(args ...string) []string {
		return append([]string{"regcheck", "verify", "--plain-http"}, args...)
	}

	t.Run("every case, with the reader's login", func(t *testing.T) {
		before, err := reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r, res := runJSON(t, s, "", "kubectl", verify("-f", dir, "-R", "--docker-config", reader, "-n", "shop")...)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
		}
		if r.Kind != report.KindVerify {
			t.Errorf("kind = %q", r.Kind)
		}
		type key struct {
			file      string
			line      int
			workload  string
			container string
			check     report.Check
		}
		got := map[key]report.Result{}
		for _, x := range r.Results {
			got[key{x.File, x.Line, x.Workload, x.Container, x.Check}] = x
			if x.File == "" || x.Line == 0 {
				t.Errorf("result without file and line: %+v", x)
			}
		}
		want := []struct {
			key
			status report.Status
			reason report.Reason
			ns     string
		}{
			{key{"manifests/web.yaml", 18, "Deployment/web", "migrate", report.CheckRegistryPull}, report.StatusFail, report.ReasonTagNotFound, "shop"},
			{key{"manifests/web.yaml", 22, "Deployment/web", "app", report.CheckRegistryPull}, report.StatusPass, report.ReasonOk, "shop"},
			{key{"manifests/web.yaml", 25, "Deployment/web", "sidecar", report.CheckImageReference}, report.StatusFail, report.ReasonInvalidReference, "shop"},
			{key{"manifests/cron.yaml", 16, "CronJob/report", "report", report.CheckRegistryPull}, report.StatusPass, report.ReasonOk, "batch"},
			{key{"manifests/cron.yaml", 16, "CronJob/report", "report", report.CheckWorkloadPullPolicy}, report.StatusWarn, report.ReasonMutableTagIfNotPresent, "batch"},
			{key{"manifests/list.json", 13, "Job/seed", "seed", report.CheckRegistryPull}, report.StatusFail, report.ReasonRepositoryNotFound, "shop"},
			{key{"manifests/list.json", 27, "StatefulSet/db", "db", report.CheckRegistryPull}, report.StatusPass, report.ReasonOk, "shop"},
			{key{"manifests/nested/pod.yaml", 12, "Pod/debug", "shell", report.CheckRegistryPull}, report.StatusPass, report.ReasonOk, "shop"},
		}
		for _, w := range want {
			x, ok := got[w.key]
			if !ok {
				t.Errorf("no result %+v in\n%s", w.key, dump(r))
				continue
			}
			if x.Status != w.status || x.Reason != w.reason || x.Namespace != w.ns {
				t.Errorf("%+v = %s/%s in %q, want %s/%s in %q: %s", w.key, x.Status, x.Reason, x.Namespace, w.status, w.reason, w.ns, x.Message)
			}
		}
		bare := got[key{"manifests/web.yaml", 25, "Deployment/web", "sidecar", report.CheckImageReference}]
		if c := bare.Evidence["corrected"]; c != reg.Host+"/team/web@sha256:"+strings.Repeat("0", 64) {
			t.Errorf("bare digest: corrected = %v", c)
		}
		pull := got[key{"manifests/web.yaml", 22, "Deployment/web", "app", report.CheckRegistryPull}]
		if pull.CredentialSource != "docker-config" || !strings.Contains(pull.Message, "the pods' pull secrets may differ") {
			t.Errorf("pull without a cluster: credentialSource %q, message %q", pull.CredentialSource, pull.Message)
		}
		// Services are read and passed over; only workloads give results.
		for _, x := range r.Results {
			if strings.Contains(x.Workload, "Service") {
				t.Errorf("a Service was checked: %+v", x)
			}
		}
		after, err := reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Error("verify changed the registry")
		}
	})

	t.Run("golden table and json", func(t *testing.T) {
		for _, format := range []string{"table", "json"} {
			res := run(t, s, "", "kubectl", verify("-f", dir, "-R", "--docker-config", reader, "-n", "shop", "-o", format)...)
			golden(t, "verify."+format+".golden", normalize(res.Stdout, reg.Host))
		}
	})

	t.Run("-o sarif validates, -o junit parses", func(t *testing.T) {
		res := run(t, s, "", "kubectl", verify("-f", dir, "-R", "--docker-config", reader, "-o", "sarif")...)
		if res.Code != 1 {
			t.Errorf("sarif: exit %d, want 1\n%s", res.Code, res.Stderr)
		}
		log, err := sarif.FromBytes([]byte(res.Stdout))
		if err != nil {
			t.Fatal(err)
		}
		if err := log.Validate(); err != nil {
			t.Errorf("not valid SARIF 2.1.0: %v", err)
		}
		located := false
		for _, x := range log.Runs[0].Results {
			if x.RuleID != nil && *x.RuleID == "TagNotFound" {
				loc := x.Locations[0].PhysicalLocation
				located = *loc.ArtifactLocation.URI == "manifests/web.yaml" && *loc.Region.StartLine == 18
			}
		}
		if !located {
			t.Errorf("no TagNotFound result at manifests/web.yaml:18 in\n%s", res.Stdout)
		}

		res = run(t, s, "", "kubectl", verify("-f", dir, "-R", "--docker-config", reader, "-o", "junit")...)
		var suites struct {
			Suites []struct {
				Name     string `xml:"name,attr"`
				Failures int    `xml:"failures,attr"`
				Cases    []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Type string `xml:"type,attr"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(res.Stdout), &suites); err != nil {
			t.Fatalf("JUnit does not parse: %v\n%s", err, res.Stdout)
		}
		if len(suites.Suites) != 1 || suites.Suites[0].Name != "regcheck VerifyReport" || suites.Suites[0].Failures != 3 || len(suites.Suites[0].Cases) != 16 {
			t.Errorf("JUnit: %+v", suites)
		}
	})

	t.Run("anonymous: the private images need credentials", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", verify("-f", dir+"/cron.yaml", "--docker-config", anonymous)...)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1", res.Code)
		}
		x := expect(t, r, report.CheckRegistryPull, report.StatusFail, report.ReasonCredentialsRequired)
		if x.CredentialSource != "anonymous" || x.Line != 16 {
			t.Errorf("credentialSource %q line %d", x.CredentialSource, x.Line)
		}
	})

	t.Run("a warning gates only with --fail-on warn", func(t *testing.T) {
		if res := run(t, s, "", "kubectl", verify("-f", dir+"/cron.yaml", "--docker-config", reader)...); res.Code != 0 {
			t.Errorf("exit %d, want 0\n%s%s", res.Code, res.Stdout, res.Stderr)
		}
		if res := run(t, s, "", "kubectl", verify("-f", dir+"/cron.yaml", "--docker-config", reader, "--fail-on", "warn")...); res.Code != 1 {
			t.Errorf("--fail-on warn: exit %d, want 1", res.Code)
		}
	})

	t.Run("stdin, and directories only with -R", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(s.Dir, dir, "nested", "pod.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		r, res := runJSON(t, s, string(b), "kubectl", verify("-f", "-", "--docker-config", reader)...)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\n%s", res.Code, res.Stderr)
		}
		if x := find(t, r, report.CheckRegistryPull); x.File != "STDIN" || x.Line != 9 {
			t.Errorf("stdin: file %q line %d", x.File, x.Line)
		}
		r, _ = runJSON(t, s, "", "kubectl", verify("-f", dir, "--docker-config", reader)...)
		for _, x := range r.Results {
			if strings.Contains(x.File, "nested") {
				t.Errorf("a subdirectory was read without -R: %s", x.File)
			}
		}
	})

	t.Run("cannot run: exit 2, no report", func(t *testing.T) {
		for _, args := range [][]string{
			{"-f", "missing.yaml"},
			{},
		} {
			res := run(t, s, "", "kubectl", verify(args...)...)
			if res.Code != 2 || res.Stdout != "" || !strings.HasPrefix(res.Stderr, "error: ") {
				t.Errorf("verify %v: exit %d, stdout %q, stderr %q", args, res.Code, res.Stdout, res.Stderr)
			}
		}
		bad := filepath.Join(s.Dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if res := run(t, s, "", "kubectl", verify("-f", "bad.yaml")...); res.Code != 2 || !strings.Contains(res.Stderr, "bad.yaml") {
			t.Errorf("malformed YAML: exit %d, stderr %q", res.Code, res.Stderr)
		}
	})
}

// TestVerifyCluster runs `kubectl regcheck verify` with a real API server:
// the pulls are checked with the pull secrets the target namespace gives
// (read from the cluster), missing secrets are named, and indexes are
// checked against the nodes' platforms.
func TestVerifyCluster(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "verify-e2e"
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, "verify-amd64", "linux", "amd64"))
	must(t, c.CreateNode(ctx, "verify-arm64", "linux", "arm64"))
	_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	_, err = c.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Name: "builder", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	}, metav1.CreateOptions{})
	must(t, err)
	_, err = env.PushRandomImage(reg, "team/web", "1.0", "admin")
	must(t, err)
	_, err = env.PushIndex(reg, "team/multi", "1.0", "admin", []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}})
	must(t, err)
	_, err = env.PushIndex(reg, "team/amd64", "1.0", "admin", []v1.Platform{{OS: "linux", Architecture: "amd64"}})
	must(t, err)
	b, err := os.ReadFile(filepath.Join("testdata", "verify", "cluster.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(s.Dir, "cluster.yaml"), []byte(strings.ReplaceAll(string(b), "REGISTRY", reg.Host)), 0o644))

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "verify", "-f", "cluster.yaml", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
	}
	type key struct {
		workload, container string
		check               report.Check
	}
	got := map[key]report.Result{}
	for _, x := range r.Results {
		got[key{x.Workload, x.Container, x.Check}] = x
	}
	for _, w := range []struct {
		key
		status report.Status
		reason report.Reason
		source string
		line   int
	}{
		{key{"Deployment/with-sa", "app", report.CheckRegistryPull}, report.StatusPass, report.ReasonOk, "secret/" + ns + "/regcred", 15},
		{key{"Deployment/with-sa", "multi", report.CheckImagePlatform}, report.StatusPass, report.ReasonOk, "", 18},
		{key{"Deployment/with-sa", "amd64-only", report.CheckImagePlatform}, report.StatusFail, report.ReasonPlatformNotInIndex, "", 21},
		{key{"Deployment/no-secret", "app", report.CheckRegistryPull}, report.StatusFail, report.ReasonCredentialsRequired, "anonymous", 35},
		{key{"Pod/missing-secret", "", report.CheckCredentialsSecret}, report.StatusFail, report.ReasonIncompleteCredentials, "secret/" + ns + "/not-there", 44},
	} {
		x, ok := got[w.key]
		if !ok {
			t.Errorf("no result %+v in\n%s", w.key, dump(r))
			continue
		}
		if x.Status != w.status || x.Reason != w.reason || x.CredentialSource != w.source || x.Line != w.line || x.Namespace != ns {
			t.Errorf("%+v = %s/%s from %q at line %d in %q, want %s/%s from %q at line %d in %q: %s",
				w.key, x.Status, x.Reason, x.CredentialSource, x.Line, x.Namespace, w.status, w.reason, w.source, w.line, ns, x.Message)
		}
		if strings.Contains(x.Message, "may differ") {
			t.Errorf("%+v says the cluster's credentials may differ, with the cluster's: %s", w.key, x.Message)
		}
	}
	if x := got[key{"Deployment/with-sa", "amd64-only", report.CheckImagePlatform}]; !strings.Contains(x.Message, "linux/arm64") {
		t.Errorf("the missing platform is not named: %s", x.Message)
	}

	t.Run("a pull secret the kubelet cannot decode: no pull is checked after it", func(t *testing.T) {
		auth := base64.StdEncoding.EncodeToString([]byte("reader:" + readerPass))
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "spaced", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+` "}}}`)), metav1.CreateOptions{})
		must(t, err)
		manifest := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: spaced\nspec:\n  imagePullSecrets:\n  - name: regcred\n  - name: spaced\n  containers:\n  - name: app\n    image: " + reg.Host + "/team/web:1.0\n"
		must(t, os.WriteFile(filepath.Join(s.Dir, "spaced.yaml"), []byte(manifest), 0o644))
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "verify", "-f", "spaced.yaml", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
		}
		var halted bool
		for _, x := range r.Results {
			switch {
			case x.Check == report.CheckRegistryPull:
				t.Errorf("a pull was checked (%s from %q) though the kubelet pulls nothing with this secret", x.Reason, x.CredentialSource)
			case x.Check == report.CheckRegistryCredentials && x.Reason == report.ReasonMalformedCredentials && x.Container == "app":
				halted = true
			}
		}
		if !halted {
			t.Errorf("no MalformedCredentials at the image:\n%s", dump(r))
		}
	})

	t.Run("--no-cluster uses local credentials", func(t *testing.T) {
		r, _ := runJSON(t, s, "", "kubectl", "regcheck", "verify", "-f", "cluster.yaml", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--no-cluster")
		for _, x := range r.Results {
			if x.Check == report.CheckCredentialsSecret || x.Check == report.CheckImagePlatform {
				t.Errorf("the cluster was read with --no-cluster: %+v", x)
			}
			if x.Check == report.CheckRegistryPull && (x.CredentialSource != "anonymous" || !strings.Contains(x.Message, "may differ")) {
				t.Errorf("registry.pull without the cluster: %q %s", x.CredentialSource, x.Message)
			}
		}
	})

	t.Run("an unreachable cluster named is exit 2", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "verify", "-f", "cluster.yaml", "--server", "http://"+closedPort(t), "--plain-http")
		if res.Code != 2 || res.Stdout != "" || !strings.Contains(res.Stderr, "--no-cluster") {
			t.Errorf("exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
	})
}

// copyDir copies src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVerifyChart runs `helm regcheck verify CHART` through the real helm:
// the chart rendered as helm template renders it (values, --set, hooks,
// -n), from a directory and from an OCI registry, without a cluster.
func TestVerifyChart(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	for _, img := range [][2]string{{"team/web", "1.0"}, {"team/api", "latest"}} {
		if _, err := env.PushRandomImage(reg, img[0], img[1], "admin"); err != nil {
			t.Fatal(err)
		}
	}
	copyDir(t, filepath.Join("testdata", "verify", "chart"), s.Dir)
	reader := filepath.Join(s.Dir, "reader.json")
	writeDockerConfig(t, reader, reg, "reader")
	// Helm's registry config is Docker's format: the reader's login serves
	// both the chart pull and the image checks.
	hs := s.With("HELM_REGISTRY_CONFIG=" + reader)
	type row struct {
		file      string
		line      int
		container string
		check     report.Check
		status    report.Status
		reason    report.Reason
	}
	expectRows := func(t *testing.T, r report.Report, ns string, want []row) {
		t.Helper()
		for _, w := range want {
			found := false
			for _, x := range r.Results {
				if x.File == w.file && x.Line == w.line && x.Container == w.container && x.Check == w.check {
					found = true
					if x.Status != w.status || x.Reason != w.reason || x.Namespace != ns {
						t.Errorf("%+v: got %s/%s in %q: %s", w, x.Status, x.Reason, x.Namespace, x.Message)
					}
				}
			}
			if !found {
				t.Errorf("no result %+v in\n%s", w, dump(r))
			}
		}
	}

	t.Run("a chart directory, with --set and -n", func(t *testing.T) {
		r, res := runJSON(t, hs, "", "helm", "regcheck", "verify", "shop", "--set", "registry="+reg.Host, "--set", "web.tag=9.9", "-n", "shop", "--plain-http")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\n%s", res.Code, res.Stderr)
		}
		expectRows(t, r, "shop", []row{
			{"shop/templates/deployment.yaml", 16, "web", report.CheckRegistryPull, report.StatusFail, report.ReasonTagNotFound},
			{"shop/templates/deployment.yaml", 19, "api", report.CheckRegistryPull, report.StatusPass, report.ReasonOk},
			{"shop/templates/deployment.yaml", 19, "api", report.CheckWorkloadPullPolicy, report.StatusWarn, report.ReasonMutableTagIfNotPresent},
			{"shop/templates/migrate.yaml", 14, "migrate", report.CheckRegistryPull, report.StatusFail, report.ReasonRepositoryNotFound},
		})
		for _, x := range r.Results {
			if x.Check == report.CheckRegistryPull && x.CredentialSource != "helm-registry-config" && x.CredentialSource != "docker-config" {
				t.Errorf("registry.pull with %q, want the local login", x.CredentialSource)
			}
		}
	})

	t.Run("values files with -f, as helm template", func(t *testing.T) {
		values := filepath.Join(s.Dir, "prod.yaml")
		if err := os.WriteFile(values, []byte("registry: "+reg.Host+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, _ := runJSON(t, hs, "", "helm", "regcheck", "verify", "shop", "-f", "prod.yaml", "--plain-http")
		expectRows(t, r, "default", []row{
			{"shop/templates/deployment.yaml", 16, "web", report.CheckRegistryPull, report.StatusPass, report.ReasonOk},
		})
	})

	t.Run("an OCI chart with --version", func(t *testing.T) {
		admin := filepath.Join(s.Dir, "admin.json")
		writeDockerConfig(t, admin, reg, "admin")
		if res := run(t, s, "", "helm", "package", "shop", "-d", s.Dir); res.Code != 0 {
			t.Fatalf("helm package: %s", res.Stderr)
		}
		if res := run(t, s.With("HELM_REGISTRY_CONFIG="+admin), "", "helm", "push", filepath.Join(s.Dir, "shop-0.1.0.tgz"), "oci://"+reg.Host+"/charts", "--plain-http"); res.Code != 0 {
			t.Fatalf("helm push: %s", res.Stderr)
		}
		r, res := runJSON(t, hs, "", "helm", "regcheck", "verify", "oci://"+reg.Host+"/charts/shop", "--version", "0.1.0", "--set", "registry="+reg.Host, "--plain-http")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1 (the hook's repository does not exist)\n%s", res.Code, res.Stderr)
		}
		expectRows(t, r, "default", []row{
			{"shop/templates/deployment.yaml", 16, "web", report.CheckRegistryPull, report.StatusPass, report.ReasonOk},
			{"shop/templates/migrate.yaml", 14, "migrate", report.CheckRegistryPull, report.StatusFail, report.ReasonRepositoryNotFound},
		})
	})

	t.Run("a chart that does not render is exit 2", func(t *testing.T) {
		res := run(t, hs, "", "helm", "regcheck", "verify", "no-such-chart")
		if res.Code != 2 || res.Stdout != "" || !strings.Contains(res.Stderr, "no-such-chart") {
			t.Errorf("exit %d, stdout %q, stderr %q", res.Code, res.Stdout, res.Stderr)
		}
	})
}
