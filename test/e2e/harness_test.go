package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// Passwords hold characters special to JSON and shells, so a test that
// greps output for them also proves nothing mangled or leaked them.
const (
	adminPass  = `adm"in\pa$$:w'rd`
	readerPass = `re"ad\er$:pw'`
)

var testUsers = map[string]env.User{
	"admin":  {Password: adminPass, Push: []string{"*"}},
	"reader": {Password: readerPass, Pull: []string{"*"}},
}

// must ends the test at a set-up step that failed.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// regcheckReads are the reads regcheck made of namespace ns, from the API
// server's audit log: each LIST or GET, and each WATCH that begins with the
// objects (client-go's informers list through a watch with
// sendInitialEvents), counted once at the stage where its response starts.
func regcheckReads(t *testing.T, c *env.Cluster, ns string) []env.AuditEvent {
	t.Helper()
	events, err := c.AuditEvents("")
	must(t, err)
	var reads []env.AuditEvent
	for _, e := range events {
		if !strings.HasPrefix(e.UserAgent, "kubectl-regcheck") || e.ObjectRef == nil || e.ObjectRef.Namespace != ns {
			continue
		}
		switch {
		case (e.Verb == "list" || e.Verb == "get") && e.Stage == "ResponseComplete",
			e.Verb == "watch" && strings.Contains(e.RequestURI, "sendInitialEvents=true") && e.Stage == "ResponseStarted":
			reads = append(reads, e)
		}
	}
	return reads
}

// newSandbox is a fresh home with regcheck installed as kubectl and Helm
// plugins; skipped under -short.
func newSandbox(t *testing.T) *env.Sandbox {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: runs the real kubectl and helm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := env.NewSandbox(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newFreshSandbox is a first-time user's home: nothing but HOME and PATH,
// regcheck installed as a kubectl and a Helm plugin, run by the real
// kubectl and helm with the environment they give plugins.
func newFreshSandbox(t *testing.T) *env.Sandbox {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: runs the real kubectl and helm")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := env.NewFreshSandbox(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startRegistry starts a real distribution registry for the test.
func startRegistry(t *testing.T, opts env.RegistryOptions) *env.Registry {
	t.Helper()
	if opts.Users == nil && opts.Auth != env.AuthNone {
		opts.Users = testUsers
	}
	reg, err := env.StartRegistry(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// writeDockerConfig logs user in to reg in a docker config.json at path.
func writeDockerConfig(t *testing.T, path string, reg *env.Registry, user string) {
	t.Helper()
	auths := map[string]any{}
	if user != "" {
		pass := testUsers[user].Password
		auths[reg.Host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	}
	b, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs a command in the sandbox with a deadline.
func run(t *testing.T, s *env.Sandbox, stdin, name string, args ...string) env.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return s.Run(ctx, stdin, name, args...)
}

// runJSON runs a regcheck command with -o json and decodes its report.
func runJSON(t *testing.T, s *env.Sandbox, stdin, name string, args ...string) (report.Report, env.Result) {
	t.Helper()
	res := run(t, s, stdin, name, append(args, "-o", "json")...)
	var r report.Report
	if err := json.Unmarshal([]byte(res.Stdout), &r); err != nil {
		t.Fatalf("%s %s: exit %d, output is not a report: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), res.Code, err, res.Stdout, res.Stderr)
	}
	if r.APIVersion != report.APIVersion {
		t.Errorf("apiVersion = %q", r.APIVersion)
	}
	return r, res
}

// find returns the first result of check, failing the test when none.
func find(t *testing.T, r report.Report, check report.Check) report.Result {
	t.Helper()
	for _, res := range r.Results {
		if res.Check == check {
			return res
		}
	}
	t.Fatalf("no %s result in %s", check, dump(r))
	return report.Result{}
}

func dump(r report.Report) string {
	b, _ := json.MarshalIndent(r.Results, "", "  ")
	return string(b)
}

// expect asserts check's status and reason.
func expect(t *testing.T, r report.Report, check report.Check, status report.Status, reason report.Reason) report.Result {
	t.Helper()
	res := find(t, r, check)
	if res.Status != status || res.Reason != reason {
		t.Errorf("%s = %s/%s, want %s/%s\n%s", check, res.Status, res.Reason, status, reason, dump(r))
	}
	return res
}

// spec1 is a one-container pod spec with pull secrets.
func spec1(image string, pullSecrets ...string) corev1.PodSpec {
	ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}
	for _, s := range pullSecrets {
		ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return ps
}
