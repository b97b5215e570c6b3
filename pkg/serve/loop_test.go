package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/regcheck/regcheck/pkg/report"
)

// fakeScans is a ScanFunc the test drives: each call announces itself on
// started and returns what the test sends on results. Nothing waits on a
// clock: the loop's waits are channels the test fires.
type fakeScans struct {
	started chan struct{}
	results chan scanAnswer
}

type scanAnswer struct {
	results []report.Result
	err     error
}

func newFakeScans() *fakeScans {
	return &fakeScans{started: make(chan struct{}), results: make(chan scanAnswer)}
}

func (f *fakeScans) scan(ctx context.Context) ([]report.Result, error) {
	select {
	case f.started <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case a := <-f.results:
		return a.results, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// manualClock hands the loop's waits to the test: each wait is announced
// with its duration, and ends when the test fires it.
type manualClock struct {
	waits chan time.Duration
	fire  chan time.Time
	now   time.Time
}

func newManualClock() *manualClock {
	return &manualClock{waits: make(chan time.Duration), fire: make(chan time.Time), now: time.Unix(1700000000, 0)}
}

func (m *manualClock) after(d time.Duration) <-chan time.Time {
	m.waits <- d
	return m.fire
}

// tick advances the loop's clock by a second per reading, so each scan
// "takes" one second.
func (m *manualClock) tick() time.Time {
	m.now = m.now.Add(time.Second)
	return m.now
}

func stale(workload string) []report.Result {
	return []report.Result{{Check: report.CheckWorkloadDigest, Status: report.StatusWarn, Reason: "Stale", Namespace: "ns", Workload: workload, Container: "app", Image: "r.io/" + workload + ":latest"}}
}

func TestLoop(t *testing.T) {
	scans, clock := newFakeScans(), newManualClock()
	c := NewCollector()
	loop := &Loop{Scan: scans.scan, Interval: time.Minute, Collector: c, After: clock.after, Now: clock.tick}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()

	// The first scan starts at once; nothing is ready until it completes.
	<-scans.started
	if c.Ready() {
		t.Error("ready during the first scan")
	}
	scans.results <- scanAnswer{results: stale("web")}
	// The loop waits between scans only after a scan ended: a second scan
	// cannot start before the wait is fired (the fake would block).
	if d := <-clock.waits; d < time.Minute || d > time.Minute+time.Duration(JitterFactor*float64(time.Minute)) {
		t.Errorf("wait = %s, want the interval plus at most %v jitter", d, JitterFactor)
	}
	if !c.Ready() {
		t.Fatal("not ready after the first scan")
	}
	if n := testutil.CollectAndCount(c, "regcheck_result"); n != 1 {
		t.Errorf("series = %d, want 1", n)
	}
	if v := value(t, c, "regcheck_scan_duration_seconds"); v != 1 {
		t.Errorf("duration = %v, want 1 (one tick)", v)
	}

	// A failed scan counts an error and keeps the last results.
	clock.fire <- time.Time{}
	<-scans.started
	scans.results <- scanAnswer{err: errors.New("reading the cluster: Forbidden")}
	<-clock.waits
	if got := value(t, c, "regcheck_scan_errors_total"); got != 1 {
		t.Errorf("scan errors = %v, want 1", got)
	}
	want := `# HELP regcheck_result 1 for each result of the last completed scan (one per check, workload, container and image).
# TYPE regcheck_result gauge
regcheck_result{check="workload.digest",container="app",image="r.io/web:latest",namespace="ns",reason="Stale",status="warn",workload="web"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "regcheck_result"); err != nil {
		t.Errorf("after a failed scan: %v", err)
	}

	// The next good scan replaces them.
	clock.fire <- time.Time{}
	<-scans.started
	scans.results <- scanAnswer{results: stale("api")}
	<-clock.waits
	want = strings.ReplaceAll(want, "web", "api")
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "regcheck_result"); err != nil {
		t.Errorf("after a good scan: %v", err)
	}

	// Cancelled while waiting: Run returns nil, no scan starts.
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestLoopCancelledMidScan(t *testing.T) {
	scans := newFakeScans()
	c := NewCollector()
	loop := &Loop{Scan: scans.scan, Interval: time.Minute, Collector: c, After: func(time.Duration) <-chan time.Time {
		t.Error("waited after a cancelled scan")
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(ctx) }()
	<-scans.started
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	// A scan cut short by the shutdown is neither a result nor an error.
	if c.Ready() || value(t, c, "regcheck_scan_errors_total") != 0 {
		t.Error("a cancelled scan was counted")
	}
}

func TestHandler(t *testing.T) {
	c := NewCollector()
	h, err := Handler(c)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d before a scan", code)
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d before a scan, want 503", code)
	}
	c.Update(stale("web"), time.Unix(1700000000, 0), time.Second)
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d after a scan", code)
	}
	code, body := get("/metrics")
	if code != http.StatusOK || !strings.Contains(body, `regcheck_result{check="workload.digest",container="app",image="r.io/web:latest",namespace="ns",reason="Stale",status="warn",workload="web"} 1`) {
		t.Errorf("/metrics = %d\n%s", code, body)
	}
	// A registry of its own: no Go runtime or process series.
	if strings.Contains(body, "go_goroutines") || strings.Contains(body, "process_") {
		t.Errorf("/metrics has collectors beyond regcheck's:\n%s", body)
	}
}

// TestRunShutsDown: Run serves on the listener, and returns nil once its
// context ends, with the server closed.
func TestRunShutsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scans := newFakeScans()
	// Logf is called once a scan's results are in the collector.
	logged := make(chan string, 1)
	loop := &Loop{Scan: scans.scan, Interval: time.Hour, Collector: NewCollector(), Logf: func(format string, args ...any) { logged <- format }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, l, loop) }()
	<-scans.started
	scans.results <- scanAnswer{results: stale("web")}
	url := "http://" + l.Addr().String()
	<-logged
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d %s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

// value is the one sample of metric name c emits; -1 when none.
func value(t *testing.T, c *Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name || len(f.GetMetric()) != 1 {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetCounter() != nil {
			return m.GetCounter().GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}
