package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/regcheck/regcheck/pkg/cmd"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// faultTimeout is the --timeout of every fault run: each request gets a
// third of it, and a run must end inside it whatever the registry does.
const faultTimeout = 3 * time.Second

// TestFaults runs `regcheck auth` in process against a real token-auth
// registry behind a proxy that injects one fault per case, and checks the
// reason named, that the run ends inside --timeout, that retries turn a
// flaky registry into a pass (and say so), that non-idempotent requests
// are never retried, and that no goroutine is left behind. The cases run
// one after the other: a goroutine-leak check cannot share the process
// with another test's exchanges.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: a real registry behind a fault-injecting proxy")
	}
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	if _, err := env.PushRandomImage(reg, "team/app", "1.0", "admin"); err != nil {
		t.Fatal(err)
	}
	var bigSent atomic.Int64
	const GiB = 1 << 30

	type row struct {
		name   string
		rules  []*env.FaultRule
		push   bool
		check  report.Check
		status report.Status
		reason report.Reason
		// attempts is the "attempts" evidence wanted on the result (0: none, -1: unchecked).
		attempts int
		// evidence holds evidence values the result must contain (as text).
		evidence map[string]string
		// injected is how many requests the first rule must have hit (0: unchecked).
		injected int64
		debug    string // when set, run with --debug and find this on stderr
	}
	rule := func(method, path string, times int, f env.Fault) *env.FaultRule {
		return &env.FaultRule{Method: method, Path: path, Times: times, Fault: f}
	}
	const anyMethod = ""
	rows := []row{
		{name: "no fault", check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
		{name: "latency 300ms on every request",
			rules: []*env.FaultRule{rule(anyMethod, "", 0, env.Latency(300*time.Millisecond))},
			check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
		{name: "/v2/ never answers in time",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 0, env.Latency(time.Minute))},
			check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonUnreachable,
			evidence: map[string]string{"cause": "timeout"}, injected: 1},
		{name: "connection reset on every /v2/",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 0, env.Reset())},
			check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonUnreachable,
			attempts: 3, evidence: map[string]string{"cause": "connection reset"}, injected: 3},
		{name: "connection reset once on /v2/",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 1, env.Reset())},
			check: report.CheckRegistryReachable, status: report.StatusPass, reason: report.ReasonOk, attempts: 2},
		// Go's transport itself resends a HEAD once when a reused
		// connection is reset; regcheck retries what reaches it, so who
		// retried depends on connection reuse and attempts is not checked.
		{name: "connection reset twice on the manifest HEAD",
			rules: []*env.FaultRule{rule(http.MethodHead, env.PathManifest, 2, env.Reset())},
			check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk, attempts: -1, injected: 2},
		{name: "connection reset on the upload POST is not retried", push: true,
			rules: []*env.FaultRule{rule(http.MethodPost, env.PathUpload, 0, env.Reset())},
			check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonUnreachable, injected: 1},
		{name: "503 once on /v2/", debug: "retry 2/3 of GET",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 1, env.ServerError(http.StatusServiceUnavailable))},
			check: report.CheckRegistryReachable, status: report.StatusPass, reason: report.ReasonOk, attempts: 2},
		{name: "502 HTML page from the load balancer on /v2/",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 0, env.ServerError(http.StatusBadGateway))},
			check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonServerError,
			attempts: 3, injected: 3},
		{name: "500 on every manifest request",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 0, env.ServerError(http.StatusInternalServerError))},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError,
			attempts: 3, injected: 3},
		{name: "503 on the upload POST is not retried", push: true,
			rules: []*env.FaultRule{rule(http.MethodPost, env.PathUpload, 0, env.ServerError(http.StatusServiceUnavailable))},
			check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonServerError, injected: 1},
		{name: "503 on every token request",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.ServerError(http.StatusServiceUnavailable))},
			check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError,
			attempts: 3, injected: 3},
		{name: "503 once on the token request",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 1, env.ServerError(http.StatusServiceUnavailable))},
			check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk,
			evidence: map[string]string{"tokenAttempts": "2"}},
		{name: "429 without Retry-After on the manifest",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 0, env.RateLimit(""))},
			check: report.CheckRegistryPull, status: report.StatusWarn, reason: report.ReasonRateLimited, injected: 1},
		{name: "429 with Retry-After: 1 once on the manifest",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 1, env.RateLimit("1"))},
			check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk, attempts: 2},
		{name: "429 with Retry-After past the deadline",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 0, env.RateLimit("120"))},
			check: report.CheckRegistryPull, status: report.StatusWarn, reason: report.ReasonRateLimited,
			evidence: map[string]string{"retry-after": "120"}, injected: 1},
		{name: "429 on the token request",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.RateLimit(""))},
			check: report.CheckRegistryCredentials, status: report.StatusWarn, reason: report.ReasonRateLimited, injected: 1},
		{name: "token body cut off every time",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.Truncate())},
			check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError,
			attempts: 3, injected: 3},
		{name: "token body cut off once",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 1, env.Truncate())},
			check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk,
			evidence: map[string]string{"tokenAttempts": "2"}},
		{name: "manifest body cut off every time",
			rules: []*env.FaultRule{
				rule(http.MethodHead, env.PathManifest, 0, env.DropHeader("Docker-Content-Digest")),
				rule(http.MethodGet, env.PathManifest, 0, env.Truncate()),
			},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError, attempts: 3},
		{name: "token body at a byte per second",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.SlowBody(time.Second))},
			check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError,
			injected: 1},
		{name: "manifest body at a byte per second",
			rules: []*env.FaultRule{
				rule(http.MethodHead, env.PathManifest, 0, env.DropHeader("Docker-Content-Digest")),
				rule(http.MethodGet, env.PathManifest, 0, env.SlowBody(time.Second)),
			},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError},
		{name: "login page on /v2/",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 0, env.LoginPage())},
			check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonNotARegistry,
			evidence: map[string]string{"pageTitle": "Sign in - Example Corp SSO"}},
		{name: "login page on the token endpoint",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.LoginPage())},
			check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError,
			evidence: map[string]string{"pageTitle": "Sign in - Example Corp SSO"}},
		// Clients read a token whatever its label: so does regcheck.
		{name: "token JSON labelled text/html",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.ContentType("text/html"))},
			check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk},
		{name: "login page on the manifest",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 0, env.LoginPage())},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonNotARegistry,
			evidence: map[string]string{"pageTitle": "Sign in - Example Corp SSO"}},
		// Runtimes take the label as the manifest's media type and refuse it.
		{name: "manifest JSON labelled text/html",
			rules: []*env.FaultRule{rule(anyMethod, env.PathManifest, 0, env.ContentType("text/html"))},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError,
			evidence: map[string]string{"contentType": "text/html"}},
		{name: "1 GiB token response",
			rules: []*env.FaultRule{rule(anyMethod, env.PathToken, 0, env.Oversized(GiB, "application/json", &bigSent))},
			check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError,
			evidence: map[string]string{"body": "body larger than the limit (truncated)"}, injected: 1},
		{name: "1 GiB /v2/ body",
			rules: []*env.FaultRule{rule(anyMethod, env.PathPing, 0, env.Oversized(GiB, "application/json", &bigSent))},
			check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonNotARegistry,
			evidence: map[string]string{"body": "body larger than the limit (truncated)"}, injected: 1},
		{name: "1 GiB manifest",
			rules: []*env.FaultRule{
				rule(http.MethodGet, env.PathManifest, 0, env.Oversized(GiB, "application/vnd.oci.image.manifest.v1+json", &bigSent)),
				rule(http.MethodHead, env.PathManifest, 0, env.DropHeader("Docker-Content-Digest")),
			},
			check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError,
			evidence: map[string]string{"body": "body larger than the limit (truncated)"}, injected: 1},
	}

	// One run before the cases, so what a first run starts once for the
	// process (client-go's and cobra's lazy set-up) is not taken for a leak.
	proxy0 := startFaultProxy(t, reg)
	runInProcess(t, "auth", proxy0.Ref("team/app", "1.0"), "--plain-http", "--docker-config", dockerConfigFor(t, proxy0.Host, "admin"))

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			bigSent.Store(0)
			proxy := startFaultProxy(t, reg, tc.rules...)
			config := dockerConfigFor(t, proxy.Host, "admin")
			before := goleak.IgnoreCurrent()
			args := []string{"auth", proxy.Ref("team/app", "1.0"), "--plain-http", "--docker-config", config,
				"--timeout", faultTimeout.String(), "-o", "json"}
			if tc.push {
				args = append(args, "--push")
			}
			if tc.debug != "" {
				args = append(args, "--debug")
			}
			var mem0, mem1 runtime.MemStats
			runtime.ReadMemStats(&mem0)
			start := time.Now()
			stdout, stderr, code := runInProcess(t, args...)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&mem1)
			// Every body read is capped (4 MiB for a manifest), so a run
			// allocates a few MiB, whatever size the server claims or sends.
			if alloc := mem1.TotalAlloc - mem0.TotalAlloc; alloc > 64<<20 {
				t.Errorf("the run allocated %d MiB", alloc>>20)
			}

			if elapsed > faultTimeout+time.Second {
				t.Errorf("the run took %s, past --timeout %s", elapsed.Round(time.Millisecond), faultTimeout)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
			if tc.debug != "" && !strings.Contains(stderr, tc.debug) {
				t.Errorf("--debug trace lacks %q:\n%s", tc.debug, stderr)
			}
			var r report.Report
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("exit %d, output is not a report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
			}
			res := expect(t, r, tc.check, tc.status, tc.reason)
			wantCode := 0
			if tc.status == report.StatusFail {
				wantCode = 1
			}
			if code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
			if tc.status != report.StatusPass && res.Remedy == "" {
				t.Errorf("no remedy: %+v", res)
			}
			if got, _ := res.Evidence["attempts"].(float64); tc.attempts >= 0 && int(got) != tc.attempts {
				t.Errorf("evidence attempts = %v, want %d: %v", res.Evidence["attempts"], tc.attempts, res.Evidence)
			}
			for k, want := range tc.evidence {
				if got := evidenceText(res.Evidence[k]); !strings.Contains(got, want) {
					t.Errorf("evidence %s = %q, want %q: %v", k, got, want, res.Evidence)
				}
			}
			if tc.injected > 0 && tc.rules[0].Injected() != tc.injected {
				t.Errorf("the fault hit %d requests, want %d", tc.rules[0].Injected(), tc.injected)
			}
			if sent := bigSent.Load(); sent > 64<<20 {
				t.Errorf("the proxy sent %d MiB of an oversized body before regcheck stopped reading", sent>>20)
			}
			// regcheck closed its connections when the run ended: every
			// goroutine it started, and the proxy's for its requests, ends.
			if err := goleak.Find(before); err != nil {
				t.Errorf("goroutines left behind: %v", err)
			}
			t.Logf("%s in %s: %s %s/%s: %s %v", tc.name, elapsed.Round(time.Millisecond), res.Check, res.Status, res.Reason, res.Message, res.Evidence)
			if t.Failed() {
				t.Logf("elapsed %s, exit %d\n%s\nstderr:\n%s", elapsed.Round(time.Millisecond), code, dump(r), stderr)
			}
		})
	}
}

func evidenceText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// startFaultProxy puts a fault-injecting proxy in front of reg for the test.
func startFaultProxy(t *testing.T, reg *env.Registry, rules ...*env.FaultRule) *env.FaultProxy {
	t.Helper()
	p, err := env.StartFaultProxy(reg, rules...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// dockerConfigFor writes a Docker config.json logging user in to host.
func dockerConfigFor(t *testing.T, host, user string) string {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + testUsers[user].Password))
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runInProcess runs regcheck's command tree in this process, as the
// binary would, with an empty home.
func runInProcess(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	home := t.TempDir()
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = cmd.Execute(ctx, streams, args, getenv)
	return out.String(), errOut.String(), code
}
