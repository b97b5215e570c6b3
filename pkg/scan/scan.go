// Package scan compares what every workload runs with what the registry
// serves now, with the credentials the kubelet would use, and turns each
// finding into a report.Result. It knows neither cobra nor printing.
package scan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/similar"
)

// Options tune a scan.
type Options struct {
	// Concurrency bounds registry lookups in flight (default 4).
	Concurrency int
	// Audience is who reads the registry faults' fixes: a kubectl user
	// (the zero value) or a Helm user.
	Audience remedy.Audience
	// Resolver asks the registry; nil skips the digest check and leaves
	// only the offline ones (references, pull policy, credentials).
	Resolver Resolver
	// Warmer, when set, has started the HEADs and pull secrets from the
	// templates already; Run waits for it and reuses them.
	Warmer *Warmer
	// Unreferenced, when set, names a namespace's pull secrets that hold
	// credentials for ref but that the pods do not name (their own, else
	// their ServiceAccount's): the remedy then attaches one instead of
	// creating another. kube.PullSecretReader.Unreferenced.
	Unreferenced func(ctx context.Context, namespace, serviceAccount string, podPullSecrets []string, ref imageref.Reference) []string
	// NodeCredentials, when set, are the kubelet's credential providers:
	// an image no pull secret serves but a provider does is pulled with
	// the node's identity (registry.pull skip NodeCredentials), and its
	// digest is compared with the user's own credentials.
	NodeCredentials *NodeCredentials
	// Newer, when set, reports workload.version (--newer); the Resolver
	// must be a TagLister too.
	Newer *Newer
}

// check is one container waiting for its registry lookup.
type check struct {
	w          *kube.Workload
	c          kube.Container
	ref        imageref.Reference
	base       report.Result
	lookup     *lookup
	creds      []credentials.Credential // this container's own, in the kubelet's order
	unreadable bool
	// missingSecret: a pull secret the template names does not exist.
	missingSecret bool
	missing       []string // the names of those secrets
	// malformedSecret: a pull secret the template names cannot be used.
	malformedSecret bool
	// foreign are the repo digests pods report under another repository
	// than the spec's (digest → that repository's digest reference), and
	// their lookups once needed. containerd keeps one image per config
	// digest and names the alphabetically first repository holding it in
	// every pod's imageID, so such a digest is compared by config digest.
	foreign        map[string]imageref.Reference
	foreignLookups map[string]*lookup
	pc             pullCreds
	// node is the credential provider that serves the image when no pull
	// secret matches; creds are then the user's own, for the digest.
	node *nodecreds.Match
	// fallback is the provider the kubelet tries after this container's
	// pull secrets, when one serves the image.
	fallback *nodecreds.Match
	// unreferenced are the namespace's pull secrets that hold credentials
	// for the image but that its pods do not name (read only when the
	// registry asked for credentials none of the pods' gave).
	unreferenced []string
	// to is who reads the registry faults' fixes (Options.Audience).
	to remedy.Audience
}

// audience is who fixes what this container's check finds.
func (ch *check) audience() remedy.Workload {
	a := audience(ch.w)
	a.Unreferenced = ch.unreferenced
	// The secret to create is the missing one, not the first the pods
	// name (which may exist and be fine).
	a.Missing = slices.Clone(ch.missing)
	return a
}

// credentialConcurrency bounds the namespaces whose pull secrets are read
// at once: a handful of LISTs in flight keeps the API server's priority
// and fairness happy and hides most of the latency.
const credentialConcurrency = 8

// Check checks every container (init containers included, ephemeral ones
// not) of every workload in inv. Each unique (reference, credentials) is
// resolved once. creds may be nil (anonymous). Results are sorted stably.
func Check(ctx context.Context, inv *kube.Inventory, creds CredentialFunc, opts Options) []report.Result {
	return checkAll(ctx, inv, creds, opts).results
}

// Group is what a scan result is about, for a caller that files results
// apart (the doctor's checklist) by the group the scan made them in,
// never by matching their Check.
type Group uint8

// The groups of Outcome.
const (
	// GroupStaleness: workload.digest, workload.pull-policy,
	// workload.pull and workload.version, a container's own checks.
	GroupStaleness Group = iota
	// GroupSecrets: credentials.secret, what the pull secrets hold.
	GroupSecrets
	// GroupPulls: registry.pull, a pull judged without asking the
	// registry: an image the nodes pull with their own identity, or one
	// whose pull secret the kubelet cannot decode.
	GroupPulls
	// GroupReferences: image.reference, a container's reference that
	// does not parse.
	GroupReferences
	// GroupRead: cluster.read, what could not be read.
	GroupRead
)

// findings are a check's results with the group each was made in.
type findings struct {
	results []report.Result
	groups  []Group
}

func (f *findings) add(g Group, rs ...report.Result) {
	for _, r := range rs {
		f.results = append(f.results, r)
		f.groups = append(f.groups, g)
	}
}

// sort orders the results as report.SortStable does, each keeping its group.
func (f *findings) sort() {
	idx := make([]int, len(f.results))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return report.Before(f.results[idx[i]], f.results[idx[j]]) })
	rs, gs := make([]report.Result, len(idx)), make([]Group, len(idx))
	for k, i := range idx {
		rs[k], gs[k] = f.results[i], f.groups[i]
	}
	f.results, f.groups = rs, gs
}

func checkAll(ctx context.Context, inv *kube.Inventory, creds CredentialFunc, opts Options) findings {
	if inv == nil {
		return findings{}
	}
	cc := newCredentialCache(creds)
	// The Warmer's pull secrets are in long before its HEADs: the checks
	// are built while the HEADs are still out (grouping 5,000 pods took
	// 50 ms of the critical path after the last registry answer), and
	// take the HEADs' answers below.
	if answers, ok := opts.Warmer.credentials(ctx); ok {
		cc.fetched = maps.Clone(answers) // the Warmer still reads its own
	}
	cc.prefetch(ctx, inv.Workloads, credentialConcurrency)
	chain := newNodeChain(opts.NodeCredentials)
	var (
		found   findings
		checks  []*check
		pending lookups
	)
	for i := range inv.Workloads {
		w := &inv.Workloads[i]
		pc := cc.get(ctx, w)
		for _, c := range w.Containers {
			base := report.Result{Namespace: w.Namespace, Workload: w.ID(), Container: c.Name, Image: c.Image}
			ref, err := imageref.Parse(c.Image)
			if err != nil {
				found.add(GroupReferences, invalidReference(base, err))
				ch := &check{w: w, c: c, base: base, unreadable: pc.unreadable, missingSecret: pc.missingSecret, missing: pc.missing, malformedSecret: pc.malformedSecret, to: opts.Audience}
				if r, ok := ch.pullResult("", ""); ok {
					found.add(GroupStaleness, r)
				}
				continue
			}
			base.Registry, base.Repository = ref.Registry, ref.Repository
			if len(pc.undecodable) > 0 {
				// The kubelet fails this pull before asking any registry:
				// no lookup, no node credentials, nothing to replay.
				found.add(GroupPulls, undecodablePull(base, w, c, pc.undecodable))
				if r, ok := pullPolicy(base, w, c, ref); ok {
					found.add(GroupStaleness, r)
				}
				continue
			}
			ch := &check{w: w, c: c, ref: ref, base: base, unreadable: pc.unreadable, missingSecret: pc.missingSecret, missing: pc.missing, malformedSecret: pc.malformedSecret, pc: pc, to: opts.Audience}
			secrets := pc.lookup(ref)
			ch.node = chain.match(ref, w, secrets)
			if ch.node == nil && len(secrets) > 0 {
				ch.fallback = chain.provider(ref, w)
			}
			if opts.Resolver != nil {
				ch.creds = secrets
				if ch.node != nil {
					ch.creds = chain.localFor(ctx, ref.Registry)
				}
				ch.lookup = pending.get(ref, ch.creds)
				for i := range w.Pods {
					if st, ok := w.Pods[i].Status(c.Name, c.Init); ok {
						d, kind := NormalizeImageID(st.ImageID)
						if kind == IDNone {
							continue
						}
						if fr, ok := foreignDigestRef(ref, st.ImageID, d); ok {
							if ch.foreign == nil {
								ch.foreign = map[string]imageref.Reference{}
							}
							ch.foreign[d] = fr
							// Its config digest is compared with the tag's:
							// the tag's lookup must expand to know it.
							kind = IDImageID
						}
						ch.lookup.addRunning(d, kind)
					}
				}
			}
			checks = append(checks, ch)
		}
	}
	if opts.Warmer != nil && opts.Warmer.wait(ctx) {
		for _, lk := range pending.order {
			lk.warm = opts.Warmer.heads[lookupKey(lk.ref, lk.creds)]
		}
	}
	if opts.Resolver != nil {
		pending.resolve(ctx, opts.Resolver, opts.Concurrency)
		resolveForeign(ctx, checks, opts)
	}
	newer := newerVersions(ctx, checks, opts)

	podsReadable := inv.Readable("pods")
	for _, ch := range checks {
		ch.findUnreferenced(ctx, opts)
		pull, failing := ch.pullResult(ch.replay())
		if ch.lookup != nil {
			d := ch.digest(podsReadable)
			if failing && d.Reason == report.ReasonNotRunning {
				// workload.pull says why no pod runs and what to do: a
				// "kubectl describe pod" here would only repeat it.
				d.Remedy = ""
			}
			found.add(GroupStaleness, d)
		}
		if v, ok := newer[ch]; ok {
			found.add(GroupStaleness, v)
		}
		if ch.node != nil {
			found.add(GroupPulls, ch.nodePull())
		}
		if failing {
			found.add(GroupStaleness, pull)
		}
		if r, ok := pullPolicy(ch.base, ch.w, ch.c, ch.ref); ok {
			found.add(GroupStaleness, r)
		}
	}
	var all findings
	all.add(GroupSecrets, cc.results...)
	all.results, all.groups = append(all.results, found.results...), append(all.groups, found.groups...)
	report.ApplyRateLimitRule(all.results)
	all.sort()
	return all
}

// replay is what the scan's own lookup of this container's (image,
// credentials) met — the kubelet's pull, replayed from here at no extra
// request — and its message; empty when the registry was not asked.
func (ch *check) replay() (report.Reason, string) {
	switch {
	case ch.lookup == nil, ch.node != nil: // the node's pull is not replayable from here
		return "", ""
	case ch.lookup.err != nil:
		f := registry.AsFailure(ch.lookup.err)
		return f.Reason, remedy.Message(f.Fault)
	}
	return report.ReasonOk, ""
}

// maxNearTags bounds the tags named as near a missing one.
const maxNearTags = 5

// nearTags names the repository's tags close to a missing tag (1.25.3 for
// 1.25.4, v1.0 for 1.0), from the tags list the lookup already read to
// tell a missing tag from a missing repository: no extra request.
func (ch *check) nearTags() []string {
	if ch.lookup == nil || ch.lookup.err == nil || ch.ref.Tag == "" || ch.ref.Digest != "" {
		return nil
	}
	f := registry.AsFailure(ch.lookup.err)
	if f.Reason != report.ReasonTagNotFound {
		return nil
	}
	var out []string
	for _, c := range similar.Names(ch.ref.Tag, f.Tags, maxNearTags) {
		out = append(out, c.Name)
	}
	return out
}

// digest is the workload.digest result of one container.
func (ch *check) digest(podsReadable bool) report.Result {
	if ch.node != nil {
		return ch.nodeDigest(podsReadable)
	}
	r := ch.base
	if ch.lookup.err != nil {
		r.CredentialSource = credentialSources(ch.creds)
		return ch.fallbackNote(ch.failed(r, registry.AsFailure(ch.lookup.err)))
	}
	r.CredentialSource = ch.usedSource(ch.lookup.res.Used, ch.lookup.res.CredentialSource)
	return digestVerdict(r, ch.w, ch.c, ch.ref, ch.lookup.res, ch.foreignConfigs(), podsReadable)
}

// resolveForeign looks up, once the tags are resolved, the config digest of
// each repo digest a pod reports under another repository, unless it is the
// tag's own digest (the same manifest in both repositories).
func resolveForeign(ctx context.Context, checks []*check, opts Options) {
	var second lookups
	for _, ch := range checks {
		if ch.lookup == nil || ch.lookup.err != nil {
			continue
		}
		for d, fr := range ch.foreign {
			if d == ch.lookup.res.Digest {
				continue
			}
			lk := second.get(fr, ch.pc.lookup(fr))
			lk.full = true
			if ch.foreignLookups == nil {
				ch.foreignLookups = map[string]*lookup{}
			}
			ch.foreignLookups[d] = lk
		}
	}
	if len(second.order) > 0 {
		second.resolve(ctx, opts.Resolver, opts.Concurrency)
	}
}

// foreignConfigs maps each foreign repo digest to its config digest (the
// child's, for an index, is not needed: a runtime reports the index only
// for the repository it pulled).
func (ch *check) foreignConfigs() map[string]string {
	out := map[string]string{}
	for d, lk := range ch.foreignLookups {
		if lk.err == nil && lk.res.ConfigDigest != "" {
			out[d] = lk.res.ConfigDigest
		}
	}
	return out
}

// findUnreferenced looks for pull secrets the pods could use but do not
// name, when the registry wanted credentials the pods did not give.
func (ch *check) findUnreferenced(ctx context.Context, opts Options) {
	if opts.Unreferenced == nil || ch.lookup == nil || ch.lookup.err == nil || len(ch.creds) > 0 ||
		ch.node != nil || ch.missingSecret || ch.malformedSecret || ch.unreadable {
		return
	}
	if registry.AsFailure(ch.lookup.err).Reason != report.ReasonCredentialsRequired {
		return
	}
	ch.unreferenced = opts.Unreferenced(ctx, ch.w.Namespace, ch.w.ServiceAccountName, ch.w.ImagePullSecrets, ch.ref)
}

// failed carries a registry failure into the result as it is.
func (ch *check) failed(r report.Result, f *registry.Failure) report.Result {
	r.Check = report.CheckWorkloadDigest
	r.Status = report.StatusFail
	r.Reason = f.Reason
	r.Message = remedy.Message(f.Fault)
	r.Remedy = remedy.Registry(f.Fault, ch.to)
	r.Evidence = report.Evidence{}
	for k, v := range f.Evidence {
		r.Evidence[k] = v
	}
	// The lookup may have been made with another namespace's secrets that
	// hold the same credentials: name this container's own.
	if len(f.Attempts) > 0 {
		tried := make([]string, len(ch.creds))
		for i, c := range ch.creds {
			tried[i] = c.Source
		}
		r.Evidence["tried"] = tried
		var own []report.FailedAttempt // in order: two may share a source
		for _, a := range f.Attempts {
			if i, ok := a.Credential.In(ch.creds); ok {
				own = append(own, report.FailedAttempt{Credential: ch.creds[i].Source, Key: ch.creds[i].Key, Reason: a.Reason})
			}
		}
		r.Evidence["failures"] = own
	}
	switch f.Reason {
	case report.ReasonCredentialsRequired, report.ReasonInvalidCredentials:
		// The pods pull with these credentials too: the fix is theirs,
		// in the cluster, unless the pull secrets could not be read.
		reason := f.Reason
		switch {
		case reason != report.ReasonCredentialsRequired:
		case ch.missingSecret:
			reason = report.ReasonIncompleteCredentials // create the secret the pods name
		case ch.malformedSecret:
			reason = report.ReasonMalformedCredentials // re-create it
		}
		if !ch.unreadable {
			r.Remedy = ch.audience().Credentials(reason, ch.base.Registry, ch.c.Image, r.CredentialSource)
		}
	}
	if ch.ref.Digest != "" && f.Reason == report.ReasonTagNotFound {
		r.Message = "the pinned digest " + short(ch.ref.Digest.String()) + " does not exist in " + ch.ref.Name() + ": " + remedy.Message(f.Fault)
		r.Remedy = "pin a digest that exists (crane digest " + ch.ref.Name() + ":TAG), or push the image again"
	}
	if near := ch.nearTags(); len(near) > 0 {
		r.Remedy = fmt.Sprintf("set a tag that exists (near %s: %s), or push %s", ch.ref.Tag, strings.Join(near, ", "), ch.ref.Tag)
		r.Evidence["nearTags"] = near
	}
	// What the pods run is known even when the registry did not say what
	// the tag points to now.
	if runs := runningDigests(ch.w, ch.c, registry.Resolution{}, nil); len(runs) > 0 {
		r.Digests = digestsOf("", runs)
	}
	if ch.unreadable {
		r.Message += " (pull secrets could not be read, so this was checked anonymously; the kubelet's verdict may differ)"
		r.Evidence["credentialsUnreadable"] = true
	}
	return r
}

// usedSource names this container's credential that the shared lookup
// used: lookups are shared by every container whose credentials are the
// same, in the same order, even when they come from secrets of other names
// or namespaces, so the answer's position (registry.Used) names this
// container's own, never a string compared with its sources (two entries
// of one pull secret share a source). shown is the answer's display text,
// for an answer that names no credential: anonymous, or a fake's.
func (ch *check) usedSource(u registry.Used, shown string) string {
	if i, ok := u.In(ch.creds); ok {
		return ch.creds[i].Source
	}
	if shown == "" {
		return credentialSources(ch.creds)
	}
	return shown
}
