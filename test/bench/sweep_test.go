package main

import (
	"testing"
	"time"
)

func TestChooseConcurrency(t *testing.T) {
	run := func(conc int, ms float64) sweepRun {
		var r sweepRun
		r.concurrency = conc
		r.stats.Phases.ManifestMean = time.Duration(ms * float64(time.Millisecond))
		return r
	}
	tests := []struct {
		name string
		runs []sweepRun
		want int
	}{
		{"none", nil, 0},
		{"the registry keeps up", []sweepRun{run(8, 55), run(16, 58), run(32, 60)}, 32},
		{"slows past 16", []sweepRun{run(32, 97), run(8, 64), run(16, 72)}, 16},
		{"slows at once", []sweepRun{run(8, 50), run(16, 70), run(32, 55)}, 8},
	}
	for _, tt := range tests {
		if got := chooseConcurrency(tt.runs, 1.2); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
