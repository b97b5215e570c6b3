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

// Outcome is what one Check found: its results in order, and the same
// results by part with what the registry answered, typed, so that a
// caller that files each part where it belongs (the doctor) takes it by
// field, never by matching a result's Check, and decides on typed facts,
// never on a result's Reason or evidence.
type Outcome struct {
	Results []report.Result // every result, in order: what Check returns

	// Reference is the image.reference failure of a reference that does
	// not parse; nothing else is checked then.
	Reference *report.Result
	// Reachable is registry.reachable; nil when the reference did not parse.
	Reachable *report.Result
	// Problems are the registry.credentials results of the lookup's
	// credential problems, in t.Lookup.Problems' order.
	Problems []report.Result
	// Credentials is the registry.credentials result of the method in
	// use, or why its credential could not authenticate; nil when the
	// walk stopped before (unreachable, a credential helper's failure).
	Credentials *report.Result
	// Credential is which of the target's credentials (t.Lookup.Credentials)
	// Credentials describes, by position (see Step.Used).
	Credential registry.Used
	// Pull and Push are the registry.pull and registry.push steps, nil
	// when not checked.
	Pull, Push *Step

	kinds []part // which part each of Results is, until parts
}

// Step is the pull or the push of one Outcome: its result, the
// credential it describes and what the registry answered.
type Step struct {
	Result report.Result
	// Used is which of the target's credentials (t.Lookup.Credentials)
	// the result describes, by position: two credentials may share a
	// source (a pull secret's two entries for a host), so a caller that
	// needs the credential again (the doctor's catalog listing) takes it
	// by Used, never by the result's CredentialSource, which is display
	// text. The zero Used names none: no credential was given.
	Used registry.Used
	// Failure is why the step failed (its reason, fault, rate limit), nil
	// when it passed.
	Failure *registry.Failure
	// Manifest is what a pull's HEAD found, nil for a push or a failed pull.
	Manifest *registry.Manifest
}

// Check walks the auth flow for t and returns its results in order:
// image.reference (only when it fails), registry.reachable,
// registry.credentials (one per credential problem, then the method in
// use), registry.pull and, with t.Push, registry.push. Everything is bounded
// by ctx and the client's per-request timeout.
func (p *Prober) Check(ctx context.Context, t Target) []report.Result {
	return p.Walk(ctx, t).Results
}

// Walk is Check with its results by part (Outcome).
func (p *Prober) Walk(ctx context.Context, t Target) Outcome {
	var o Outcome
	p.walk(ctx, t, &o)
	report.ApplyRateLimitRule(o.Results)
	o.parts()
	return o
}

// part is which field of an Outcome a result fills.
type part int

const (
	partReference part = iota
	partReachable
	partProblem
	partCredentials
	partPull
	partPush
)

// add appends r to the outcome's results as its part of kind k.
func (o *Outcome) add(k part, r report.Result) {
	o.Results = append(o.Results, r)
	o.kinds = append(o.kinds, k)
}

// parts points the outcome's parts at its results, once SPEC's
// rate-limit rule has settled their statuses.
func (o *Outcome) parts() {
	for i, k := range o.kinds {
		r := o.Results[i]
		switch k {
		case partReference:
			o.Reference = &r
		case partReachable:
			o.Reachable = &r
		case partProblem:
			o.Problems = append(o.Problems, r)
		case partCredentials:
			o.Credentials = &r
		case partPull:
			o.Pull.Result = r
		case partPush:
			o.Push.Result = r
		}
	}
	o.kinds = nil
}

func (p *Prober) walk(ctx context.Context, t Target, o *Outcome) {
	login := t.Image == "" && t.Registry != ""
	ref, err := imageref.ParseChart(t.Image)
	switch {
	case login:
		ref, t.Pull, t.Push = imageref.Registry(t.Registry), false, false
	case err != nil:
		b := base{image: t.Image}
		o.add(partReference, b.fail(report.CheckImageReference, registry.InvalidReference(err)))
		return
	}
	b := base{image: t.Image, ref: ref, tried: t.Lookup.Tried, workload: t.Workload, audience: t.Audience}

	ping, err := p.c.Ping(ctx, ref.Host)
	if err != nil {
		o.add(partReachable, b.fail(report.CheckRegistryReachable, registry.AsFailure(err)))
		return
	}
	o.add(partReachable, b.pass(report.CheckRegistryReachable, reachableMessage(ref, ping), ping.Evidence(), ""))

	if t.Lookup.Halted && len(t.Lookup.Credentials) == 0 {
		// A credential helper failed before any credential was found:
		// Docker and Helm stop at its error, so the walk does too. One
		// registry.credentials result for the host, the failure, and no
		// anonymous pass after it.
		for _, pr := range t.Lookup.Problems {
			o.add(partProblem, b.problem(pr, false))
		}
		return
	}
	w := &walk{p: p, ref: ref, push: t.Push, checkPull: t.checksPull() && !login, login: login, cands: t.Lookup.Credentials}
	if len(w.cands) == 0 {
		w.cands = []credentials.Credential{{Source: credentials.SourceAnonymous}}
	}
	w.pull(ctx)
	authOK := w.primary().authErr == nil

	for _, pr := range t.Lookup.Problems {
		o.add(partProblem, b.problem(pr, authOK && !w.primary().anonymous()))
	}
	o.add(partCredentials, w.credentialsResult(b))
	named := len(t.Lookup.Credentials) > 0 // else the candidate is the anonymous placeholder
	if named {
		o.Credential = registry.UsedAt(w.primary().at)
	}
	if w.checkPull {
		a := w.primary()
		o.Pull = &Step{Failure: a.authErr, Manifest: a.manifest}
		if o.Pull.Failure == nil {
			o.Pull.Failure = a.pullErr
		}
		if named {
			o.Pull.Used = registry.UsedAt(a.at)
		}
		o.add(partPull, w.pullResult(b))
	}
	if t.Push {
		r, a := w.pushResult(ctx, b)
		o.Push = &Step{Failure: a.pushErr}
		if named {
			o.Push.Used = registry.UsedAt(a.at)
		}
		o.add(partPush, r)
	}
}
