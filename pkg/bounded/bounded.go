// Package bounded runs independent calls with at most a given number in
// flight: the one fan-out the scan, the doctor and the probes share.
package bounded

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// DefaultLimit is the number in flight when the caller gives none: a
// handful of requests per registry is what clients such as crane keep
// open, and what registries' rate limits expect.
const DefaultLimit = 4

// ForEach calls fn(i) for every i < n, at most limit at a time
// (DefaultLimit when limit is not positive), and returns when all have
// returned. With cancelled set, once ctx ends the calls not yet started
// get cancelled(i) instead: a run out of time stops sending requests
// rather than queueing them. Without it every fn runs and meets the ended
// context itself.
func ForEach(ctx context.Context, n, limit int, fn, cancelled func(i int)) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error {
			if cancelled != nil && ctx.Err() != nil {
				cancelled(i)
				return nil
			}
			fn(i)
			return nil
		})
	}
	_ = g.Wait()
}
