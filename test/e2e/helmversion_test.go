package e2e

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// helmClient is one real Helm with regcheck installed as its plugin, in a
// home of its own.
type helmClient struct {
	name, bin, version string
	s                  *env.Sandbox
}

// installFor installs the repository as a plugin of bin in its own Helm
// home (Helm 4 links a local directory into its data home, so homes are
// not shared).
func installFor(t *testing.T, s *env.Sandbox, name, bin string) helmClient {
	t.Helper()
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return installFrom(t, s, name, bin, root)
}

// installFrom installs the plugin in dir into a fresh Helm home for bin.
func installFrom(t *testing.T, s *env.Sandbox, name, bin, dir string) helmClient {
	t.Helper()
	home := filepath.Join(s.Dir, name)
	hs := s.With(helmHomeEnv(home)...)
	if res := run(t, hs, "", bin, "plugin", "install", dir); res.Code != 0 {
		t.Fatalf("%s plugin install: exit %d\n%s%s", name, res.Code, res.Stdout, res.Stderr)
	}
	return helmClient{name: name, bin: bin, s: hs}
}

// installAsArchive installs the plugin as a release archive lays it out
// (the binary next to the hook-free plugin.yaml of
// scripts/archive-plugin-yaml.sh): the way Helm releases before 3.18, which
// refuse the repository's platformHooks, install regcheck (README).
func installAsArchive(t *testing.T, s *env.Sandbox, name, bin, root string) helmClient {
	t.Helper()
	dir := filepath.Join(s.Dir, name+"-plugin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := "kubectl-regcheck"
	out, err := exec.Command("bash", filepath.Join(root, "scripts", "archive-plugin-yaml.sh"), runtime.GOOS, runtime.GOARCH, exe).Output()
	if err != nil {
		t.Fatalf("scripts/archive-plugin-yaml.sh: %v", packagingExitDetail(err))
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "bin", exe), filepath.Join(dir, exe)); err != nil {
		t.Fatal(err)
	}
	return installFrom(t, s, name, bin, dir)
}

// helm314 is Helm v3.14.4, from the range with the anonymous-push bug. It
// is built (scripts/build-helm314.sh, about 3 CPU-minutes cold) only when
// REGCHECK_E2E_HELM314=1; otherwise a cached build is used if present.
func helm314(t *testing.T, root string) string {
	t.Helper()
	if os.Getenv("REGCHECK_E2E_HELM314") == "" {
		t.Skip("Helm v3.14.4 is built only with REGCHECK_E2E_HELM314=1 (make e2e-helm314)")
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-helm314.sh"))
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-helm314.sh: %v", packagingExitDetail(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return filepath.Join(lines[len(lines)-1], "helm314")
}

// TestHelmVersion: under the real Helm 3 and Helm 4 the tests build (both
// fixed releases) push-auth, pull-auth and doctor report helm.version
// pass/Ok and name the release; the debug trace says regcheck's first
// token request is the one that Helm sends.
func TestHelmVersion(t *testing.T) {
	s := newSandbox(t)
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	empty := filepath.Join(s.Dir, "helm-anonymous.json")
	writeDockerConfig(t, empty, reg, "")
	remote := "oci://" + reg.Host + "/charts"

	helms := []helmClient{
		{name: "helm3", bin: s.Tools.Helm, version: "v3.22.0", s: s},
		installFor(t, s, "helm4", packagingTools(t, root).helm4),
	}
	helms[1].version = "v4.3.1"
	for _, h := range helms {
		t.Run(h.name, func(t *testing.T) {
			hs := h.s.With("HELM_REGISTRY_CONFIG=" + empty)
			r, res := runJSON(t, hs, "", h.bin, "regcheck", "push-auth", remote, "--chart", "demo", "--plain-http", "--debug")
			got := expect(t, r, report.CheckHelmVersion, report.StatusPass, report.ReasonOk)
			if got.Evidence["helmVersion"] != h.version || !strings.Contains(got.Message, h.version) {
				t.Errorf("helm.version names %v / %q, want %s", got.Evidence["helmVersion"], got.Message, h.version)
			}
			if want := "regcheck asks repository:charts/demo:pull,push in its first token request, as Helm " + h.version + " will"; !strings.Contains(res.Stderr, want) {
				t.Errorf("--debug does not say %q:\n%s", want, res.Stderr)
			}
			push := expect(t, r, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
			if _, ok := push.Evidence["helmTokenRequest"]; ok {
				t.Errorf("a fixed Helm sends what regcheck sent; no helmTokenRequest expected: %v", push.Evidence)
			}

			r, _ = runJSON(t, hs, "", h.bin, "regcheck", "pull-auth", remote+"/demo:0.1.0", "--plain-http")
			expect(t, r, report.CheckHelmVersion, report.StatusPass, report.ReasonOk)

			r, _ = runJSON(t, hs, "", h.bin, "regcheck", "doctor", "--registry", reg.Host, "--plain-http")
			if got := r.Results[0]; got.Check != report.CheckHelmVersion || got.Status != report.StatusPass {
				t.Errorf("doctor's first item = %s/%s, want helm.version pass\n%s", got.Check, got.Status, dump(r))
			}
			md := run(t, hs, "", h.bin, "regcheck", "doctor", "--registry", reg.Host, "--plain-http", "-o", "markdown")
			if want := "Helm client: `" + h.version + "`"; !strings.Contains(md.Stdout, want) {
				t.Errorf("the incident report does not name the Helm client (%s):\n%s", want, md.Stdout)
			}
		})
	}

	// Not under Helm there is no helm.version at all.
	r, _ := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "--registry", reg.Host, "--plain-http")
	for _, res := range r.Results {
		if res.Check == report.CheckHelmVersion {
			t.Errorf("kubectl regcheck doctor reported helm.version: %+v", res)
		}
	}
}

// seedTokenEndpoint is the registry of SEEDS.md incident 1: its token
// endpoint cuts off its answer to an anonymous request that asks push.
func seedTokenEndpoint() env.Fault {
	cut := env.Truncate()
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		_ = r.ParseForm()
		scopes := strings.Join(append(q["scope"], r.PostForm["scope"]...), " ")
		if r.Header.Get("Authorization") == "" && strings.Contains(scopes, "push") {
			cut(w, r, upstream)
			return
		}
		upstream.ServeHTTP(w, r)
	}
}

// TestHelmVersionKnownBug runs Helm v3.14.4 (built from the module proxy):
// helm.version warns KnownHelmBug, the push verdict says which token
// request this Helm sends, and the real `helm push` of this Helm and of
// v3.22.0 meet the registry that refuses anonymous pushes, plainly and the
// seed's way (a cut-off token answer). What each push printed is logged.
func TestHelmVersionKnownBug(t *testing.T) {
	s := newSandbox(t)
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	old := installAsArchive(t, s, "helm314", helm314(t, root), root)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	proxy, err := env.StartFaultProxy(reg, &env.FaultRule{Name: "seed token endpoint", Path: env.PathToken, Fault: seedTokenEndpoint()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	empty := filepath.Join(s.Dir, "helm-anonymous.json")
	writeDockerConfig(t, empty, reg, "")
	hs := old.s.With("HELM_REGISTRY_CONFIG=" + empty)

	r, res := runJSON(t, hs, "", old.bin, "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "demo", "--plain-http", "--debug")
	got := expect(t, r, report.CheckHelmVersion, report.StatusWarn, report.ReasonKnownHelmBug)
	for _, want := range []string{"Helm v3.14.4", "unexpected EOF", "fixed in v3.15.0", "helm/helm#12835"} {
		if !strings.Contains(got.Message, want) {
			t.Errorf("helm.version message %q lacks %q", got.Message, want)
		}
	}
	if got.Evidence["bug"] != "anonymous-push-eof" || !strings.Contains(got.Remedy, "v3.15.0") {
		t.Errorf("evidence %v remedy %q", got.Evidence, got.Remedy)
	}
	push := expect(t, r, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
	want := "Helm v3.14.4 will send one token request with two scopes, repository:charts/demo:pull and repository:charts/demo:pull,push"
	if !strings.Contains(push.Message, want) || push.Evidence["helmTokenRequest"] == nil {
		t.Errorf("the push verdict does not say how this Helm asks (%q):\n%s", want, dump(r))
	}
	if !strings.Contains(res.Stderr, "Helm v3.14.4 will send one token request with two scopes") {
		t.Errorf("--debug does not say which request Helm v3.14.4 sends:\n%s", res.Stderr)
	}
	r, _ = runJSON(t, hs, "", old.bin, "regcheck", "pull-auth", "oci://"+reg.Host+"/charts/demo:0.1.0", "--plain-http")
	expect(t, r, report.CheckHelmVersion, report.StatusPass, report.ReasonOk) // the bug is push-only

	// The real pushes: the chart, anonymously, to the plain refusing
	// registry and to the seed's token endpoint, with v3.14.4 and v3.22.0.
	chart := filepath.Join(s.Dir, "demo")
	if err := os.MkdirAll(chart, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: demo\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := run(t, s, "", "helm", "package", chart, "-d", s.Dir); res.Code != 0 {
		t.Fatalf("helm package: %s", res.Stderr)
	}
	archive := filepath.Join(s.Dir, "demo-0.1.0.tgz")
	for _, h := range []struct{ name, bin string }{{"v3.14.4", old.bin}, {"v3.22.0", s.Tools.Helm}} {
		for _, target := range []struct{ name, host string }{{"refusing registry", reg.Host}, {"seed token endpoint", proxy.Host}} {
			res := run(t, hs, "", h.bin, "push", archive, "oci://"+target.host+"/charts", "--plain-http")
			t.Logf("helm %s push, anonymous, %s: exit %d: %s", h.name, target.name, res.Code, strings.TrimSpace(res.Stderr))
			if res.Code == 0 {
				t.Errorf("helm %s pushed anonymously to the %s", h.name, target.name)
			}
			// regcheck's verdict for the same target, under this Helm's version.
			r, _ := runJSON(t, hs, "", old.bin, "regcheck", "push-auth", "oci://"+target.host+"/charts", "--chart", "demo", "--plain-http")
			expect(t, r, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
		}
	}
}
