package scan

import (
	"context"
	"sync"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
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

	once sync.Once
	// never: Start was not called before the first wait (set in once).
	never bool
	// credsDone is closed once answers are in, before the HEADs; done
	// once the HEADs are too.
	credsDone, done chan struct{}
	answers         map[string]fetched // credential answers by credentialKey
	heads           map[string]*head   // by lookup key
}

// head is one warmed manifest HEAD. Its answer names the credential that
// worked (and each that failed) by position (registry.Used), so it holds
// for every lookup it is shared with: they are shared by the credentials'
// content, in order, whoever holds them (other namespaces' secrets).
type head struct {
	d   registry.Descriptor
	err error
}

// NewWarmer returns a Warmer, or nil without a Resolver (then there is
// nothing to start early).
func NewWarmer(creds CredentialFunc, r Resolver, concurrency int) *Warmer {
	if r == nil {
		return nil
	}
	return &Warmer{creds: creds, resolver: r, concurrency: concurrency, credsDone: make(chan struct{}), done: make(chan struct{})}
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
	close(w.credsDone)

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
		},
		func(i int) { results[i].err = ctx.Err() })
	for i, lk := range pending.order {
		w.heads[lookupKey(lk.ref, lk.creds)] = &results[i]
	}
}

// started reports whether Start was called; after the first call of
// started, wait or credentials, a later Start does nothing.
func (w *Warmer) started() bool {
	w.once.Do(func() { w.never = true; close(w.credsDone); close(w.done) })
	return !w.never
}

// wait blocks until the work started by Start is done; it returns at once
// when Start was never called (nothing was warmed).
func (w *Warmer) wait(ctx context.Context) bool {
	if w == nil || !w.started() {
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

// credentials blocks until the pull secrets Start read are in, which is
// before its HEADs end, and returns them (not to be written: the Warmer
// still reads them); false when Start was never called.
func (w *Warmer) credentials(ctx context.Context) (map[string]fetched, bool) {
	if w == nil || !w.started() {
		return nil, false
	}
	select {
	case <-w.credsDone:
	case <-ctx.Done():
		<-w.credsDone // its secrets' LISTs end with ctx too
	}
	return w.answers, true
}

// Close waits for the work Start began, when Run will not (the cluster
// could not be read); cancel Start's context first to end it early.
func (w *Warmer) Close() {
	if w != nil {
		w.wait(context.Background())
	}
}
