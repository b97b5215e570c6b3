package main

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name  string
		times []time.Duration // in the order the runs take them
		want  int             // the run (its index in times) whose value is returned
	}{
		{"one", []time.Duration{3}, 0},
		{"odd", []time.Duration{5, 1, 3}, 2},
		{"even takes the upper middle", []time.Duration{4, 1, 3, 2}, 2},
		{"ties", []time.Duration{2, 2, 1}, 0},
	}
	for _, tt := range tests {
		i := 0
		got, runs, err := median(len(tt.times), func() (int, time.Duration, error) {
			i++
			return i - 1, tt.times[i-1], nil
		})
		if err != nil || got != tt.want {
			t.Errorf("%s: run %d, %v; want run %d", tt.name, got, err, tt.want)
		}
		if !slices.IsSorted(runs) || len(runs) != len(tt.times) {
			t.Errorf("%s: runs %v, want all %d of them, fastest first", tt.name, runs, len(tt.times))
		}
	}
	boom := errors.New("boom")
	if _, _, err := median(3, func() (int, time.Duration, error) { return 0, 0, boom }); !errors.Is(err, boom) {
		t.Errorf("a failed run: %v, want it returned", err)
	}
}
