package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestServe runs `kubectl regcheck serve` through the real kubectl (which
// execs the plugin, so the signal reaches regcheck itself) against the
// real API server and a real token-auth registry: it becomes ready after
// its first scan, serves a Current and a Stale workload as series, keeps
// scanning every --interval, and exits 0 on SIGTERM.
func TestServe(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	// The registry can be told to answer everything with 429 and a
	// Retry-After of an hour, as a registry shedding load does.
	var limited atomic.Bool
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken, Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if limited.Load() {
				w.Header().Set("Retry-After", "3600")
				http.Error(w, "too many requests", http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns = "serve-e2e"
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, "serve-node", "linux", "amd64"))
	_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	web, err := env.PushRandomImage(reg, "serve/web", "1.0", "admin")
	must(t, err)
	apiOld, err := env.PushRandomImage(reg, "serve/api", "latest", "admin")
	must(t, err)
	running := func(id string) func(int) map[string]string {
		return func(int) map[string]string { return map[string]string{"app": id} }
	}
	_, err = c.RunDeployment(ctx, ns, "web", 1, spec1(web.Ref, "regcred"), "serve-node", running(web.DigestRef))
	must(t, err)
	_, err = c.RunDeployment(ctx, ns, "api", 1, spec1(apiOld.Ref, "regcred"), "serve-node", running(apiOld.DigestRef))
	must(t, err)
	// :latest moves on: api's pod now runs a stale digest.
	_, err = env.PushRandomImage(reg, "serve/api", "latest", "admin")
	must(t, err)

	srv := startServe(ctx, t, s, "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	log, get := srv.log, srv.get
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	// Ready once the first scan has completed (logged as "scan: N results").
	_, err = log.await(ctx, regexp.MustCompile(`scan: \d+ results`))
	must(t, err)
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s after the first scan", code, body)
	}

	code, metrics := get("/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d\n%s", code, metrics)
	}
	for _, want := range []string{
		`regcheck_result{check="workload.digest",container="app",image="` + web.Ref + `",namespace="` + ns + `",reason="Current",status="pass",workload="Deployment/web"} 1`,
		`regcheck_result{check="workload.digest",container="app",image="` + apiOld.Ref + `",namespace="` + ns + `",reason="Stale",status="fail",workload="Deployment/api"} 1`,
		`regcheck_results{reason="Stale",status="fail"} 1`,
		`regcheck_scan_errors_total 0`,
		"regcheck_scan_duration_seconds ",
		"regcheck_last_scan_timestamp_seconds ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s\n%s", want, metrics)
		}
	}
	for _, secret := range []string{readerPass, adminPass} {
		if strings.Contains(metrics, secret) || strings.Contains(log.text(), secret) {
			t.Error("a password reached /metrics or the log")
		}
	}

	reads := func() int { return len(regcheckReads(t, c, ns)) }
	firstReads := reads()
	_, metrics = get("/metrics")
	firstTokens := requests(metrics, reg.Host, "token", "200")
	if firstTokens == 0 {
		t.Errorf("no token request counted after the first scan\n%s", metrics)
	}

	// A tag that moves is seen on the next interval: web's 1.0 is pushed
	// again, so its pod runs a stale digest. The scan in progress when it
	// moved may have asked already; the one after it cannot have.
	before := countScans(log.text())
	webNew, err := env.PushRandomImage(reg, "serve/web", "1.0", "admin")
	must(t, err)
	_, err = log.awaitN(ctx, regexp.MustCompile(`scan: \d+ results`), before+2)
	must(t, err)
	_, metrics = get("/metrics")
	webStale := `regcheck_result{check="workload.digest",container="app",image="` + web.Ref + `",namespace="` + ns + `",reason="Stale",status="fail",workload="Deployment/web"} 1`
	if !strings.Contains(metrics, webStale) {
		t.Errorf("two scans after web:1.0 moved to %s, /metrics lacks %s\n%s", webNew.Digest, webStale, metrics)
	}

	// The registry was asked only what can have changed: a HEAD per image
	// and scan (two images: at most two per scan completed or begun), and
	// no token after the first scan (they last 300s).
	// Scans go on meanwhile: the count is between those completed before
	// the scrape and those begun by its end.
	doneBefore := countScans(log.text())
	_, metrics = get("/metrics")
	doneAfter := countScans(log.text())
	if heads := requests(metrics, reg.Host, "manifest_head", "200"); heads < 2*doneBefore || heads > 2*(doneAfter+1) {
		t.Errorf("%d manifest HEADs counted after %d to %d scans, want two per scan\n%s", heads, doneBefore, doneAfter, metrics)
	}
	if tokens := requests(metrics, reg.Host, "token", "200"); tokens != firstTokens {
		t.Errorf("%d token requests after %d scans, %d after the first: tokens are kept for their lifetime", tokens, doneAfter, firstTokens)
	}
	if n := requests(metrics, reg.Host, "manifest_get", "200"); n != 0 {
		t.Errorf("%d manifest GETs: a HEAD answers what a scan asks", n)
	}

	// A 429 with Retry-After is honoured on the next scans: once the
	// registry said wait, no request reaches it, and the results say it
	// is rate limiting.
	limited.Store(true)
	_, err = log.awaitN(ctx, regexp.MustCompile(`scan: \d+ results`), countScans(log.text())+2)
	must(t, err)
	_, metrics = get("/metrics")
	if n := requests(metrics, reg.Host, "", "429"); n == 0 {
		t.Errorf("no 429 counted after the registry began answering 429\n%s", metrics)
	}
	if !strings.Contains(metrics, `reason="RateLimited"`) {
		t.Errorf("no RateLimited result while the registry asks to wait\n%s", metrics)
	}
	asked := reg.Stats()
	_, err = log.awaitN(ctx, regexp.MustCompile(`scan: \d+ results`), countScans(log.text())+2)
	must(t, err)
	if now := reg.Stats(); now != asked {
		t.Errorf("the registry was asked again within its Retry-After: %+v, then %+v", asked, now)
	}
	_, metrics = get("/metrics")
	if !strings.Contains(metrics, `reason="RateLimited"`) {
		t.Errorf("no RateLimited result while the registry asks to wait\n%s", metrics)
	}

	// Rescans read no cluster object: the informers listed each resource
	// once and have watched it since.
	if firstReads == 0 {
		t.Errorf("no read from regcheck in namespace %s in the audit log after the first scan", ns)
	}
	if n := reads(); n != firstReads {
		t.Errorf("regcheck read the namespace %d more times after its first scan (%d reads then, %d now); rescans should read from the watch", n-firstReads, firstReads, n)
	}

	srv.stop()
	if !strings.Contains(log.text(), "shut down") {
		t.Errorf("no graceful shutdown logged")
	}
	if out := srv.stdout.String(); out != "" {
		t.Errorf("serve wrote to stdout: %s", out)
	}
}

// serveProcess is `kubectl regcheck serve` as a test runs it, through the
// real kubectl (which execs the plugin, so signals reach regcheck itself).
type serveProcess struct {
	t      *testing.T
	ctx    context.Context
	cmd    *exec.Cmd
	log    *logWatch
	stdout strings.Builder
	exited chan error
	base   string // http://127.0.0.1:PORT
}

// startServe starts serve on a free loopback port, scanning every second,
// with args after those, and waits until it says where it listens. It is
// killed when the test ends, and its stderr logged if the test failed.
func startServe(ctx context.Context, t *testing.T, s *env.Sandbox, args ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{t: t, ctx: ctx, exited: make(chan error, 1)}
	p.cmd = exec.Command(s.Tools.Kubectl, append([]string{"regcheck", "serve", "--listen", "127.0.0.1:0", "--interval", "1s"}, args...)...)
	p.cmd.Dir, p.cmd.Env = s.Dir, s.Env()
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.log = newLogWatch(stderr)
	go func() {
		<-p.log.closed // Wait closes the pipe: read it to the end first.
		p.exited <- p.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("serve's stderr:\n%s", p.log.text())
		}
	})
	// It says where it listens (port 0 picked a free one).
	line, err := p.log.await(ctx, regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)`))
	if err != nil {
		t.Fatal(err)
	}
	p.base = "http://" + line[1]
	return p
}

// get fetches path from serve: the status and the body.
func (p *serveProcess) get(path string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequestWithContext(p.ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// stop asks serve to shut down (SIGTERM) and wants exit 0 before the
// test's context ends.
func (p *serveProcess) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Errorf("after SIGTERM: %v, want exit 0", err)
		}
	case <-p.ctx.Done():
		p.t.Fatal("serve did not exit after SIGTERM")
	}
}

// logWatch collects a process's stderr lines and lets a test wait for one
// that matches, bounded by the test's context (no timed assert).
type logWatch struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced at each new line
	closed  chan struct{}
}

func newLogWatch(r io.Reader) *logWatch {
	w := &logWatch{changed: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		defer close(w.closed)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

func (w *logWatch) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

func (w *logWatch) await(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	return w.awaitN(ctx, re, 1)
}

// awaitN waits for the n-th line matching re and returns its submatches.
func (w *logWatch) awaitN(ctx context.Context, re *regexp.Regexp, n int) ([]string, error) {
	ended := false
	for {
		w.mu.Lock()
		seen := 0
		for _, l := range w.lines {
			if m := re.FindStringSubmatch(l); m != nil {
				if seen++; seen == n {
					w.mu.Unlock()
					return m, nil
				}
			}
		}
		changed := w.changed
		w.mu.Unlock()
		select {
		case <-changed:
		case <-w.closed:
			// Every line is in: look once more, then give up.
			if !ended {
				ended = true
				continue
			}
			return nil, fmt.Errorf("the process ended before logging %q %d times", re, n)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q: %w", re, ctx.Err())
		}
	}
}

// countScans is how many completed scans a serve log reports.
func countScans(log string) int {
	return len(regexp.MustCompile(`scan: \d+ results`).FindAllStringIndex(log, -1))
}

// requests sums regcheck_registry_requests_total's samples for registry
// in metrics (Prometheus text) with kind and code; an empty kind or code
// matches any.
func requests(metrics, registry, kind, code string) int {
	sum := 0
	re := regexp.MustCompile(`(?m)^regcheck_registry_requests_total\{code="([^"]*)",kind="([^"]*)",registry="([^"]*)"\} (\d+)$`)
	for _, m := range re.FindAllStringSubmatch(metrics, -1) {
		if m[3] != registry || (kind != "" && m[2] != kind) || (code != "" && m[1] != code) {
			continue
		}
		n, _ := strconv.Atoi(m[4])
		sum += n
	}
	return sum
}
