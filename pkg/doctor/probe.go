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
	// subjects of that registry met it.
	type outcome struct {
		registry, source, message string
		status                    report.Status
		reason                    report.Reason
	}
	seen := map[outcome]bool{}
	for i, j := range jobs {
		if j.host.failed != nil {
			if j.s != nil {
				d.add(j.s.check, d.notChecked(j.s, j.host))
			}
			continue
		}
		for _, r := range out[i].Results {
			switch r.Check {
			case report.CheckRegistryCredentials:
				if j.target.Image == "" && r.Status == report.StatusPass {
					r.Message += "; no repository of " + j.host.registry + " was named, so this proves the login (as docker login does), not access to a repository"
				}
				key := outcome{r.Registry, r.CredentialSource, r.Message, r.Status, r.Reason}
				if !seen[key] {
					seen[key] = true
					r.Image, r.Repository = "", ""
					d.add(Credentials, r)
				}
			case report.CheckRegistryPull, report.CheckRegistryPush:
				if j.s == nil {
					continue
				}
				r = d.annotate(j.s, r)
				used := out[i].Pull
				if r.Check == report.CheckRegistryPush {
					used = out[i].Push
				}
				j.s.probed = append(j.s.probed, probedResult{Result: r, cred: credentialAt(j.target.Lookup, used)})
				d.add(j.s.check, r)
			case report.CheckRegistryReachable:
				// The doctor's own reachable check already said it.
			}
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

// annotate gives a probe result the subject's workload fields, and says
// when a setting without a tag simply has no "latest".
func (d *run) annotate(s *subject, r report.Result) report.Result {
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
	if s.implicitTag && r.Reason == report.ReasonTagNotFound {
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
