package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// serveRegistryQPS is the --registry-qps the row runs serve with: no
// limit, as the one-shot scan of the other rows, so the row measures the
// engine. serve's default (10 a second per host) bounds a scan to unique
// images ÷ 10 seconds against one registry whatever the engine does.
const serveRegistryQPS = "0"

// serveRescans is how many scans after the first the serve row waits for.
const serveRescans = 10

// serveFigures is the serve row: `kubectl regcheck serve` over the full
// scale, its first scan and ten rescans (informers between scans, one
// registry client kept), and its /metrics.
type serveFigures struct {
	pods          int
	firstScan     time.Duration
	firstRSSKiB   int64
	rescan        time.Duration // the median rescan
	rescanMax     time.Duration
	rescanReqs    float64 // registry requests per rescan, at the proxy
	firstReqs     int64   // registry requests of the first scan, at the proxy
	first, after  proxyStats
	rssHalfKiB    int64 // after five rescans
	rssAfterKiB   int64 // after ten rescans
	metricsMedian time.Duration
	metricsMax    time.Duration
	series        int
	results       int
}

// serveScanLine is serve's log line for a completed scan.
var serveScanLine = regexp.MustCompile(`scan: (\d+) results in (\S+)$`)

// measureServe runs serve with t's flags over every namespace, an
// interval of one second, until the first scan and ten rescans have
// completed; it reads the plugin's resident memory from /proc (kubectl
// execs the plugin in its own process) after the first scan and after
// the last, and times twenty scrapes of /metrics.
func measureServe(ctx context.Context, sandbox *env.Sandbox, proxy *latencyProxy, t transport, pods int) (serveFigures, error) {
	f := serveFigures{pods: pods}
	args := append([]string{"regcheck", "serve", "-A", "--listen", "127.0.0.1:0", "--interval", "1s", "--registry-qps", serveRegistryQPS}, t.regcheckFlags...)
	logf("kubectl %s", strings.Join(args, " "))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, sandbox.Tools.Kubectl, args...)
	cmd.Dir, cmd.Env = sandbox.Dir, sandbox.Env()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return f, err
	}
	proxy.Reset()
	if err := cmd.Start(); err != nil {
		return f, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	lines := make(chan string, 64)
	var logMu sync.Mutex
	var logText strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logText.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			lines <- sc.Text()
		}
	}()
	next := func(re *regexp.Regexp) ([]string, error) {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					logMu.Lock()
					defer logMu.Unlock()
					return nil, fmt.Errorf("serve ended: %s", tail(logText.String(), 20))
				}
				if m := re.FindStringSubmatch(l); m != nil {
					return m, nil
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	m, err := next(regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)`))
	if err != nil {
		return f, err
	}
	base := "http://" + m[1]

	m, err = next(serveScanLine)
	if err != nil {
		return f, err
	}
	f.results, _ = strconv.Atoi(m[1])
	if f.firstScan, err = time.ParseDuration(m[2]); err != nil {
		return f, err
	}
	f.first = proxy.Stats()
	f.firstReqs = f.first.total()
	f.firstRSSKiB = rssKiB(cmd.Process.Pid)
	logf("serve: first scan of %d pods in %s, %s MiB", pods, f.firstScan, serveMiB(f.firstRSSKiB))

	var rescans []time.Duration
	for i := range serveRescans {
		if i == serveRescans/2 {
			f.rssHalfKiB = rssKiB(cmd.Process.Pid)
		}
		if m, err = next(serveScanLine); err != nil {
			return f, err
		}
		d, err := time.ParseDuration(m[2])
		if err != nil {
			return f, err
		}
		rescans = append(rescans, d)
	}
	f.rssAfterKiB = rssKiB(cmd.Process.Pid)
	// The proxy counted the first scan, the ten rescans, and perhaps the
	// start of the next (an interval of one second): an upper bound.
	f.after = proxy.Stats()
	f.rescanReqs = float64(f.after.total()-f.firstReqs) / serveRescans
	slices.Sort(rescans)
	f.rescan, f.rescanMax = rescans[len(rescans)/2], rescans[len(rescans)-1]

	var scrapes []time.Duration
	for range 20 {
		start := time.Now()
		body, err := scrape(ctx, base+"/metrics")
		if err != nil {
			return f, err
		}
		scrapes = append(scrapes, time.Since(start))
		f.series = strings.Count(body, "\nregcheck_result{")
	}
	slices.Sort(scrapes)
	f.metricsMedian, f.metricsMax = scrapes[len(scrapes)/2], scrapes[len(scrapes)-1]
	return f, nil
}

func scrape(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b), err
}

// rssKiB is a process's resident memory now (VmRSS); 0 when unreadable.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

func (f serveFigures) print(w io.Writer, transport string) {
	fmt.Fprintf(w, "serve: %s\n", transport)
	fmt.Fprintf(w, "serve_pods: %d\n", f.pods)
	fmt.Fprintf(w, "serve_results: %d\n", f.results)
	// --registry-qps bounds each scan's HEADs to the one registry host
	// here: a scan takes unique images ÷ QPS seconds at least.
	fmt.Fprintf(w, "serve_registry_qps: %s\n", serveRegistryQPS)
	fmt.Fprintf(w, "serve_first_scan_s: %s\n", serveSecs(f.firstScan))
	fmt.Fprintf(w, "serve_first_scan_rss_mib: %s\n", serveMiB(f.firstRSSKiB))
	fmt.Fprintf(w, "serve_first_scan_registry_requests: %d\n", f.firstReqs)
	fmt.Fprintf(w, "serve_rescan_s: %s\n", serveSecs(f.rescan))
	fmt.Fprintf(w, "serve_rescan_max_s: %s\n", serveSecs(f.rescanMax))
	fmt.Fprintf(w, "serve_rescan_registry_requests: %.1f\n", f.rescanReqs)
	per := func(a, b int64) float64 { return float64(a-b) / serveRescans }
	fmt.Fprintf(w, "serve_first_scan_requests: ping=%d token=%d manifest_head=%d manifest_get=%d tags_list=%d other=%d\n",
		f.first.Ping, f.first.Token, f.first.ManifestHead, f.first.ManifestGet, f.first.TagsList, f.first.Other)
	fmt.Fprintf(w, "serve_rescan_requests: ping=%.1f token=%.1f manifest_head=%.1f manifest_get=%.1f tags_list=%.1f other=%.1f\n",
		per(f.after.Ping, f.first.Ping), per(f.after.Token, f.first.Token), per(f.after.ManifestHead, f.first.ManifestHead),
		per(f.after.ManifestGet, f.first.ManifestGet), per(f.after.TagsList, f.first.TagsList), per(f.after.Other, f.first.Other))
	fmt.Fprintf(w, "serve_rss_after_%d_rescans_mib: %s\n", serveRescans/2, serveMiB(f.rssHalfKiB))
	fmt.Fprintf(w, "serve_rss_after_%d_rescans_mib: %s\n", serveRescans, serveMiB(f.rssAfterKiB))
	fmt.Fprintf(w, "serve_metrics_ms: %.1f\n", float64(f.metricsMedian.Microseconds())/1000)
	fmt.Fprintf(w, "serve_metrics_max_ms: %.1f\n", float64(f.metricsMax.Microseconds())/1000)
	fmt.Fprintf(w, "serve_metrics_series: %d\n", f.series)
}

func serveSecs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func serveMiB(kib int64) string { return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) }
