package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// scripted answers each request with the next step of its script, then
// 200 for ever: "503", "429", "429 ra=1", "reset", "cut", "200".
type scripted struct {
	mu    sync.Mutex
	steps []string
	seen  int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	step := "200"
	if s.seen < len(s.steps) {
		step = s.steps[s.seen]
	}
	s.seen++
	s.mu.Unlock()
	code, arg, _ := strings.Cut(step, " ")
	switch code {
	case "reset":
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, not FIN
		}
		_ = conn.Close()
		return
	case "cut":
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tok")
		_ = buf.Flush()
		_ = conn.Close()
		return
	}
	if ra, ok := strings.CutPrefix(arg, "ra="); ok {
		w.Header().Set("Retry-After", ra)
	}
	n, _ := strconv.Atoi(code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(n)
	_, _ = w.Write([]byte(`{"token":"t"}`))
}

func (s *scripted) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

// retryClient is a client whose waits are recorded, not slept, with a
// jitter that always picks half the ceiling.
func retryClient(t *testing.T, now time.Time) (*Client, *[]time.Duration) {
	t.Helper()
	c, err := NewClient(Options{PlainHTTP: true, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	var waits []time.Duration
	c.retry.jitter = func(n int64) int64 { return n / 2 }
	c.retry.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	c.retry.now = func() time.Time { return now }
	return c, &waits
}

func TestRetries(t *testing.T) {
	now := time.Now().Truncate(time.Second) // HTTP dates have whole seconds
	ms := time.Millisecond
	tests := []struct {
		name     string
		method   string
		token    bool // the token endpoint's POST, idempotent
		steps    []string
		status   int           // final status; 0 for a *Failure
		reason   report.Reason // of the *Failure
		attempts int           // requests the server saw
		waits    []time.Duration
		retried  []string
		note     string // in notRetried evidence
	}{
		{name: "503 twice then 200", method: "GET", steps: []string{"503", "503"}, status: 200, attempts: 3,
			waits: []time.Duration{100 * ms, 200 * ms}, retried: []string{"HTTP 503", "HTTP 503"}},
		{name: "HEAD 502 once", method: "HEAD", steps: []string{"502"}, status: 200, attempts: 2,
			waits: []time.Duration{100 * ms}, retried: []string{"HTTP 502"}},
		{name: "500 for ever stops after two retries", method: "GET", steps: []string{"500", "500", "500", "500"}, status: 500, attempts: 3,
			waits: []time.Duration{100 * ms, 200 * ms}, retried: []string{"HTTP 500", "HTTP 500"}},
		{name: "504 is retried", method: "GET", steps: []string{"504"}, status: 200, attempts: 2,
			waits: []time.Duration{100 * ms}, retried: []string{"HTTP 504"}},
		{name: "501 is an answer", method: "GET", steps: []string{"501"}, status: 501, attempts: 1},
		{name: "404 never retried", method: "GET", steps: []string{"404"}, status: 404, attempts: 1},
		{name: "401 never retried", method: "GET", steps: []string{"401"}, status: 401, attempts: 1},
		{name: "upload POST never retried", method: "POST", steps: []string{"503"}, status: 503, attempts: 1},
		{name: "upload DELETE never retried", method: "DELETE", steps: []string{"503"}, status: 503, attempts: 1},
		{name: "token POST is idempotent", method: "POST", token: true, steps: []string{"500"}, status: 200, attempts: 2,
			waits: []time.Duration{100 * ms}, retried: []string{"HTTP 500"}},
		{name: "429 without Retry-After", method: "GET", steps: []string{"429"}, status: 429, attempts: 1},
		{name: "429 with a short Retry-After, once", method: "GET", steps: []string{"429 ra=1"}, status: 200, attempts: 2,
			waits: []time.Duration{time.Second}, retried: []string{"HTTP 429"}},
		{name: "429 twice waits once", method: "GET", steps: []string{"429 ra=1", "429 ra=1"}, status: 429, attempts: 2,
			waits: []time.Duration{time.Second}, retried: []string{"HTTP 429"}},
		{name: "429 with an HTTP-date", method: "GET", steps: []string{"429 ra=" + now.Add(2*time.Second).Format(http.TimeFormat)}, status: 200, attempts: 2,
			waits: []time.Duration{2 * time.Second}, retried: []string{"HTTP 429"}},
		{name: "429 with a long Retry-After", method: "GET", steps: []string{"429 ra=3600"}, status: 429, attempts: 1, note: "longer than regcheck waits"},
		{name: "429 with a bad Retry-After", method: "GET", steps: []string{"429 ra=soon"}, status: 429, attempts: 1, note: "does not parse"},
		{name: "connection reset once", method: "GET", steps: []string{"reset"}, status: 200, attempts: 2,
			waits: []time.Duration{100 * ms}, retried: []string{"connection reset"}},
		{name: "connection reset for ever", method: "GET", steps: []string{"reset", "reset", "reset"}, reason: report.ReasonUnreachable, attempts: 3,
			waits: []time.Duration{100 * ms, 200 * ms}, retried: []string{"connection reset", "connection reset"}},
		{name: "reset on an upload POST", method: "POST", steps: []string{"reset"}, reason: report.ReasonUnreachable, attempts: 1},
		{name: "body cut off once", method: "GET", steps: []string{"cut"}, status: 200, attempts: 2,
			waits: []time.Duration{100 * ms}, retried: []string{"body cut off"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{steps: tc.steps}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c, waits := retryClient(t, now)
			u, _ := url.Parse(ts.URL + "/v2/")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r, err := c.exchange(ctx, request{method: tc.method, url: u, retry: tc.token})
			var ev report.Evidence
			if tc.status != 0 {
				if err != nil {
					t.Fatalf("err = %v, want HTTP %d", err, tc.status)
				}
				if r.Status != tc.status {
					t.Errorf("status %d, want %d", r.Status, tc.status)
				}
				ev = report.Evidence{}
				r.Attempts.evidence(ev)
			} else {
				var f *Failure
				if !errors.As(err, &f) || f.Reason != tc.reason {
					t.Fatalf("err = %v, want %s", err, tc.reason)
				}
				ev = f.Evidence
			}
			if got := srv.requests(); got != tc.attempts {
				t.Errorf("server saw %d requests, want %d", got, tc.attempts)
			}
			if !reflect.DeepEqual(*waits, tc.waits) {
				t.Errorf("waits %v, want %v", *waits, tc.waits)
			}
			if tc.attempts > 1 {
				if ev["attempts"] != tc.attempts || !reflect.DeepEqual(ev["retried"], tc.retried) {
					t.Errorf("evidence %v, want attempts %d retried %v", ev, tc.attempts, tc.retried)
				}
			} else if _, ok := ev["attempts"]; ok {
				t.Errorf("evidence names attempts for a single request: %v", ev)
			}
			if note, _ := ev["notRetried"].(string); !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
				t.Errorf("notRetried = %q, want %q", note, tc.note)
			}
		})
	}
}

// TestRetryInsideTheDeadline: a retry whose wait would cross the run's
// deadline is not made; the last answer comes back at once, saying why.
func TestRetryInsideTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		left  time.Duration
		want  int
	}{
		{"503 with no time left", []string{"503"}, 200 * time.Millisecond, 503},
		{"Retry-After past the deadline", []string{"429 ra=5"}, 3 * time.Second, 429},
		{"Retry-After inside the deadline", []string{"429 ra=2"}, 3 * time.Second, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{steps: tc.steps}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c, _ := retryClient(t, time.Time{})
			c.retry.now = time.Now
			u, _ := url.Parse(ts.URL + "/v2/")
			ctx, cancel := context.WithTimeout(context.Background(), tc.left)
			defer cancel()
			r, err := c.exchange(ctx, request{method: http.MethodGet, url: u})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want {
				t.Errorf("status %d, want %d", r.Status, tc.want)
			}
			ev := report.Evidence{}
			r.Attempts.evidence(ev)
			note, _ := ev["notRetried"].(string)
			if (tc.want != 200) != strings.Contains(note, "deadline") {
				t.Errorf("notRetried = %q", note)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"12", 12 * time.Second, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestPingGatewayErrorPage: a load balancer's 502 page in front of /v2/ is
// the registry failing (ServerError, after the retries), not a web UI.
func TestPingGatewayErrorPage(t *testing.T) {
	for _, tc := range []struct {
		status int
		reason report.Reason
	}{
		{http.StatusBadGateway, report.ReasonServerError},
		{http.StatusTooManyRequests, report.ReasonRateLimited},
		{http.StatusOK, report.ReasonNotARegistry},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(tc.status) + "</title></head></html>"))
			}))
			defer ts.Close()
			c, _ := retryClient(t, time.Now())
			c.retry.now = time.Now
			_, err := c.Ping(context.Background(), strings.TrimPrefix(ts.URL, "http://"))
			var f *Failure
			if !errors.As(err, &f) || f.Reason != tc.reason {
				t.Fatalf("err = %v, want %s", err, tc.reason)
			}
			if tc.status == http.StatusBadGateway && f.Evidence["attempts"] != 3 {
				t.Errorf("evidence %v, want 3 attempts", f.Evidence)
			}
		})
	}
}
