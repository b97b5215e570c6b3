package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
)

// sweepRun is one in-process run of regcheck's registry phase: what a scan
// does once it knows the images (pkg/registry's PrefetchPull for every
// repository, then a HEAD per image, concurrency at a time, each with the
// credential), with one token batch size and one concurrency.
type sweepRun struct {
	batch, concurrency int
	wall               time.Duration
	stats              proxyStats
	floor              time.Duration
}

// sweep measures the registry phase over TLS for each token batch size
// (at o.concurrency), then for each concurrency (at pkg/registry's default
// batch size). It goes over every point once per round, -sweep-repeat
// rounds, and keeps each point's fastest run: the machine is shared, and
// the rounds spread whatever slows it over all points alike. Nothing else
// runs meanwhile: it is the engine against the proxy alone, without
// kubectl, the pods LIST or the printing.
func sweep(ctx context.Context, o options, proxy *latencyProxy, caFile string, refs, want []string) (batches, concs []sweepRun, err error) {
	batches = make([]sweepRun, len(o.sweepBatches))
	concs = make([]sweepRun, len(o.sweepConcurrency))
	keep := func(b *sweepRun, batch, conc int) error {
		r, err := sweepOnce(ctx, o, proxy, caFile, refs, want, batch, conc)
		if err != nil {
			return err
		}
		if b.wall == 0 || r.wall < b.wall {
			*b = r
		}
		return nil
	}
	for round := range max(1, o.sweepRepeat) {
		logf("registry phase in process, round %d: %v repositories a token, then concurrency %v", round+1, o.sweepBatches, o.sweepConcurrency)
		for i, n := range o.sweepBatches {
			if err := keep(&batches[i], n, o.concurrency); err != nil {
				return nil, nil, err
			}
		}
		for i, c := range o.sweepConcurrency {
			if err := keep(&concs[i], 0, c); err != nil {
				return nil, nil, err
			}
		}
	}
	return batches, concs, nil
}

func sweepOnce(ctx context.Context, o options, proxy *latencyProxy, caFile string, refs, want []string, batch, conc int) (sweepRun, error) {
	run := sweepRun{batch: cmp.Or(batch, registry.DefaultScopesPerToken), concurrency: conc}
	c, err := registry.NewClient(registry.Options{CAFile: caFile, ScopesPerToken: batch, UserAgent: "regcheck-bench"})
	if err != nil {
		return run, err
	}
	defer c.CloseIdleConnections()
	cred := credentials.Credential{Source: "bench", Username: user, Password: password}
	parsed := make([]imageref.Reference, len(refs))
	var repos []string
	seen := map[string]bool{}
	for i, s := range refs {
		if parsed[i], err = imageref.Parse(s); err != nil {
			return run, err
		}
		if r := parsed[i].Repository; !seen[r] {
			seen[r] = true
			repos = append(repos, r)
		}
	}
	proxy.Reset()
	start := time.Now()
	c.PrefetchPull(ctx, parsed[0], repos, cred)
	var failed atomic.Pointer[error]
	bounded.ForEach(ctx, len(parsed), conc, func(i int) {
		d, err := c.Head(ctx, parsed[i], []credentials.Credential{cred})
		if err == nil && d.Digest != want[i] {
			err = fmt.Errorf("HEAD %s: %s, want %s", refs[i], d.Digest, want[i])
		}
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}, func(int) {})
	run.wall = time.Since(start)
	run.stats = proxy.Stats()
	run.floor = registryFloor(len(refs), conc, o.delay)
	if err := ctx.Err(); err != nil {
		return run, err
	}
	if p := failed.Load(); p != nil {
		return run, *p
	}
	return run, nil
}

// printSweep prints the sweep's lines, and the batch size and concurrency
// the fastest runs had.
func printSweep(w io.Writer, batches, concs []sweepRun) {
	line := func(r sweepRun) string {
		ph := r.stats.Phases
		return fmt.Sprintf("%.3f s, registry_span_ratio %.2f (%.3f s ÷ %.3f s), %d tokens, %.1f in flight, %.1f ms a manifest request",
			r.wall.Seconds(), r.stats.Span.Seconds()/r.floor.Seconds(), r.stats.Span.Seconds(), r.floor.Seconds(), r.stats.Token,
			ph.InFlight, float64(ph.ManifestMean.Microseconds())/1000)
	}
	fastest := func(runs []sweepRun, key func(sweepRun) int) string {
		var b *sweepRun
		for i := range runs {
			if b == nil || runs[i].wall < b.wall {
				b = &runs[i]
			}
		}
		return strconv.Itoa(key(*b))
	}
	if len(batches) > 0 {
		for _, r := range batches {
			fmt.Fprintf(w, "token_batch_%d: %s\n", r.batch, line(r))
		}
		fmt.Fprintf(w, "token_batch_fastest: %s\n", fastest(batches, func(r sweepRun) int { return r.batch }))
		fmt.Fprintf(w, "token_batch_default: %d\n", registry.DefaultScopesPerToken)
	}
	if len(concs) > 0 {
		for _, r := range concs {
			fmt.Fprintf(w, "registry_at_concurrency_%d: %s\n", r.concurrency, line(r))
		}
		fmt.Fprintf(w, "concurrency_fastest: %s\n", fastest(concs, func(r sweepRun) int { return r.concurrency }))
		fmt.Fprintf(w, "concurrency_chosen: %d (the most in flight before the registry's answers slow by more than %d%%)\n",
			chooseConcurrency(concs, registrySlowdown), int(registrySlowdown*100-100))
	}
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(flag, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-%s: %q is not a positive number", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// registrySlowdown is how much slower, per request, the registry may answer
// at a higher concurrency than at the lowest measured before the higher one
// stops counting as faster for free: past it the extra requests in flight
// queue at the registry (and load a registry shared with everyone else)
// more than they overlap round trips.
const registrySlowdown = 1.2

// chooseConcurrency is the largest concurrency measured whose mean
// manifest request took at most slowdown times the lowest concurrency's.
func chooseConcurrency(runs []sweepRun, slowdown float64) int {
	if len(runs) == 0 {
		return 0
	}
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b sweepRun) int { return a.concurrency - b.concurrency })
	base := sorted[0].stats.Phases.ManifestMean
	chosen := sorted[0].concurrency
	for _, r := range sorted[1:] {
		if float64(r.stats.Phases.ManifestMean) > slowdown*float64(base) {
			break
		}
		chosen = r.concurrency
	}
	return chosen
}
