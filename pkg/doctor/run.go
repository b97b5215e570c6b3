package doctor

import (
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/report"
)

// subject is one reference the doctor probes.
type subject struct {
	input string
	check string // the doctor check its probe result belongs to: pull, push or workload-settings
	base  report.Result
	ref   imageref.Reference
	ok    bool // parsed: probe it
	// implicitTag: the setting names a repository without a tag, so a
	// missing "latest" is no fault of the reference.
	implicitTag bool
	probed      []probedResult
}

// probedResult is one of a subject's registry.pull or registry.push
// results as filed, the probe's step it came from (what the registry
// answered, typed, for a check that decides on it) and the credential it
// describes (the zero, anonymous one when none was given), for a check
// that asks the registry again with it.
type probedResult struct {
	report.Result
	step *probe.Step
	push bool // the step is the push, else the pull
	cred credentials.Credential
}

// failed is the step's typed failure reason, "" when it passed.
func (p probedResult) failed() report.Reason {
	if p.step.Failure == nil {
		return ""
	}
	return p.step.Failure.Reason
}

// host is one registry the doctor checks for reachability.
type host struct {
	registry string // as references name it: docker.io, ghcr.io, 127.0.0.1:5000
	api      string // where its API lives
	failed   *report.Result
}

// run is one doctor run's state.
type run struct {
	cfg  Config
	deps Deps

	inv      *kube.Inventory
	settings []subject // references found in workload settings
	subjects []*subject
	hosts    []*host
	byID     map[string][]report.Result
}

func newRun(cfg Config, deps Deps) *run {
	return &run{cfg: cfg, deps: deps, byID: map[string][]report.Result{}}
}

// add files r under check id: its typed doctor facts, and their display
// copies in evidence (doctorCheck, verify) that JSON readers see.
func (d *run) add(id string, r report.Result) {
	facts := &report.DoctorFacts{Check: id}
	if r.Doctor != nil {
		facts.Corrected = r.Doctor.Corrected
	}
	r.Doctor = facts
	ev := report.Evidence{}
	for k, v := range r.Evidence {
		ev[k] = v
	}
	ev[report.EvidenceDoctorCheck] = id
	if r.Status != report.StatusPass {
		if v := d.verify(id, r); len(v) > 0 {
			facts.Verify = v
			ev[report.EvidenceDoctorVerify] = v
		}
	}
	r.Evidence = ev
	d.byID[id] = append(d.byID[id], r)
}

// results are the enabled checks' results in checklist order, SPEC's
// rate-limit rule applied across them as in every other engine.
func (d *run) results() []report.Result {
	var out []report.Result
	for _, id := range IDs {
		if d.cfg.Checks.Enabled(id) {
			out = append(out, d.byID[id]...)
		}
	}
	report.ApplyRateLimitRule(out)
	return out
}

// gather collects what to probe: --image, --push-target, then the
// references found in workload settings.
func (d *run) gather() {
	for _, img := range d.cfg.Images {
		d.subjects = append(d.subjects, &subject{input: img, check: Pull})
	}
	for _, p := range d.cfg.PushTargets {
		// A push target is a repository: the tag is the pusher's choice.
		d.subjects = append(d.subjects, &subject{input: p, check: Push, implicitTag: true})
	}
	for i := range d.settings {
		d.subjects = append(d.subjects, &d.settings[i])
	}
}

// hostOf adds (once) and returns the host of a registry domain.
func (d *run) hostOf(domain string) *host {
	api := imageref.APIHost(domain)
	for _, h := range d.hosts {
		if h.api == api {
			return h
		}
	}
	h := &host{registry: domain, api: api}
	d.hosts = append(d.hosts, h)
	return h
}

// registryHost reads a --registry value: a host[:port], with or without
// a scheme or a path.
func registryHost(s string) string {
	s = strings.TrimSpace(s)
	for _, p := range []string{"oci://", "https://", "http://"} {
		s = strings.TrimPrefix(s, p)
	}
	s, _, _ = strings.Cut(s, "/")
	return strings.ToLower(s)
}
