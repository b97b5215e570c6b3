package scan

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// forEach calls fn(i) for every i < n, at most limit at a time
// (defaultConcurrency when limit is not positive). Once ctx ends, the
// calls not yet started get cancelled(i) instead: a run out of time stops
// sending requests rather than queueing them.
func forEach(ctx context.Context, n, limit int, fn, cancelled func(i int)) {
	if limit <= 0 {
		limit = defaultConcurrency
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for i := range n {
		g.Go(func() error {
			if ctx.Err() != nil {
				cancelled(i)
				return nil
			}
			fn(i)
			return nil
		})
	}
	_ = g.Wait()
}
