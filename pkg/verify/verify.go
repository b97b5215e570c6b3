// Package verify checks manifests before they are deployed: every
// container image of the pod templates they hold gets the checks a scan
// runs after the deploy (image.reference, registry.pull,
// workload.pull-policy), each result naming the file and line of its
// image. It knows neither cobra nor printing.
package verify

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
)

// Credentials are what a manifest's pods would pull ref with: the lookup
// the probe walks, a key naming those credentials (the same key, the same
// credentials: each (image, key) is probed once), and who holds them when
// they come from the cluster (nil for the user's own).
type Credentials struct {
	Lookup   credentials.Lookup
	Key      string
	Workload *remedy.Workload
	// Note is said in every registry.pull message of these credentials
	// (e.g. that the cluster's may differ); empty for none.
	Note string
	// Problems are those of the credentials themselves (a pull secret the
	// template names that does not exist), reported once per key as
	// credentials.secret results.
	Problems []credentials.Problem
	// Node is the kubelet's credential provider that serves the image
	// when no pull secret does: the pull is the node's, never probed.
	Node *nodecreds.Match
}

// Resolver expands what a reference points to (an index's platforms).
type Resolver interface {
	Resolve(ctx context.Context, ref imageref.Reference, creds []credentials.Credential) (registry.Resolution, error)
}

// CredentialFunc finds the credentials for an image of m.
type CredentialFunc func(ctx context.Context, m *Manifest, ref imageref.Reference) Credentials

// Options tune Run.
type Options struct {
	// Prober asks the registry; nil checks references and pull policies only.
	Prober *probe.Prober
	// Credentials for each image; nil is anonymous.
	Credentials CredentialFunc
	// Concurrency bounds the probes in flight (default 4).
	Concurrency int
	// Platforms are those the cluster's nodes run; with Resolver, every
	// index that resolves is checked to serve each (image.platform).
	Platforms []kube.Platform
	Resolver  Resolver
	// Audience is who reads the registry faults' fixes (probe.Target).
	Audience remedy.Audience
}

// container is one container of one manifest, with what its checks need.
type container struct {
	m     *Manifest
	c     kube.Container
	base  report.Result
	ref   imageref.Reference
	probe *probed
	node  *nodecreds.Match
}

// probed is one probe, shared by every container with the same image and
// credentials.
type probed struct {
	target   probe.Target
	ref      imageref.Reference
	note     string
	results  []report.Result
	children []kube.Platform // an index's platforms, when read
}

// Run checks every container of manifests and returns the results in
// input order: by file, then line.
func Run(ctx context.Context, manifests []Manifest, opts Options) []report.Result {
	var (
		results   []report.Result
		items     []*container
		probes    = map[string]*probed{}
		order     []*probed
		credsSeen = map[string]bool{}
	)
	known := repositories(manifests)
	for i := range manifests {
		m := &manifests[i]
		for _, c := range m.Containers {
			base := report.Result{
				Namespace: m.Namespace, Workload: m.ID(), Container: c.Name, Image: c.Image,
				File: m.File, Line: m.ImageLines[keyOf(c)],
			}
			if base.Line == 0 {
				base.Line = m.Line
			}
			ref, err := imageref.Parse(c.Image)
			if err != nil {
				results = append(results, invalidReference(base, err, m, known))
				continue
			}
			base.Registry, base.Repository = ref.Registry, ref.Repository
			it := &container{m: m, c: c, base: base, ref: ref}
			items = append(items, it)
			if opts.Prober == nil {
				continue
			}
			var cr Credentials
			if opts.Credentials != nil {
				cr = opts.Credentials(ctx, m, ref)
			}
			if !credsSeen[cr.Key] {
				credsSeen[cr.Key] = true
				for _, p := range cr.Problems {
					r := secretResult(m, p)
					r.File, r.Line = m.File, m.Line
					// A secret the template names: the line naming it.
					if s := p.Secret; s.Namespace == m.Namespace && m.SecretLines[s.Name] != 0 {
						r.Line = m.SecretLines[s.Name]
					}
					results = append(results, r)
				}
			}
			if cr.Node != nil {
				it.node = cr.Node
				continue
			}
			key := c.Image + "\x00" + cr.Key
			p, ok := probes[key]
			if !ok {
				p = &probed{target: probe.Target{Image: c.Image, Pull: true, Lookup: cr.Lookup, Workload: cr.Workload, Audience: opts.Audience}, ref: ref, note: cr.Note}
				probes[key] = p
				order = append(order, p)
			}
			it.probe = p
		}
	}
	runProbes(ctx, opts, order)

	for _, it := range items {
		ok := it.base
		ok.Check, ok.Status, ok.Reason = report.CheckImageReference, report.StatusPass, report.ReasonOk
		ok.Message = it.c.Image + " is a well-formed reference (" + it.ref.String() + ")"
		ok.Evidence = report.Evidence{"normalized": it.ref.String()}
		results = append(results, ok)
		if it.node != nil {
			results = append(results, nodePull(it.base, it.ref, it.node))
		}
		if it.probe != nil {
			for _, r := range it.probe.results {
				results = append(results, it.placed(r, it.probe.note))
			}
			if len(it.probe.children) > 0 {
				results = append(results, platformResult(it.base, it.ref, it.probe.children, opts.Platforms))
			}
		}
		if r, ok := scan.PullPolicy(it.base, &it.m.Workload, it.c, it.ref); ok {
			results = append(results, r)
		}
	}
	report.ApplyRateLimitRule(results)
	slices.SortStableFunc(results, func(a, b report.Result) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		return a.Line - b.Line
	})
	return results
}

// placed is a probe result as it concerns this container: the probe's
// findings with the container's names and position.
func (it *container) placed(r report.Result, note string) report.Result {
	r.Namespace, r.Workload, r.Container = it.base.Namespace, it.base.Workload, it.base.Container
	r.File, r.Line = it.base.File, it.base.Line
	r.Evidence = copyEvidence(r.Evidence)
	if note != "" && r.Check == report.CheckRegistryPull {
		r.Message += " (" + note + ")"
	}
	return r
}

// runProbes probes each distinct (image, credentials) once, at most
// opts.Concurrency at a time, and keeps what matters before a deploy:
// registry.pull, and whatever did not pass on the way to it (an
// unreachable registry, a credential problem).
func runProbes(ctx context.Context, opts Options, ps []*probed) {
	bounded.ForEach(ctx, len(ps), opts.Concurrency, func(i int) {
		p := ps[i]
		pulled := false
		for _, r := range opts.Prober.Check(ctx, p.target) {
			if r.Check == report.CheckRegistryPull || r.Status != report.StatusPass {
				p.results = append(p.results, r)
			}
			pulled = pulled || (r.Check == report.CheckRegistryPull && r.Status == report.StatusPass)
		}
		if pulled && len(opts.Platforms) > 0 && opts.Resolver != nil {
			// A single-platform manifest names its platform only in
			// its config blob: only indexes are checked.
			if res, err := opts.Resolver.Resolve(ctx, p.ref, p.target.Lookup.Credentials); err == nil {
				for _, c := range res.Children {
					p.children = append(p.children, kube.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant})
				}
			}
		}
	}, nil)
}

// invalidReference is the scan's image.reference failure, and for a bare
// digest the corrected form when the manifests name one repository for it:
// the other images of the same workload first, else of the whole input.
func invalidReference(base report.Result, err error, m *Manifest, known []string) report.Result {
	r := scan.InvalidReference(base, err)
	var e *imageref.Error
	if !errors.As(err, &e) || e.Kind != imageref.BareDigest || e.Digest == "" {
		return r
	}
	r.Evidence = report.Evidence{"reference": e.Input}
	candidates := repositories([]Manifest{*m})
	if len(candidates) == 0 {
		candidates = known
	}
	fix, corrected, forms := remedy.BareDigest(e.Digest.String(), candidates, "the repository the manifests name")
	r.Remedy = fix
	switch {
	case corrected != "":
		r.Evidence["corrected"] = corrected
		r.Registry, r.Repository, _ = strings.Cut(candidates[0], "/")
	case forms != nil:
		r.Evidence["candidates"] = forms
	}
	return r
}

// repositories are the distinct repositories (registry/repository) the
// manifests' images name, sorted.
func repositories(ms []Manifest) []string {
	var out []string
	for _, m := range ms {
		for _, c := range m.Containers {
			if ref, err := imageref.Parse(c.Image); err == nil && !slices.Contains(out, ref.Name()) {
				out = append(out, ref.Name())
			}
		}
	}
	slices.Sort(out)
	return out
}

// copyEvidence keeps containers sharing one probe from sharing one map.
func copyEvidence(ev report.Evidence) report.Evidence {
	if ev == nil {
		return nil
	}
	out := make(report.Evidence, len(ev))
	for k, v := range ev {
		out[k] = v
	}
	return out
}
