package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestAuthTokenRegistry walks `kubectl regcheck auth` through the real
// kubectl against a real distribution registry with token auth (ES256
// JWTs with access claims, like Docker Hub and Harbor issue).
func TestAuthTokenRegistry(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken, Public: []string{"public/*"}})
	for _, repo := range []string{"team/app", "public/base"} {
		if _, err := env.PushRandomImage(reg, repo, "1.0", "admin"); err != nil {
			t.Fatal(err)
		}
	}
	anonymous := filepath.Join(s.Dir, "anonymous")
	writeDockerConfig(t, filepath.Join(anonymous, "config.json"), reg, "")
	admin := filepath.Join(s.Dir, "admin")
	writeDockerConfig(t, filepath.Join(admin, "config.json"), reg, "admin")
	reader := filepath.Join(s.Dir, "reader")
	writeDockerConfig(t, filepath.Join(reader, "config.json"), reg, "reader")

	cases := []struct {
		name     string
		image    string
		config   string
		push     bool
		check    report.Check
		status   report.Status
		reason   report.Reason
		exitCode int
	}{
		{"anonymous pull of a public repository", "public/base:1.0", anonymous, false, report.CheckRegistryPull, report.StatusPass, report.ReasonOk, 0},
		{"anonymous pull of a private repository", "team/app:1.0", anonymous, false, report.CheckRegistryPull, report.StatusFail, report.ReasonCredentialsRequired, 1},
		{"anonymous push (seed 1)", "team/app:1.0", anonymous, true, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied, 1},
		{"admin pull", "team/app:1.0", admin, false, report.CheckRegistryPull, report.StatusPass, report.ReasonOk, 0},
		{"admin push", "team/app:1.0", admin, true, report.CheckRegistryPush, report.StatusPass, report.ReasonOk, 0},
		{"pull-only user pushes", "team/app:1.0", reader, true, report.CheckRegistryPush, report.StatusFail, report.ReasonScopeNotGranted, 1},
		{"pull-only user pulls", "team/app:1.0", reader, false, report.CheckRegistryPull, report.StatusPass, report.ReasonOk, 0},
		{"missing repository", "team/nope:1.0", admin, false, report.CheckRegistryPull, report.StatusFail, report.ReasonRepositoryNotFound, 1},
		{"missing tag", "team/app:9.9", admin, false, report.CheckRegistryPull, report.StatusFail, report.ReasonTagNotFound, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := reg.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			args := []string{"regcheck", "auth", reg.Host + "/" + tc.image, "--plain-http", "--docker-config", tc.config}
			if tc.push {
				args = append(args, "--push")
			}
			r, res := runJSON(t, s, "", "kubectl", args...)
			if res.Code != tc.exitCode {
				t.Errorf("exit code %d, want %d\nstderr: %s", res.Code, tc.exitCode, res.Stderr)
			}
			got := expect(t, r, tc.check, tc.status, tc.reason)
			if got.Status != report.StatusPass && got.Remedy == "" {
				t.Errorf("a failed result must name a remedy: %+v", got)
			}
			if r.Kind != report.KindAuth {
				t.Errorf("kind = %q", r.Kind)
			}
			after, err := reg.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if diff := env.DiffSnapshots(before, after); len(diff) > 0 {
				t.Errorf("registry storage changed: %v", diff)
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		r, res := runJSON(t, s, "wrong-password\n", "kubectl", "regcheck", "auth", reg.Host+"/team/app:1.0",
			"--plain-http", "--username", "admin", "--password-stdin", "--docker-config", anonymous)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1", res.Code)
		}
		res0 := expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonInvalidCredentials)
		if res0.CredentialSource != "flags" {
			t.Errorf("credentialSource = %q, want flags", res0.CredentialSource)
		}
	})
	t.Run("right password on stdin", func(t *testing.T) {
		r, res := runJSON(t, s, adminPass+"\n", "kubectl", "regcheck", "auth", reg.Host+"/team/app:1.0",
			"--plain-http", "--username", "admin", "--password-stdin", "--docker-config", anonymous, "--push")
		if res.Code != 0 {
			t.Errorf("exit %d, want 0: %s", res.Code, dump(r))
		}
		expect(t, r, report.CheckRegistryPush, report.StatusPass, report.ReasonOk)
	})
}

// TestHelmPushAuth runs `helm regcheck push-auth` through the real helm,
// with Helm's registry config: anonymous (seed 1) and logged in.
func TestHelmPushAuth(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	empty := filepath.Join(s.Dir, "helm-anonymous.json")
	writeDockerConfig(t, empty, reg, "")
	loggedIn := filepath.Join(s.Dir, "helm-admin.json")
	writeDockerConfig(t, loggedIn, reg, "admin")

	r, res := runJSON(t, s.With("HELM_REGISTRY_CONFIG="+empty), "", "helm", "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "demo", "--plain-http")
	if res.Code != 1 {
		t.Errorf("anonymous push-auth exit %d, want 1", res.Code)
	}
	got := expect(t, r, report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
	if want := "helm registry login " + reg.Host; !strings.Contains(got.Remedy, want) {
		t.Errorf("remedy %q does not say %q", got.Remedy, want)
	}
	if got.Repository != "charts/demo" {
		t.Errorf("repository = %q, want charts/demo (helm pushes to PATH/<chart>)", got.Repository)
	}

	r, res = runJSON(t, s.With("HELM_REGISTRY_CONFIG="+loggedIn), "", "helm", "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "demo", "--plain-http")
	if res.Code != 0 {
		t.Errorf("logged-in push-auth exit %d, want 0: %s", res.Code, dump(r))
	}
	got = expect(t, r, report.CheckRegistryPush, report.StatusPass, report.ReasonOk)
	if got.CredentialSource != "helm-registry-config" {
		t.Errorf("credentialSource = %q, want helm-registry-config", got.CredentialSource)
	}
	for _, res := range r.Results {
		if res.Check == report.CheckRegistryPull {
			t.Errorf("push-auth must not check pull (the chart does not exist yet): %+v", res)
		}
	}
}

// TestAuthBasicAndTLS covers htpasswd basic auth and TLS with a test CA.
func TestAuthBasicAndTLS(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic, TLS: true})
	if _, err := env.PushRandomImage(reg, "team/app", "1.0", "admin"); err != nil {
		t.Fatal(err)
	}
	admin := filepath.Join(s.Dir, "admin")
	writeDockerConfig(t, filepath.Join(admin, "config.json"), reg, "admin")
	image := reg.Host + "/team/app:1.0"

	r, _ := runJSON(t, s, "", "kubectl", "regcheck", "auth", image, "--docker-config", admin)
	got := expect(t, r, report.CheckRegistryReachable, report.StatusFail, report.ReasonTLSError)
	if got.Remedy == "" || !strings.Contains(got.Remedy, "--ca-file") {
		t.Errorf("a TLS failure should suggest --ca-file, got %q", got.Remedy)
	}

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "auth", image, "--docker-config", admin, "--ca-file", reg.CAFile, "--push")
	if res.Code != 0 {
		t.Errorf("exit %d: %s", res.Code, dump(r))
	}
	expect(t, r, report.CheckRegistryPull, report.StatusPass, report.ReasonOk)
	expect(t, r, report.CheckRegistryPush, report.StatusPass, report.ReasonOk)
	if cred := find(t, r, report.CheckRegistryCredentials); cred.Evidence["method"] != "basic" {
		t.Errorf("method = %v, want basic", cred.Evidence["method"])
	}

	r, _ = runJSON(t, s, "wrong\n", "kubectl", "regcheck", "auth", image, "--ca-file", reg.CAFile, "--username", "admin", "--password-stdin")
	expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonInvalidCredentials)

	r, _ = runJSON(t, s, "", "kubectl", "regcheck", "auth", image, "--ca-file", reg.CAFile, "--docker-config", filepath.Join(s.Dir, "nowhere"))
	expect(t, r, report.CheckRegistryPull, report.StatusFail, report.ReasonCredentialsRequired)
}

// TestAnonymousRegistryPush: a registry without auth accepts the push
// check, and the cancelled upload leaves storage as it was.
func TestAnonymousRegistryPush(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthNone})
	if _, err := env.PushRandomImage(reg, "team/app", "1.0", ""); err != nil {
		t.Fatal(err)
	}
	before, err := reg.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "auth", reg.Host+"/team/app:1.0", "--plain-http", "--push")
	if res.Code != 0 {
		t.Fatalf("exit %d: %s", res.Code, dump(r))
	}
	push := expect(t, r, report.CheckRegistryPush, report.StatusPass, report.ReasonOk)
	after, err := reg.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Errorf("storage changed by the push check: %v (evidence %v)", env.DiffSnapshots(before, after), push.Evidence)
	}
}

// TestPushAuthAgreesWithHelmPush: for each identity, helm regcheck
// push-auth's verdict is the one the real `helm push` then meets.
func TestPushAuthAgreesWithHelmPush(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
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
	for _, user := range []string{"", "reader", "admin"} {
		cfg := filepath.Join(s.Dir, "helm-"+user+".json")
		writeDockerConfig(t, cfg, reg, user)
		hs := s.With("HELM_REGISTRY_CONFIG=" + cfg)
		check := run(t, hs, "", "helm", "regcheck", "push-auth", archive, "oci://"+reg.Host+"/charts", "--plain-http")
		push := run(t, hs, "", "helm", "push", archive, "oci://"+reg.Host+"/charts", "--plain-http")
		if (check.Code == 0) != (push.Code == 0) {
			t.Errorf("user %q: push-auth exit %d but helm push exit %d\npush-auth:\n%s\nhelm push:\n%s%s", user, check.Code, push.Code, check.Stdout, push.Stdout, push.Stderr)
		}
		if want := user == "admin"; (push.Code == 0) != want {
			t.Errorf("user %q: helm push exit %d, want success=%v: %s", user, push.Code, want, push.Stderr)
		}
	}
}

// TestHelmStopsAtABrokenEntry: Helm (oras-go) returns the decoding error
// of the host's entry in its registry config and does not fall back to
// Docker's config, whose entry would work; helm regcheck push-auth says
// so too (exit 1, MalformedCredentials), where it used to pass with
// Docker's entry. The control: with Helm's config empty, Docker's entry
// serves helm push and push-auth alike.
func TestHelmStopsAtABrokenEntry(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
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
	dockerDir := filepath.Join(s.Dir, "docker-admin")
	writeDockerConfig(t, filepath.Join(dockerDir, "config.json"), reg, "admin")
	for _, tc := range []struct {
		name, helmConfig string
		ok               bool
	}{
		{"helm's config empty: docker's entry", `{}`, true},
		{"helm's entry for the host does not decode", `{"auths":{"` + reg.Host + `":{"auth":"not base64!"}}}`, false},
	} {
		cfg := filepath.Join(s.Dir, "helm-broken.json")
		if err := os.WriteFile(cfg, []byte(tc.helmConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		hs := s.With("HELM_REGISTRY_CONFIG="+cfg, "DOCKER_CONFIG="+dockerDir)
		push := run(t, hs, "", "helm", "push", archive, "oci://"+reg.Host+"/charts", "--plain-http")
		r, check := runJSON(t, hs, "", "helm", "regcheck", "push-auth", archive, "oci://"+reg.Host+"/charts", "--plain-http")
		if (push.Code == 0) != tc.ok {
			t.Errorf("%s: the real helm push exit %d, want success=%v: %s", tc.name, push.Code, tc.ok, push.Stderr)
		}
		if (check.Code == 0) != (push.Code == 0) {
			t.Errorf("%s: push-auth exit %d but helm push exit %d\npush-auth:\n%s\nhelm push:\n%s", tc.name, check.Code, push.Code, dump(r), push.Stderr)
		}
		if !tc.ok {
			expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonMalformedCredentials)
		}
	}
}

// TestHelmFlagsAlone: helm push --username --password sends those and
// never asks its registry config, whose login would work; helm regcheck
// push-auth --username --password-stdin checks the same one credential
// (it used to fall back to the config's login after the flags' refusal).
func TestHelmFlagsAlone(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
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
	cfg := filepath.Join(s.Dir, "helm-admin.json")
	writeDockerConfig(t, cfg, reg, "admin")
	hs := s.With("HELM_REGISTRY_CONFIG=" + cfg)
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{adminPass, true}, {"wrong", false}} {
		push := run(t, hs, "", "helm", "push", archive, "oci://"+reg.Host+"/charts", "--plain-http", "--username", "admin", "--password", tc.pass)
		r, check := runJSON(t, hs, tc.pass+"\n", "helm", "regcheck", "push-auth", archive, "oci://"+reg.Host+"/charts", "--plain-http", "--username", "admin", "--password-stdin")
		if (push.Code == 0) != tc.ok {
			t.Errorf("password ok=%v: the real helm push exit %d: %s", tc.ok, push.Code, push.Stderr)
		}
		if (check.Code == 0) != (push.Code == 0) {
			t.Errorf("password ok=%v: push-auth exit %d but helm push exit %d\n%s", tc.ok, check.Code, push.Code, dump(r))
		}
		for _, x := range r.Results {
			if x.CredentialSource != "" && x.CredentialSource != "flags" {
				t.Errorf("password ok=%v: %s used %q, which helm push does not send with --username", tc.ok, x.Check, x.CredentialSource)
			}
		}
	}
}
