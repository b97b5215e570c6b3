package doctor

import (
	"context"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// probe walks the registry's auth flow for each parsed subject (pull, or
// push only for push targets) and files the results: one credentials
// result per registry and credential outcome, and the pull or push result
// under the subject's check.
func (d *run) probe(ctx context.Context) {
	type job struct {
		s      *subject
		target probe.Target
		host   *host
	}
	var jobs []job
	probed := map[*host]bool{}
	for _, s := range d.subjects {
		if !s.ok {
			continue
		}
		h := d.hostOf(s.ref.Registry)
		probed[h] = true
		t := probe.Target{Image: s.ref.Input, Pull: s.check != Push, Push: s.check == Push, Audience: d.cfg.Audience}
		jobs = append(jobs, job{s: s, target: t, host: h})
	}
	// A registry named alone (--registry): its credentials are checked
	// on a repository the run has for it, a workload's image, when there
	// is one (its pull result is not filed: nobody asked about it); else
	// on the registry alone as docker login does, and the result says no
	// repository was at hand.
	for _, h := range d.hosts {
		if probed[h] || !d.cfg.Checks.Enabled(Credentials) {
			continue
		}
		t := probe.Target{Registry: h.registry, Audience: d.cfg.Audience}
		if img := d.workloadImageOn(h); img != "" {
			t = probe.Target{Image: img, Pull: true, Audience: d.cfg.Audience}
		}
		jobs = append(jobs, job{target: t, host: h})
	}
	prober := probe.New(d.deps.Registry)
	out := make([]probe.Outcome, len(jobs))
	bounded.ForEach(ctx, len(jobs), d.cfg.Concurrency, func(i int) {
		j := &jobs[i]
		if j.host.failed != nil {
			return // reachable already failed: nothing to probe
		}
		j.target.Lookup = d.lookup(ctx, j.host.registry)
		out[i] = prober.Walk(ctx, j.target)
	}, nil)

	// One credentials result per registry and outcome, however many
	// subjects of that registry met it: a credential problem once per
	// problem, the method in use once per credential, by its identity
	// (two entries of one pull secret or config file share a source, and
	// a key on the source made them one).
	type problemKey struct {
		registry string
		problem  credentials.Problem
		status   report.Status
	}
	type methodKey struct {
		registry, credential, message string
		status                        report.Status
		reason                        report.Reason
	}
	seenProblem, seenMethod := map[problemKey]bool{}, map[methodKey]bool{}
	credential := func(r report.Result) {
		r.Image, r.Repository = "", ""
		d.add(Credentials, r)
	}
	for i, j := range jobs {
		if j.host.failed != nil {
			if j.s != nil {
				d.add(j.s.check, d.notChecked(j.s, j.host))
			}
			continue
		}
		// The outcome's reachable part is not filed: the doctor's own
		// reachable check already said it.
		o := out[i]
		for k, r := range o.Problems {
			key := problemKey{registry: r.Registry, status: r.Status}
			if k < len(j.target.Lookup.Problems) {
				key.problem = j.target.Lookup.Problems[k]
			}
			if !seenProblem[key] {
				seenProblem[key] = true
				credential(r)
			}
		}
		if r := o.Credentials; r != nil {
			if j.target.Image == "" && r.Status == report.StatusPass {
				r.Message += "; no repository of " + j.host.registry + " was named, so this proves the login (as docker login does), not access to a repository"
			}
			key := methodKey{r.Registry, credentialAt(j.target.Lookup, o.Credential).Fingerprint(), r.Message, r.Status, r.Reason}
			if !seenMethod[key] {
				seenMethod[key] = true
				credential(*r)
			}
		}
		if j.s == nil {
			continue // a registry's credentials alone: nobody asked about its pull
		}
		for _, st := range []*probe.Step{o.Pull, o.Push} {
			if st == nil {
				continue
			}
			r := d.annotate(j.s, st)
			j.s.probed = append(j.s.probed, probedResult{Result: r, step: st, push: st == o.Push, cred: credentialAt(j.target.Lookup, st.Used)})
			d.add(j.s.check, r)
		}
	}
}

// workloadImageOn is the first image of the read workloads that lives on
// h (by API host), "" when none does or no workload was read.
func (d *run) workloadImageOn(h *host) string {
	if d.inv == nil {
		return ""
	}
	for _, w := range d.inv.Workloads {
		for _, c := range w.Containers {
			if ref, err := imageref.ParseAsKubelet(c.Image); err == nil && ref.Host == h.api {
				return ref.String()
			}
		}
	}
	return ""
}

// credentialAt is the credential of l that u names; the zero (anonymous)
// credential when it names none: none was given.
func credentialAt(l credentials.Lookup, u registry.Used) credentials.Credential {
	if i, ok := u.In(l.Credentials); ok {
		return l.Credentials[i]
	}
	return credentials.Credential{}
}

// lookup is the local credentials for a registry (none without a source).
func (d *run) lookup(ctx context.Context, registry string) credentials.Lookup {
	if d.deps.Credentials == nil {
		return credentials.Lookup{}
	}
	return d.deps.Credentials(ctx, registry)
}

// annotate gives a probe step's result the subject's workload fields,
// and says when a setting without a tag simply has no "latest".
func (d *run) annotate(s *subject, st *probe.Step) report.Result {
	r := st.Result
	r.Namespace, r.Workload, r.Container = s.base.Namespace, s.base.Workload, s.base.Container
	if len(s.base.Evidence) > 0 {
		ev := report.Evidence{}
		for k, v := range r.Evidence {
			ev[k] = v
		}
		for k, v := range s.base.Evidence {
			ev[k] = v
		}
		r.Evidence = ev
	}
	if s.implicitTag && st.Failure != nil && st.Failure.Reason == report.ReasonTagNotFound {
		r.Status = report.StatusWarn
		r.Message += " (the setting names no tag; the application may add its own)"
	}
	return r
}

// notChecked is the skip result of a subject whose registry is unreachable.
func (d *run) notChecked(s *subject, h *host) report.Result {
	r := s.base
	r.Check = report.CheckRegistryPull
	if s.check == Push {
		r.Check = report.CheckRegistryPush
	}
	r.Image, r.Registry, r.Repository = s.input, s.ref.Registry, s.ref.Repository
	r.Status, r.Reason = report.StatusSkip, h.failed.Reason
	r.Message = "not checked: " + h.api + " is not reachable (" + string(h.failed.Reason) + ")"
	r.Evidence = s.base.Evidence
	return r
}
