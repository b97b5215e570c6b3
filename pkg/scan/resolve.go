package scan

import (
	"context"
	"strings"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
)

// Resolver says what a reference points to now, as pkg/registry's Client
// does: one manifest HEAD, and the children and config digests of what it
// found only when asked. A scan spends one manifest request on every image
// whose pods all run the tag's digest already. Its errors are
// *registry.Failure.
type Resolver interface {
	Head(ctx context.Context, ref imageref.Reference, creds []credentials.Credential) (registry.Descriptor, error)
	Expand(ctx context.Context, d registry.Descriptor, creds []credentials.Credential) (registry.Resolution, error)
}

// PullPrefetcher can ask one token for many repositories at once, as
// pkg/registry's Client does; a scan then makes a token request per
// registry, credential and 50 repositories rather than per repository.
type PullPrefetcher interface {
	PrefetchPull(ctx context.Context, ref imageref.Reference, repositories []string, cred credentials.Credential)
}

// lookup is one (reference, credential set) to resolve, shared by every
// container that needs it.
type lookup struct {
	ref   imageref.Reference
	creds []credentials.Credential
	res   registry.Resolution
	err   error
	// running are the digests the pods of every container sharing this
	// lookup report, true for image (config) IDs; when all equal the tag's
	// digest, nothing but a HEAD is needed.
	running map[string]bool
	// warm is the HEAD a Warmer already made, if any.
	warm *head
	// full asks for the config digests whatever pods run.
	full bool
}

// addRunning records a digest a pod reports for this lookup's image, and
// whether it is an image (config) ID rather than a repo digest.
func (lk *lookup) addRunning(d string, kind IDKind) {
	if lk.running == nil {
		lk.running = map[string]bool{}
	}
	lk.running[d] = lk.running[d] || kind == IDImageID
}

// run resolves the lookup, expanding only when some pod runs a digest
// other than the tag's (an index child, a config digest, or a stale one).
func (lk *lookup) run(ctx context.Context, r Resolver) (registry.Resolution, error) {
	var d registry.Descriptor
	var err error
	if lk.warm != nil {
		d, err = lk.warm.d, lk.warm.err
	} else {
		d, err = r.Head(ctx, lk.ref, lk.creds)
	}
	if err != nil {
		return registry.Resolution{}, err
	}
	// A repo digest other than a single manifest's is stale as it stands;
	// a config digest, or any digest against an index, needs the children
	// and config digests to tell.
	index := (&registry.Manifest{MediaType: d.MediaType}).IsIndex()
	expand := lk.full
	for digest, imageID := range lk.running {
		if digest != d.Digest && (imageID || index) {
			expand = true
			break
		}
	}
	if !expand {
		return d.Resolution(), nil
	}
	return r.Expand(ctx, d, lk.creds)
}

// lookups deduplicates resolutions: a hundred workloads on one image with
// the same credentials make one registry lookup.
type lookups struct {
	byKey map[string]*lookup
	order []*lookup
}

// lookupKey is what lookups share: the reference and the fingerprints of
// the credentials presented. Only what is presented matters: namespaces
// whose secrets hold the same credentials share one lookup, and each result
// then names its own secret (check.usedSource).
func lookupKey(ref imageref.Reference, creds []credentials.Credential) string {
	var b strings.Builder
	b.WriteString(ref.Pull())
	for _, c := range creds {
		b.WriteString("\x00" + c.Fingerprint())
	}
	return b.String()
}

func (l *lookups) get(ref imageref.Reference, creds []credentials.Credential) *lookup {
	key := lookupKey(ref, creds)
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
	if p, ok := r.(PullPrefetcher); ok {
		l.prefetch(ctx, p)
	}
	bounded.ForEach(ctx, len(l.order), concurrency,
		func(i int) { l.order[i].res, l.order[i].err = l.order[i].run(ctx, r) },
		func(i int) { l.order[i].err = ctx.Err() })
}

// prefetch groups the lookups by registry and first credential (the one
// most lookups succeed with) and asks their tokens together.
func (l *lookups) prefetch(ctx context.Context, p PullPrefetcher) {
	type group struct {
		ref   imageref.Reference
		cred  credentials.Credential
		repos []string
		seen  map[string]bool
	}
	groups := map[string]*group{}
	var order []*group
	for _, lk := range l.order {
		if lk.warm != nil {
			continue // its token came with the Warmer's batch
		}
		ref := lk.ref
		cred := credentials.Credential{Source: credentials.SourceAnonymous}
		if len(lk.creds) > 0 {
			cred = lk.creds[0]
		}
		key := ref.Host + "\x00" + cred.Fingerprint()
		g := groups[key]
		if g == nil {
			g = &group{ref: ref, cred: cred, seen: map[string]bool{}}
			groups[key] = g
			order = append(order, g)
		}
		if !g.seen[ref.Repository] {
			g.seen[ref.Repository] = true
			g.repos = append(g.repos, ref.Repository)
		}
	}
	for _, g := range order {
		p.PrefetchPull(ctx, g.ref, g.repos, g.cred)
	}
}
