package serve

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/regcheck/regcheck/pkg/report"
)

// ScanFunc runs one scan and returns its results; the command builds it
// from scan.Run with the flags' Config. An error means the scan did not
// complete (the cluster could not be read).
type ScanFunc func(ctx context.Context) ([]report.Result, error)

// JitterFactor is the most a wait between scans is stretched, as a
// fraction of the interval, so many regcheck instances started together
// (one per cluster of a fleet) do not ask a shared registry in step.
const JitterFactor = 0.1

// Loop scans every Interval (plus jitter) and hands each completed scan to
// Collector. Scans never overlap: the wait starts when a scan ends.
type Loop struct {
	Scan      ScanFunc
	Interval  time.Duration
	Collector *Collector
	// Logf reports each scan's outcome; nil logs nothing.
	Logf func(format string, args ...any)
	// After and Now are the clock; nil means time.After and time.Now.
	// Tests drive the loop through them, with no real waiting.
	After func(time.Duration) <-chan time.Time
	Now   func() time.Time
}

// Run scans at once, then after every wait, until ctx ends; it returns
// nil then. A scan in progress is cancelled with ctx.
func (l *Loop) Run(ctx context.Context) error {
	after, now := l.After, l.Now
	if after == nil {
		after = time.After
	}
	if now == nil {
		now = time.Now
	}
	for {
		start := now()
		results, err := l.Scan(ctx)
		if ctx.Err() != nil {
			// Cancelled mid-scan: neither a result nor a failure.
			return nil
		}
		end := now()
		if err != nil {
			l.Collector.ScanFailed()
			l.logf("scan failed after %s (keeping the last results): %v", end.Sub(start).Round(time.Millisecond), err)
		} else {
			l.Collector.Update(results, end, end.Sub(start))
			l.logf("scan: %d results in %s", len(results), end.Sub(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-after(NextWait(l.Interval)):
		}
	}
}

// NextWait is the wait after a scan: the interval stretched by up to
// JitterFactor (apimachinery's wait.Jitter, as client-go's loops do).
func NextWait(interval time.Duration) time.Duration {
	return wait.Jitter(interval, JitterFactor)
}

func (l *Loop) logf(format string, args ...any) {
	if l.Logf != nil {
		l.Logf(format, args...)
	}
}
