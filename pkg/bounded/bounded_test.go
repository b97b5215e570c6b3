package bounded

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n, limit  int
		wantLimit int32
	}{
		{"limit respected", 20, 3, 3},
		{"default limit", 20, 0, DefaultLimit},
		{"nothing to do", 0, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inFlight, peak atomic.Int32
			seen := make([]bool, tc.n)
			var mu sync.Mutex
			// Each call waits until limit calls are in flight (or all are
			// started), so the peak is reached without any timing.
			gate := make(chan struct{})
			var once sync.Once
			ForEach(context.Background(), tc.n, tc.limit, func(i int) {
				cur := inFlight.Add(1)
				for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
				}
				if cur >= tc.wantLimit {
					once.Do(func() { close(gate) })
				}
				<-gate
				mu.Lock()
				seen[i] = true
				mu.Unlock()
				inFlight.Add(-1)
			}, nil)
			if got := peak.Load(); got != tc.wantLimit {
				t.Errorf("peak in flight = %d, want %d", got, tc.wantLimit)
			}
			for i, ok := range seen {
				if !ok {
					t.Errorf("fn(%d) never ran", i)
				}
			}
		})
	}
}

func TestForEachCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran, skipped atomic.Int32
	ForEach(ctx, 5, 2, func(int) { ran.Add(1) }, func(int) { skipped.Add(1) })
	if ran.Load() != 0 || skipped.Load() != 5 {
		t.Errorf("ended context with cancelled: ran %d, cancelled %d; want 0, 5", ran.Load(), skipped.Load())
	}
	ForEach(ctx, 5, 2, func(int) { ran.Add(1) }, nil)
	if ran.Load() != 5 {
		t.Errorf("ended context without cancelled: ran %d, want every call", ran.Load())
	}
}
