package scan

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// Resolver says what a reference points to now. Its errors are
// *registry.Failure; pkg/registry implements it.
type Resolver interface {
	Resolve(ctx context.Context, ref string, creds []credentials.Credential) (registry.Resolution, error)
}

// defaultConcurrency bounds registry lookups when Options leaves it unset.
const defaultConcurrency = 4

// lookup is one (reference, credential set) to resolve, shared by every
// container that needs it.
type lookup struct {
	ref   string
	creds []credentials.Credential
	res   registry.Resolution
	err   error
}

// lookups deduplicates resolutions: a hundred workloads on one image with
// the same credentials make one registry lookup.
type lookups struct {
	byKey map[string]*lookup
	order []*lookup
}

func (l *lookups) get(ref string, creds []credentials.Credential) *lookup {
	var b strings.Builder
	b.WriteString(ref)
	for _, c := range creds {
		// Source and Key matter too: the result names the credential used.
		b.WriteString("\x00" + c.Source + "\x00" + c.Key + "\x00" + c.Fingerprint())
	}
	key := b.String()
	if lk, ok := l.byKey[key]; ok {
		return lk
	}
	if l.byKey == nil {
		l.byKey = map[string]*lookup{}
	}
	lk := &lookup{ref: ref, creds: creds}
	l.byKey[key] = lk
	l.order = append(l.order, lk)
	return lk
}

// resolve runs every lookup, at most concurrency at a time.
func (l *lookups) resolve(ctx context.Context, r Resolver, concurrency int) {
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for _, lk := range l.order {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			lk.err = ctx.Err()
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			lk.res, lk.err = r.Resolve(ctx, lk.ref, lk.creds)
		})
	}
	wg.Wait()
}

// failureOf names any error as a registry failure; the Resolver should
// only return *registry.Failure, but a cancelled run must read well too.
func failureOf(err error) *registry.Failure {
	var f *registry.Failure
	if errors.As(err, &f) {
		return f
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &registry.Failure{
			Reason:  report.ReasonUnreachable,
			Message: "the registry did not answer in time: " + err.Error(),
			Remedy:  "retry with a longer --timeout, and check the registry is reachable from here",
		}
	}
	return &registry.Failure{
		Reason:  report.ReasonUnreachable,
		Message: err.Error(),
		Remedy:  "check the registry is reachable from here",
	}
}
