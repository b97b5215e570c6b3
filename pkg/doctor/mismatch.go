package doctor

import (
	"context"
	"strconv"
	"strings"

	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/similar"
)

// maxCandidates bounds the similar repositories named in evidence.
const maxCandidates = 5

// mismatches looks for the repository a person meant when one does not
// exist: it lists the registry's catalog (with the credential the probe
// used; many registries refuse it) and names the closest repositories in
// an image.reference result and in the pull result's remedy.
func (d *run) mismatches(ctx context.Context) {
	if !d.cfg.Checks.Enabled(Reference) && !d.cfg.Checks.Enabled(Pull) && !d.cfg.Checks.Enabled(WorkloadSettings) {
		return
	}
	catalogs := map[string]catalogAnswer{}
	for _, s := range d.subjects {
		for i, p := range s.probed {
			if p.failed() != report.ReasonRepositoryNotFound {
				continue
			}
			cred := p.cred // the probe's, by identity: its CredentialSource is display text
			key := s.ref.Registry + "\x00" + cred.Fingerprint()
			ans, ok := catalogs[key]
			if !ok {
				ans.repos, ans.err = d.deps.Registry.Catalog(ctx, s.ref, cred)
				catalogs[key] = ans
			}
			d.mismatch(s, i, ans)
		}
	}
}

type catalogAnswer struct {
	repos []string
	err   error
}

// mismatch files the repository-mismatch result of s and improves the
// remedy of its i-th probe result.
func (d *run) mismatch(s *subject, i int, ans catalogAnswer) {
	id := Reference
	if s.check == WorkloadSettings {
		id = WorkloadSettings
	}
	r := s.base
	r.Check, r.Image, r.Registry, r.Repository = report.CheckImageReference, s.input, s.ref.Registry, s.ref.Repository
	r.Status, r.Reason = report.StatusFail, report.ReasonRepositoryNotFound
	r.Evidence = report.Evidence{}
	for k, v := range s.base.Evidence {
		r.Evidence[k] = v
	}
	if ans.err != nil {
		f := registry.AsFailure(ans.err)
		r.Evidence["catalog"] = "not listed: " + remedy.Line(f.Reason, f.Fault)
		r.Message = "repository " + s.ref.Repository + " does not exist on " + s.ref.Registry + ", and the registry does not list its repositories"
		r.Remedy = "compare the repository name with what was pushed (the pushing job's logs, the registry's UI); names differ by _ versus -, singular versus plural"
		d.supersede(id, r)
		return
	}
	cands := similar.Names(s.ref.Repository, ans.repos, maxCandidates)
	r.Evidence["catalogSize"] = len(ans.repos)
	if len(cands) == 0 {
		r.Message = "repository " + s.ref.Repository + " does not exist on " + s.ref.Registry + ", and none of its " + strconv.Itoa(len(ans.repos)) + " repositories has a similar name"
		r.Remedy = "check what the pushing side pushes to; the registry has: " + strings.Join(ans.repos[:min(len(ans.repos), maxCandidates)], ", ")
		d.supersede(id, r)
		return
	}
	names := make([]string, len(cands))
	for k, c := range cands {
		names[k] = c.String()
	}
	r.Evidence["candidates"] = names
	best := cands[0]
	fixed := s.ref.Registry + "/" + best.Name + refSuffix(s)
	r.Evidence["corrected"] = fixed
	r.Doctor = &report.DoctorFacts{Corrected: fixed}
	r.Message = "repository " + s.ref.Repository + " does not exist on " + s.ref.Registry + "; it has " + best.Name + " (" + best.Why + ")"
	r.Remedy = "use " + fixed + " (or push to " + s.ref.Repository + "); the reader and the pusher must name the same repository"
	d.supersede(id, r)

	p := &s.probed[i]
	p.Remedy = "did you mean " + fixed + "? " + p.Remedy
	d.replace(s.check, p.Result)
}

// supersede files r in place of the subject's earlier image.reference
// result: a repository that does not exist outweighs "well-formed".
func (d *run) supersede(id string, r report.Result) {
	list := d.byID[id]
	for k, old := range list {
		if old.Check == r.Check && old.Image == r.Image && old.Workload == r.Workload && old.Container == r.Container {
			d.byID[id] = list[:k:k]
			d.add(id, r)
			d.byID[id] = append(d.byID[id], list[k+1:]...)
			return
		}
	}
	d.add(id, r)
}

// refSuffix is the tag or digest part of the subject's reference.
func refSuffix(s *subject) string {
	if s.ref.Digest != "" {
		return "@" + s.ref.Digest.String()
	}
	return ":" + s.ref.Identifier()
}

// replace updates the result filed under id for the same subject and check.
func (d *run) replace(id string, r report.Result) {
	for k, old := range d.byID[id] {
		if old.Check == r.Check && old.Image == r.Image && old.Workload == r.Workload && old.Container == r.Container && old.Reason == r.Reason {
			d.byID[id][k] = r
			d.byID[id][k].Evidence, d.byID[id][k].Doctor = old.Evidence, old.Doctor
			return
		}
	}
}
