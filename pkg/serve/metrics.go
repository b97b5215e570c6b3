// Package serve is regcheck's continuous mode: a loop that scans on a
// schedule, and the Prometheus metrics and health endpoints served from
// the last completed scan. It knows neither cobra nor the cluster: the
// scan is a function handed in (the command builds it from scan.Run).
package serve

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/regcheck/regcheck/pkg/report"
)

// The metrics SPEC's "Continuous mode and fleets" names. Their labels are
// bounded by what the cluster runs: one regcheck_result series per current
// result (a workload's container and its image; nothing per pod), and no
// label ever holds a message, evidence or a credential.
var (
	resultDesc = prometheus.NewDesc("regcheck_result",
		"1 for each result of the last completed scan (one per check, workload, container and image).",
		[]string{"check", "status", "reason", "namespace", "workload", "container", "image"}, nil)
	resultsDesc = prometheus.NewDesc("regcheck_results",
		"Results of the last completed scan by status and reason.",
		[]string{"status", "reason"}, nil)
	durationDesc = prometheus.NewDesc("regcheck_scan_duration_seconds",
		"How long the last completed scan took.", nil, nil)
	lastScanDesc = prometheus.NewDesc("regcheck_last_scan_timestamp_seconds",
		"When the last completed scan ended, in seconds since the Unix epoch.", nil, nil)
	scanErrorsDesc = prometheus.NewDesc("regcheck_scan_errors_total",
		"Scans that failed; the results of the last completed scan are kept.", nil, nil)
)

// newRequestCounter is regcheck_registry_requests_total: every request
// sent to a registry since the start, by host, kind (a bounded set:
// registry.Request's kinds) and HTTP status code ("" when no answer
// came). The hosts are those the cluster's images and their token realms
// name.
func newRequestCounter() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "regcheck_registry_requests_total",
		Help: "Requests sent to registries, by registry host, kind (ping, token, manifest_head, manifest_get, tags, blob, upload, catalog, other) and HTTP status code (empty without an answer).",
	}, []string{"registry", "kind", "code"})
}

// Collector is a prometheus.Collector over the last completed scan. The
// metrics are built once per scan (Update), so a scrape sends what is
// already built: its cost does not grow with the work a scan did, only
// with the number of series, and it never waits for a scan in progress
// (kube-state-metrics renders its stores the same way).
type Collector struct {
	mu       sync.RWMutex
	metrics  []prometheus.Metric // nil until the first completed scan
	errors   atomic.Uint64
	requests *prometheus.CounterVec
}

// NewCollector returns a collector with no scan yet: it emits only
// regcheck_scan_errors_total until the first Update.
func NewCollector() *Collector { return &Collector{requests: newRequestCounter()} }

// CountRequest counts one request sent to a registry (the registry
// client's Observe).
func (c *Collector) CountRequest(registry, kind, code string) {
	c.requests.WithLabelValues(registry, kind, code).Inc()
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{resultDesc, resultsDesc, durationDesc, lastScanDesc, scanErrorsDesc} {
		ch <- d
	}
	c.requests.Describe(ch)
}

// Collect sends the last completed scan's metrics and the error count.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	metrics := c.metrics
	c.mu.RUnlock()
	for _, m := range metrics {
		ch <- m
	}
	ch <- prometheus.MustNewConstMetric(scanErrorsDesc, prometheus.CounterValue, float64(c.errors.Load()))
	c.requests.Collect(ch)
}

// Ready reports whether a scan has completed.
func (c *Collector) Ready() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.metrics != nil
}

// ScanFailed counts a failed scan; the last results stay.
func (c *Collector) ScanFailed() { c.errors.Add(1) }

// Update replaces the snapshot with a completed scan's results, which
// ended at end and took took.
func (c *Collector) Update(results []report.Result, end time.Time, took time.Duration) {
	metrics := snapshot(results)
	metrics = append(metrics,
		prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, took.Seconds()),
		prometheus.MustNewConstMetric(lastScanDesc, prometheus.GaugeValue, float64(end.UnixNano())/1e9),
	)
	c.mu.Lock()
	c.metrics = metrics
	c.mu.Unlock()
}

// resultKey is a regcheck_result series' labels, in resultDesc's order.
type resultKey [7]string

// snapshot builds regcheck_result and regcheck_results from results.
// Results that would share a series (two findings of one check on one
// container and image with the same verdict) are one series: a registry
// refuses a metric collected twice with the same labels.
func snapshot(results []report.Result) []prometheus.Metric {
	seen := make(map[resultKey]bool, len(results))
	type statusReason struct{ status, reason string }
	counts := map[statusReason]int{}
	keys := make([]resultKey, 0, len(results))
	for _, r := range results {
		counts[statusReason{string(r.Status), string(r.Reason)}]++
		k := resultKey{string(r.Check), string(r.Status), string(r.Reason), r.Namespace, r.Workload, r.Container, r.Image}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	metrics := make([]prometheus.Metric, 0, len(keys)+len(counts)+2)
	for _, k := range keys {
		metrics = append(metrics, prometheus.MustNewConstMetric(resultDesc, prometheus.GaugeValue, 1, k[:]...))
	}
	// The registry sorts what it gathers: no order is kept here.
	for p, n := range counts {
		metrics = append(metrics, prometheus.MustNewConstMetric(resultsDesc, prometheus.GaugeValue, float64(n), p.status, p.reason))
	}
	return metrics
}
