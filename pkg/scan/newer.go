package scan

import (
	"context"
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/versions"
)

// TagLister lists a repository's tags, as pkg/registry's Client does: every
// page, once per repository and credential per run.
type TagLister interface {
	ListTags(ctx context.Context, ref imageref.Reference, cred credentials.Credential, o registry.TagsOptions) (registry.TagList, error)
}

// Newer turns on workload.version (--newer): the tags of every repository
// whose running tag is a version are listed and compared with it.
type Newer struct {
	Scope versions.Scope
	Tags  registry.TagsOptions
}

// maxNewerTags bounds the newer tags named in evidence.
const maxNewerTags = 5

// tagList is one repository's tags list as read with one credential.
type tagList struct {
	ref  imageref.Reference
	cred credentials.Credential
	list registry.TagList
	err  error

	// parsed are the list's versions, read once; verdicts the answer per
	// running tag, shared by every container running it.
	parsed   []versions.Tag
	verdicts map[string]versions.Verdict
}

// verdict compares a running tag with the list, once per tag.
func (tl *tagList) verdict(running versions.Tag, scope versions.Scope) versions.Verdict {
	if v, ok := tl.verdicts[running.Name]; ok {
		return v
	}
	if tl.verdicts == nil {
		tl.parsed = versions.ParseAll(tl.list.Tags)
		tl.verdicts = map[string]versions.Verdict{}
	}
	v := versions.FindParsed(running, tl.parsed, scope)
	tl.verdicts[running.Name] = v
	return v
}

// newerVersions is the workload.version result of every check that has a
// lookup, each repository's tags listed once per credential, at most
// concurrency lists at a time. The credential is the one the lookup's HEAD
// succeeded with: the one the scan already chose for that image.
func newerVersions(ctx context.Context, checks []*check, opts Options) map[*check]report.Result {
	lister, ok := opts.Resolver.(TagLister)
	if opts.Newer == nil || !ok {
		return nil
	}
	out := map[*check]report.Result{}
	lists := map[string]*tagList{}
	var order []*tagList
	want := map[*check]*tagList{}
	running := map[*check]versions.Tag{}
	for _, ch := range checks {
		if ch.lookup == nil {
			continue
		}
		r := ch.base
		r.Check = report.CheckWorkloadVersion
		t, ok := versions.Parse(ch.ref.Tag)
		switch {
		case ch.ref.Tag == "" && ch.ref.Digest != "":
			out[ch] = notAVersion(r, "pinned by digest without a tag: there is no version to compare")
			continue
		case !ok:
			out[ch] = notAVersion(r, fmt.Sprintf("%s is not a version (semver, with or without v, or dotted numbers), so no tag is newer", ch.ref.Short()))
			continue
		case ch.lookup.err != nil:
			f := registry.AsFailure(ch.lookup.err)
			r.Status, r.Reason = report.StatusSkip, f.Reason
			r.Message = fmt.Sprintf("the tags of %s were not listed: looking up %s failed (%s)", ch.ref.Repository, ch.ref.Short(), f.Reason)
			out[ch] = r
			continue
		}
		cred := chosenCredential(ch.lookup)
		key := ch.ref.Host + "\x00" + ch.ref.Repository + "\x00" + cred.Fingerprint()
		tl := lists[key]
		if tl == nil {
			tl = &tagList{ref: ch.ref, cred: cred}
			lists[key] = tl
			order = append(order, tl)
		}
		want[ch], running[ch] = tl, t
	}
	bounded.ForEach(ctx, len(order), opts.Concurrency,
		func(i int) {
			order[i].list, order[i].err = lister.ListTags(ctx, order[i].ref, order[i].cred, opts.Newer.Tags)
		},
		func(i int) { order[i].err = ctx.Err() })
	for ch, tl := range want {
		r := ch.base
		r.Check = report.CheckWorkloadVersion
		if tl.err != nil {
			f := registry.AsFailure(tl.err)
			r.Status, r.Reason = report.StatusSkip, f.Reason
			r.Message = "the tags of " + ch.ref.Repository + " could not be listed: " + remedy.Message(f.Fault)
			r.Remedy = remedy.Registry(f.Fault, opts.Audience)
			r.CredentialSource = ch.usedSource(ch.lookup.res.Used, credentialSourceOf(tl.cred))
			out[ch] = r
			continue
		}
		r.CredentialSource = ch.usedSource(ch.lookup.res.Used, tl.list.CredentialSource)
		out[ch] = versionVerdict(r, ch.ref, tl.verdict(running[ch], opts.Newer.Scope), tl.list)
	}
	return out
}

// chosenCredential is the credential a lookup's HEAD succeeded with.
func chosenCredential(lk *lookup) credentials.Credential {
	if i, ok := lk.res.Used.In(lk.creds); ok && !lk.creds[i].Anonymous() {
		return lk.creds[i]
	}
	return credentials.Credential{Source: credentials.SourceAnonymous}
}

func credentialSourceOf(c credentials.Credential) string {
	if c.Anonymous() {
		return credentials.SourceAnonymous
	}
	return c.Source
}

func notAVersion(r report.Result, msg string) report.Result {
	r.Status, r.Reason, r.Message = report.StatusSkip, report.ReasonNotAVersion, msg
	return r
}

// versionVerdict turns what the tags said into workload.version: warn
// NewerVersion when a newer version is within the scope, else pass
// LatestVersion. The message says how far behind, in the scope's range
// first: "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out".
func versionVerdict(r report.Result, ref imageref.Reference, v versions.Verdict, tl registry.TagList) report.Result {
	facts := &report.VersionFacts{Running: v.Running.Name, Scope: string(v.Scope), Latest: v.Latest.Name, LatestInMajor: v.LatestInMajor.Name, Newest: v.Newest.Name}
	for _, t := range v.Newer {
		facts.Newer = append(facts.Newer, t.Name)
	}
	r.Version = facts
	r.Evidence = report.Evidence{
		"scope":         facts.Scope,
		"latestTag":     facts.Latest,
		"latestInMajor": facts.LatestInMajor,
		"comparedTags":  v.Compared,
		"tagsListPages": tl.Pages,
	}
	if len(facts.Newer) > 0 {
		r.Evidence["newerTags"] = facts.Newer[:min(len(facts.Newer), maxNewerTags)]
	}
	if v.Running.Variant != "" {
		r.Evidence["comparedWith"] = "tags ending like " + v.Running.Variant
	}

	run := v.Running
	major := fmt.Sprintf("%d.x", run.Version.Major())
	target, rng := v.LatestInMajor, major
	if v.Scope == versions.ScopePatch {
		target, rng = v.Latest, fmt.Sprintf("%d.%d.x", run.Version.Major(), run.Version.Minor())
	}
	msg := fmt.Sprintf("%s is the newest in %s", run.Name, rng)
	if target.Compare(run) > 0 {
		msg = fmt.Sprintf("%s → %s in %s", run.Name, target.Name, rng)
	}
	if v.Newest.Compare(target) > 0 {
		msg += "; " + v.Newest.Name + " is out"
	}
	if v.Newest.Compare(run) == 0 {
		msg = fmt.Sprintf("%s is the newest version of %s", run.Name, ref.Repository)
		if run.Variant != "" {
			msg += " among its tags ending " + run.Variant
		}
	}
	var notes []string
	if v.Scope != versions.ScopeMajor && !v.Behind() && v.Newest.Compare(run) > 0 {
		notes = append(notes, "--newer="+string(v.Scope))
	}
	if tl.Truncated {
		notes = append(notes, fmt.Sprintf("the tags list was read only to its page limit, %d tags", len(tl.Tags)))
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, "; ") + ")"
	}
	r.Message = msg
	if !v.Behind() {
		r.Status, r.Reason = report.StatusPass, report.ReasonLatestVersion
		return r
	}
	r.Status, r.Reason = report.StatusWarn, report.ReasonNewerVersion
	r.Remedy = fmt.Sprintf("move to %s:%s when ready (read its release notes first); --newer=minor or patch narrows what counts", ref.Name(), v.Latest.Name)
	return r
}
