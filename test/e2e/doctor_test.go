package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// doctorCheck finds the result of a doctor check (Evidence["doctorCheck"])
// with the given check name, failing the test when none.
func doctorCheck(t *testing.T, r report.Report, id string, check report.Check) report.Result {
	t.Helper()
	for _, res := range r.Results {
		if res.Evidence["doctorCheck"] == id && res.Check == check {
			return res
		}
	}
	t.Fatalf("no %s/%s result in %s", id, check, dump(r))
	return report.Result{}
}

func expectDoctor(t *testing.T, r report.Report, id string, check report.Check, status report.Status, reason report.Reason) report.Result {
	t.Helper()
	res := doctorCheck(t, r, id, check)
	if res.Status != status || res.Reason != reason {
		t.Errorf("%s/%s = %s/%s, want %s/%s\n%s", id, check, res.Status, res.Reason, status, reason, dump(r))
	}
	return res
}

// TestDoctor reproduces SEEDS incidents with `kubectl regcheck doctor`
// through the real kubectl against a real token-auth registry, with no
// cluster at all (the sandbox's kubeconfig does not exist).
func TestDoctor(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	pushed, err := env.PushRandomImage(reg, "smoke_bundle", "1.0", "admin")
	if err != nil {
		t.Fatal(err)
	}
	anonymous := filepath.Join(s.Dir, "anonymous")
	writeDockerConfig(t, filepath.Join(anonymous, "config.json"), reg, "")
	admin := filepath.Join(s.Dir, "admin")
	writeDockerConfig(t, filepath.Join(admin, "config.json"), reg, "admin")
	reader := filepath.Join(s.Dir, "reader")
	writeDockerConfig(t, filepath.Join(reader, "config.json"), reg, "reader")
	doctor := func(t *testing.T, stdin string, args ...string) (report.Report, env.Result) {
		t.Helper()
		r, res := runJSON(t, s, stdin, "kubectl", append([]string{"regcheck", "doctor", "--plain-http"}, args...)...)
		if r.Kind != report.KindDoctor {
			t.Errorf("kind = %q", r.Kind)
		}
		return r, res
	}

	t.Run("the wrong repository name (seed 2)", func(t *testing.T) {
		r, res := doctor(t, "", "--image", reg.Host+"/smoke-bundle:1.0", "--docker-config", admin)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		expectDoctor(t, r, "reachable", report.CheckRegistryReachable, report.StatusPass, report.ReasonOk)
		cred := expectDoctor(t, r, "credentials", report.CheckRegistryCredentials, report.StatusPass, report.ReasonOk)
		if cred.Evidence["method"] != "bearer" || cred.CredentialSource != "docker-config" {
			t.Errorf("credentials: method %v source %q, want bearer from docker-config", cred.Evidence["method"], cred.CredentialSource)
		}
		pull := expectDoctor(t, r, "pull", report.CheckRegistryPull, report.StatusFail, report.ReasonRepositoryNotFound)
		if !strings.Contains(pull.Remedy, reg.Host+"/smoke_bundle:1.0") {
			t.Errorf("pull remedy %q does not name smoke_bundle", pull.Remedy)
		}
		hint := expectDoctor(t, r, "reference", report.CheckImageReference, report.StatusFail, report.ReasonRepositoryNotFound)
		if !strings.Contains(hint.Remedy, "smoke_bundle") || !strings.Contains(fmt.Sprint(hint.Evidence["candidates"]), "smoke_bundle (underscore versus hyphen)") {
			t.Errorf("the hint must name smoke_bundle: remedy %q, evidence %v", hint.Remedy, hint.Evidence)
		}
		if v := fmt.Sprint(hint.Evidence["verify"]); !strings.Contains(v, "kubectl regcheck doctor") {
			t.Errorf("a finding says how to verify the fix: %v", v)
		}
		expectDoctor(t, r, "rate-limit", report.CheckRegistryPull, report.StatusPass, report.ReasonOk)
	})

	t.Run("a bare digest (seed 2)", func(t *testing.T) {
		r, res := doctor(t, "", "--image", pushed.Digest, "--image", pushed.Ref, "--docker-config", reader)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1", res.Code)
		}
		bare := expectDoctor(t, r, "reference", report.CheckImageReference, report.StatusFail, report.ReasonInvalidReference)
		if want := pushed.DigestRef; bare.Evidence["corrected"] != want || !strings.Contains(bare.Remedy, want) {
			t.Errorf("corrected form: evidence %v, remedy %q, want %s", bare.Evidence["corrected"], bare.Remedy, want)
		}
		expectDoctor(t, r, "pull", report.CheckRegistryPull, report.StatusPass, report.ReasonOk)
		// The corrected form pulls.
		r, res = doctor(t, "", "--image", pushed.DigestRef, "--docker-config", reader, "--only", "reference,pull")
		if res.Code != 0 {
			t.Errorf("the corrected reference: exit %d: %s", res.Code, dump(r))
		}
		for _, x := range r.Results {
			if id := x.Evidence["doctorCheck"]; id != "reference" && id != "pull" {
				t.Errorf("--only reference,pull ran %v", id)
			}
		}
	})

	t.Run("a missing tag warns", func(t *testing.T) {
		r, res := doctor(t, "", "--image", reg.Host+"/smoke_bundle", "--docker-config", admin, "--only", "reference")
		if res.Code != 0 {
			t.Errorf("exit %d, want 0 (a warning)", res.Code)
		}
		expectDoctor(t, r, "reference", report.CheckImageReference, report.StatusWarn, "MissingTag")
	})

	t.Run("the anonymous push (seed 1)", func(t *testing.T) {
		before, err := reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		r, res := doctor(t, "", "--push-target", "oci://"+reg.Host+"/charts", "--docker-config", anonymous)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1", res.Code)
		}
		push := expectDoctor(t, r, "push", report.CheckRegistryPush, report.StatusFail, report.ReasonAnonymousPushDenied)
		if !strings.Contains(push.Remedy, "login "+reg.Host) {
			t.Errorf("remedy %q does not say how to log in", push.Remedy)
		}
		for _, x := range r.Results {
			if x.Check == report.CheckRegistryPull && x.Evidence["doctorCheck"] == "pull" {
				t.Errorf("a push target is not pulled: %+v", x)
			}
		}
		after, err := reg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if diff := env.DiffSnapshots(before, after); len(diff) > 0 {
			t.Errorf("registry storage changed: %v", diff)
		}
	})

	t.Run("a username without a password (seed 3)", func(t *testing.T) {
		r, res := doctor(t, "", "--registry", reg.Host, "--username", "admin", "--docker-config", anonymous)
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		got := expectDoctor(t, r, "credentials", report.CheckRegistryCredentials, report.StatusFail, report.ReasonIncompleteCredentials)
		if got.CredentialSource != "flags" {
			t.Errorf("credentialSource = %q, want flags", got.CredentialSource)
		}
	})

	t.Run("a registry alone, logged in", func(t *testing.T) {
		r, res := doctor(t, "", "--registry", "oci://"+reg.Host, "--docker-config", admin)
		if res.Code != 0 {
			t.Errorf("exit %d: %s", res.Code, dump(r))
		}
		cred := expectDoctor(t, r, "credentials", report.CheckRegistryCredentials, report.StatusPass, report.ReasonOk)
		if cred.Evidence["verifiedWith"] == nil {
			t.Errorf("credentials must be proven by an authenticated GET /v2/: %v", cred.Evidence)
		}
		// No repository was named: the login is checked as docker login
		// checks it, and the result says so (no made-up repository).
		if cred.Repository != "" || !strings.Contains(cred.Message, "no repository of "+reg.Host+" was named") {
			t.Errorf("a registry alone: repository %q, message %q", cred.Repository, cred.Message)
		}
	})

	t.Run("unknown check", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "doctor", "--registry", reg.Host, "--only", "dns")
		if res.Code != 2 || !strings.Contains(res.Stderr, "unknown check") {
			t.Errorf("exit %d, stderr %q; want 2 and the unknown check named", res.Code, res.Stderr)
		}
	})

	t.Run("golden markdown", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "doctor", "--plain-http", "--docker-config", reader,
			"--image", reg.Host+"/smoke-bundle:1.0", "--image", pushed.Digest, "--push-target", "oci://"+reg.Host+"/charts", "-o", "markdown")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		golden(t, "doctor.markdown.golden", normalize(res.Stdout, reg.Host))
	})
}

// TestDoctorHTMLLoginPage: a login portal answering /v2/ with HTML (seed
// 2's `Expecting value: line 1 column 1`) is NotARegistry, with its title.
func TestDoctorHTMLLoginPage(t *testing.T) {
	s := newSandbox(t)
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><html><head><title>Sign in - Corp SSO</title></head><body><form>…</form></body></html>")
	}))
	defer portal.Close()
	host := strings.TrimPrefix(portal.URL, "http://")
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "--plain-http", "--image", host+"/modelops-bundles:latest")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1", res.Code)
	}
	got := expectDoctor(t, r, "reachable", report.CheckRegistryReachable, report.StatusFail, report.ReasonNotARegistry)
	if got.Evidence["pageTitle"] != "Sign in - Corp SSO" || !strings.HasPrefix(fmt.Sprint(got.Evidence["contentType"]), "text/html") || got.Evidence["httpStatus"] != float64(200) {
		t.Errorf("evidence must show status, content type and title: %v", got.Evidence)
	}
	expectDoctor(t, r, "pull", report.CheckRegistryPull, report.StatusSkip, report.ReasonNotARegistry)

	// Nothing listens: Unreachable at TCP, without an HTTP exchange.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	r, _ = runJSON(t, s, "", "kubectl", "regcheck", "doctor", "--plain-http", "--registry", closed)
	got = expectDoctor(t, r, "reachable", report.CheckRegistryReachable, report.StatusFail, report.ReasonUnreachable)
	if !strings.Contains(fmt.Sprint(got.Evidence["tcp"]), "refused") {
		t.Errorf("tcp evidence: %v", got.Evidence)
	}
}

// TestDoctorWorkload: a worker whose settings name the wrong repository
// and a bare digest (seed 2), read from its env and a ConfigMap.
func TestDoctorWorkload(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "doctor-e2e"
	bundle, err := env.PushRandomImage(reg, "smoke_bundle", "1.0", "admin")
	must(t, err)
	worker, err := env.PushRandomImage(reg, "team/worker", "1.0", "admin")
	must(t, err)
	must(t, c.CreateNamespace(ctx, ns))
	_, err = c.Admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-settings", Namespace: ns},
		Data:       map[string]string{"BUNDLE_DIGEST": bundle.Digest, "LOG_LEVEL": "debug"},
	}, metav1.CreateOptions{})
	must(t, err)
	spec := spec1(worker.Ref)
	spec.Containers[0].Env = []corev1.EnvVar{{Name: "BUNDLE_IMAGE", Value: "oci://" + reg.Host + "/smoke-bundle:1.0"}}
	spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "worker-settings"}}}}
	_, err = c.RunDeployment(ctx, ns, "worker", 1, spec, "", nil)
	must(t, err)
	admin := filepath.Join(s.Dir, "admin")
	writeDockerConfig(t, filepath.Join(admin, "config.json"), reg, "admin")

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "deploy/worker", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--docker-config", admin)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	var wrongRepo, bareDigest, staleness bool
	for _, x := range r.Results {
		switch {
		case x.Evidence["doctorCheck"] == "workload-settings" && x.Reason == report.ReasonRepositoryNotFound && x.Check == report.CheckImageReference:
			wrongRepo = strings.Contains(x.Remedy, "smoke_bundle") && x.Workload == "Deployment/worker" && x.Evidence["setting"] == "BUNDLE_IMAGE"
		case x.Evidence["doctorCheck"] == "workload-settings" && x.Reason == report.ReasonInvalidReference:
			bareDigest = x.Evidence["setting"] == "BUNDLE_DIGEST" && strings.Contains(fmt.Sprint(x.Evidence["from"]), "configmap/worker-settings")
		case x.Evidence["doctorCheck"] == "staleness" && x.Check == report.CheckWorkloadDigest:
			staleness = true
		}
	}
	if !wrongRepo || !bareDigest || !staleness {
		t.Errorf("wrong repository %v, bare digest %v, staleness %v:\n%s", wrongRepo, bareDigest, staleness, dump(r))
	}
}
