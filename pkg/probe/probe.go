// Package probe answers "will pull (and push) of this image work with these
// credentials, and if not, exactly why?" It walks the registry's real auth
// flow with the diagnostic client of package registry and turns each step
// into a report.Result: image.reference, registry.reachable,
// registry.credentials, registry.pull and registry.push.
package probe

import (
	"context"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// Target is one image to check.
type Target struct {
	Image string
	// Registry, with no Image, checks a registry alone as docker login
	// does: reachable, then the credentials proven by GET /v2/ with a
	// token asked for no repository. No pull or push is checked: that
	// needs a repository.
	Registry string
	// Pull asks for the pull check. The zero Target (neither Pull nor Push)
	// checks pull; a push-only target (Push without Pull, as helm
	// push-auth wants) skips it.
	Pull   bool
	Push   bool               // check push: a blob upload session, cancelled at once
	Lookup credentials.Lookup // candidates in order, sources tried, problems met
	// Workload is who holds the credentials when they come from the
	// cluster (a namespace, its ServiceAccount and pull secrets): remedies
	// then lead with the cluster-side fix. Nil for the user's own.
	Workload *remedy.Workload
	// Audience is who reads the registry faults' fixes: a kubectl user
	// (the zero value), a Helm user, or a workload.
	Audience remedy.Audience
}

func (t Target) checksPull() bool { return t.Pull || !t.Push }

// Prober runs checks; it is safe for concurrent use.
type Prober struct {
	c *registry.Client
}

// New builds a Prober over a registry client.
func New(c *registry.Client) *Prober { return &Prober{c: c} }

// Outcome is what one Check found: its results, and which of the
// target's credentials (t.Lookup.Credentials) the registry.pull and
// registry.push results describe, by position: two credentials may share
// a source (a pull secret's two entries for a host), so a caller that
// needs the credential again (the doctor's catalog listing) takes it by
// Used, never by the result's CredentialSource, which is display text.
// The zero Used names none: no credential was given, or that step was
// not checked.
type Outcome struct {
	Results    []report.Result
	Pull, Push registry.Used
}

// Check walks the auth flow for t and returns its results in order:
// image.reference (only when it fails), registry.reachable,
// registry.credentials (one per credential problem, then the method in
// use), registry.pull and, with t.Push, registry.push. Everything is bounded
// by ctx and the client's per-request timeout.
func (p *Prober) Check(ctx context.Context, t Target) []report.Result {
	return p.Walk(ctx, t).Results
}

// Walk is Check with the credentials its results describe (Outcome).
func (p *Prober) Walk(ctx context.Context, t Target) Outcome {
	var o Outcome
	o.Results = p.walk(ctx, t, &o)
	return o
}

func (p *Prober) walk(ctx context.Context, t Target, o *Outcome) []report.Result {
	login := t.Image == "" && t.Registry != ""
	ref, err := imageref.ParseChart(t.Image)
	switch {
	case login:
		ref, t.Pull, t.Push = imageref.Registry(t.Registry), false, false
	case err != nil:
		b := base{image: t.Image}
		return []report.Result{b.fail(report.CheckImageReference, registry.InvalidReference(err))}
	}
	b := base{image: t.Image, ref: ref, tried: t.Lookup.Tried, workload: t.Workload, audience: t.Audience}

	ping, err := p.c.Ping(ctx, ref.Host)
	if err != nil {
		return []report.Result{b.fail(report.CheckRegistryReachable, registry.AsFailure(err))}
	}
	out := []report.Result{b.pass(report.CheckRegistryReachable, reachableMessage(ref, ping), ping.Evidence(), "")}

	if t.Lookup.Halted && len(t.Lookup.Credentials) == 0 {
		// A credential helper failed before any credential was found:
		// Docker and Helm stop at its error, so the walk does too. One
		// registry.credentials result for the host, the failure, and no
		// anonymous pass after it.
		for _, pr := range t.Lookup.Problems {
			out = append(out, b.problem(pr, false))
		}
		return out
	}
	w := &walk{p: p, ref: ref, push: t.Push, checkPull: t.checksPull() && !login, login: login, cands: t.Lookup.Credentials}
	if len(w.cands) == 0 {
		w.cands = []credentials.Credential{{Source: credentials.SourceAnonymous}}
	}
	w.pull(ctx)
	authOK := w.primary().authErr == nil

	for _, pr := range t.Lookup.Problems {
		out = append(out, b.problem(pr, authOK && !w.primary().anonymous()))
	}
	out = append(out, w.credentialsResult(b))
	named := len(t.Lookup.Credentials) > 0 // else the candidate is the anonymous placeholder
	if w.checkPull {
		out = append(out, w.pullResult(b))
		if named {
			o.Pull = registry.UsedAt(w.primary().at)
		}
	}
	if t.Push {
		r, a := w.pushResult(ctx, b)
		out = append(out, r)
		if named {
			o.Push = registry.UsedAt(a.at)
		}
	}
	report.ApplyRateLimitRule(out)
	return out
}
