package doctor

import (
	"errors"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// hygiene parses every subject and files its image.reference result:
// bare digests and unparsable references fail (and are not probed), a
// missing tag warns.
func (d *run) hygiene() {
	known := d.knownRepositories()
	for _, s := range d.subjects {
		id := Reference
		if s.check == WorkloadSettings {
			id = WorkloadSettings
		}
		r, ref, ok := checkReference(s.base, s.input, known, s.implicitTag, d.cfg.Audience)
		s.ref, s.ok = ref, ok
		d.add(id, r)
	}
}

// knownRepositories are the repositories this run reads (images, settings
// and workload images; push targets are written, not read), to infer the
// one a bare digest belongs to.
func (d *run) knownRepositories() []string {
	seen := map[string]bool{}
	var out []string
	addRef := func(s string) {
		if ref, err := imageref.ParseChart(s); err == nil {
			name := ref.Registry + "/" + ref.Repository
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	for _, s := range d.subjects {
		if s.check != Push {
			addRef(s.input)
		}
	}
	if d.inv != nil {
		for _, w := range d.inv.Workloads {
			for _, c := range w.Containers {
				addRef(c.Image)
			}
		}
	}
	sort.Strings(out)
	return out
}

// checkReference is the image.reference result for input. known are the
// repositories (REGISTRY/REPO) a bare digest may belong to.
func checkReference(base report.Result, input string, known []string, implicitTag bool, to remedy.Audience) (report.Result, imageref.Reference, bool) {
	r := base
	r.Check = report.CheckImageReference
	r.Image = input
	ref, err := imageref.ParseChart(input)
	if err != nil {
		f := registry.InvalidReference(err)
		r.Status, r.Reason, r.Message, r.Remedy = report.StatusFail, f.Reason, remedy.Message(f.Fault), remedy.Registry(f.Fault, to)
		r.Evidence = withBase(base)
		for k, v := range f.Evidence {
			r.Evidence[k] = v
		}
		if dg, ok := bareDigest(input); ok {
			inferDigestRepository(&r, dg, known)
		}
		return r, imageref.Reference{}, false
	}
	r.Registry, r.Repository = ref.Registry, ref.Repository
	r.Evidence = withBase(base)
	r.Evidence["normalized"] = ref.String()
	if !implicitTag && !ref.Written() {
		r.Status, r.Reason = report.StatusWarn, report.ReasonMissingTag
		r.Message = input + " names no tag: it means " + ref.String() + ", which moves with every push"
		r.Remedy = "push a unique tag per build and use it, or pin the digest: " + ref.Registry + "/" + ref.Repository + "@sha256:… (crane digest " + ref.String() + ")"
		return r, ref, true
	}
	r.Status, r.Reason = report.StatusPass, report.ReasonOk
	r.Message = input + " is a well-formed reference (" + ref.String() + ")"
	return r, ref, true
}

// bareDigest is the digest s holds when s is a digest alone, naming no
// repository, and a valid one (a corrected form must parse).
func bareDigest(s string) (string, bool) {
	_, err := imageref.ParseChart(s)
	var e *imageref.Error
	if !errors.As(err, &e) || e.Kind != imageref.BareDigest || e.Digest == "" {
		return "", false
	}
	return e.Digest.String(), true
}

// inferDigestRepository writes the corrected form REPO@DIGEST into a
// bare-digest result when this run names the repository.
func inferDigestRepository(r *report.Result, dg string, known []string) {
	fix, corrected, forms := remedy.BareDigest(dg, known, "the repository this run names")
	r.Remedy = fix
	switch {
	case corrected != "":
		r.Evidence["corrected"] = corrected
		r.Doctor = &report.DoctorFacts{Corrected: corrected}
		r.Registry, r.Repository, _ = strings.Cut(known[0], "/")
	case forms != nil:
		r.Evidence["candidates"] = forms
	}
}

// hasTagOrDigest reports whether s parses and names a tag or a digest
// itself (rather than defaulting to latest).
func hasTagOrDigest(s string) bool {
	ref, err := imageref.ParseChart(s)
	return err == nil && ref.Written()
}

// withBase is a fresh evidence map holding the subject's own evidence
// (the setting and where it came from).
func withBase(base report.Result) report.Evidence {
	ev := report.Evidence{}
	for k, v := range base.Evidence {
		ev[k] = v
	}
	return ev
}
