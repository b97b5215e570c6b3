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

func TestRegistryFloor(t *testing.T) {
	// 475 pushed images and the 10 the pull-failing pods name, 16 at a
	// time: a ping, a token, then 31 rounds.
	if got, want := registryFloor(485, 16, 50*time.Millisecond), 33*50*time.Millisecond; got != want {
		t.Errorf("registryFloor(485, 16, 50ms) = %v, want %v", got, want)
	}
	if got, want := registryFloor(480, 16, 50*time.Millisecond), 32*50*time.Millisecond; got != want {
		t.Errorf("registryFloor(480, 16, 50ms) = %v, want %v", got, want)
	}
}
