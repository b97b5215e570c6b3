package scan

import (
	"context"
	"errors"
	"sync"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// Warmer starts a scan's registry work from the workloads' templates while
// the cluster's pods are still being read (kube.CollectEarly): the pull
// secrets, the batched tokens and one manifest HEAD per unique (image,
// credentials). The HEAD's answer does not depend on what the pods run;
// only the expansion Run may still need does. On a large cluster this
// hides the pods LIST behind the registry's round trips instead of adding
// them up.
//
// Pass it to Run in Options.Warmer; Run waits for it and reuses every
// answer. A Warmer is used for one Run.
type Warmer struct {
	creds       CredentialFunc
	resolver    Resolver
	concurrency int

	once    sync.Once
	done    chan struct{}
	answers map[string]fetched // credential answers by credentialKey
	heads   map[string]*head   // by lookup key
}

// head is one warmed manifest HEAD.
type head struct {
	d   registry.Descriptor
	err error
	// creds are what the HEAD was made with: the first template's
	// secrets, which other namespaces' secrets may equal in content.
	creds []credentials.Credential
}

// answer is the HEAD's answer with its credential sources mapped to own,
// the credentials of the lookup that reuses it, by position (lookups are
// shared by content, in order), so a result never names another
// namespace's secret.
func (h *head) answer(own []credentials.Credential) (registry.Descriptor, error) {
	mapped := func(src string) string {
		for i, c := range h.creds {
			if c.Source == src && i < len(own) {
				return own[i].Source
			}
		}
		return src
	}
	d := h.d
	d.CredentialSource = mapped(d.CredentialSource)
	var f *registry.Failure
	if !errors.As(h.err, &f) || (len(f.Tried) == 0 && len(f.Failures) == 0) {
		return d, h.err
	}
	out := *f
	out.Tried = make([]string, len(f.Tried))
	for i, src := range f.Tried {
		out.Tried[i] = mapped(src)
	}
	if f.Failures != nil {
		out.Failures = make(map[string]report.Reason, len(f.Failures))
		for src, reason := range f.Failures {
			out.Failures[mapped(src)] = reason
		}
	}
	return d, &out
}

// NewWarmer returns a Warmer, or nil without a Resolver (then there is
// nothing to start early).
func NewWarmer(creds CredentialFunc, r Resolver, concurrency int) *Warmer {
	if r == nil {
		return nil
	}
	return &Warmer{creds: creds, resolver: r, concurrency: concurrency, done: make(chan struct{})}
}

// Start begins the work for templates in the background and returns at
// once; only the first call counts. It fits kube.CollectEarly's early.
func (w *Warmer) Start(ctx context.Context, templates []kube.Workload) {
	w.once.Do(func() { go w.run(ctx, templates) })
}

func (w *Warmer) run(ctx context.Context, templates []kube.Workload) {
	defer close(w.done)
	cc := newCredentialCache(w.creds)
	cc.prefetch(ctx, templates, credentialConcurrency)
	w.answers = cc.fetched

	var pending lookups
	for i := range templates {
		t := &templates[i]
		pc := cc.get(ctx, t)
		for _, c := range t.Containers {
			if ref, err := imageref.Parse(c.Image); err == nil {
				pending.get(ref, pc.lookup(ref))
			}
		}
	}
	if p, ok := w.resolver.(PullPrefetcher); ok {
		pending.prefetch(ctx, p)
	}
	w.heads = make(map[string]*head, len(pending.order))
	results := make([]head, len(pending.order))
	bounded.ForEach(ctx, len(pending.order), w.concurrency,
		func(i int) {
			lk := pending.order[i]
			results[i].d, results[i].err = w.resolver.Head(ctx, lk.ref, lk.creds)
			results[i].creds = lk.creds
		},
		func(i int) { results[i].err = ctx.Err() })
	for i, lk := range pending.order {
		w.heads[lookupKey(lk.ref, lk.creds)] = &results[i]
	}
}

// wait blocks until the work started by Start is done; it returns at once
// when Start was never called (nothing was warmed).
func (w *Warmer) wait(ctx context.Context) bool {
	started := true
	w.once.Do(func() { started = false; close(w.done) })
	if !started {
		return false
	}
	select {
	case <-w.done:
		return true
	case <-ctx.Done():
		<-w.done // its own requests end with ctx too
		return true
	}
}

// Close waits for the work Start began, when Run will not (the cluster
// could not be read); cancel Start's context first to end it early.
func (w *Warmer) Close() {
	if w != nil {
		w.wait(context.Background())
	}
}
