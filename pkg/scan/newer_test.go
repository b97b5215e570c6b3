package scan

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/versions"
)

// fakeLister is a fakeResolver that also lists tags, counting the lists.
type fakeLister struct {
	*fakeResolver
	tags  map[string][]string // repository → tags
	mu    sync.Mutex
	lists map[string]int
	creds []string
}

func (f *fakeLister) ListTags(_ context.Context, ref imageref.Reference, cred credentials.Credential, _ registry.TagsOptions) (registry.TagList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lists == nil {
		f.lists = map[string]int{}
	}
	f.lists[ref.Repository]++
	f.creds = append(f.creds, cred.Source)
	tags, ok := f.tags[ref.Repository]
	if !ok {
		return registry.TagList{}, failed(report.ReasonForbidden, report.CauseDenied, ref.String())
	}
	return registry.TagList{Tags: tags, Pages: 1, CredentialSource: cred.Source}, nil
}

func TestNewerVersions(t *testing.T) {
	const repo = "registry.example.com/team/web"
	res := map[string]registry.Resolution{}
	for _, tag := range []string{"1.2.0", "1.10.0", "2.0.0", "1.25-alpine", "latest", "v1.2.0", "2.1.0-rc.1"} {
		res[repo+":"+tag] = registry.Resolution{Digest: dg("a"), CredentialSource: "secret/prod/pull"}
	}
	tags := []string{"1.2.0", "1.2.1", "1.3.0", "1.10.0", "2.0.0", "2.1.0-rc.1", "2.1.0-rc.2", "1.25-alpine", "1.27-alpine", "1.27", "latest", "v1.2.0", "v1.10.0"}
	for _, tc := range []struct {
		tag     string
		scope   versions.Scope
		status  report.Status
		reason  report.Reason
		message string
		newer   []string
	}{
		{"1.2.0", versions.ScopeMajor, report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out", []string{"2.0.0", "1.10.0", "1.3.0", "1.2.1"}},
		{"1.2.0", versions.ScopeMinor, report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.10.0 in 1.x; 2.0.0 is out", []string{"1.10.0", "1.3.0", "1.2.1"}},
		{"1.2.0", versions.ScopePatch, report.StatusWarn, report.ReasonNewerVersion, "1.2.0 → 1.2.1 in 1.2.x; 2.0.0 is out", []string{"1.2.1"}},
		{"1.10.0", versions.ScopeMajor, report.StatusWarn, report.ReasonNewerVersion, "1.10.0 is the newest in 1.x; 2.0.0 is out", []string{"2.0.0"}},
		{"1.10.0", versions.ScopeMinor, report.StatusPass, report.ReasonLatestVersion, "1.10.0 is the newest in 1.x; 2.0.0 is out (--newer=minor)", nil},
		{"2.0.0", versions.ScopeMajor, report.StatusPass, report.ReasonLatestVersion, "2.0.0 is the newest version of team/web", nil},
		{"2.1.0-rc.1", versions.ScopeMajor, report.StatusWarn, report.ReasonNewerVersion, "2.1.0-rc.1 → 2.1.0-rc.2 in 2.x", []string{"2.1.0-rc.2"}},
		{"v1.2.0", versions.ScopeMajor, report.StatusWarn, report.ReasonNewerVersion, "v1.2.0 → v1.10.0 in 1.x; 2.0.0 is out", []string{"2.0.0", "v1.10.0", "1.3.0", "1.2.1"}},
		{"1.25-alpine", versions.ScopeMajor, report.StatusWarn, report.ReasonNewerVersion, "1.25-alpine → 1.27-alpine in 1.x", []string{"1.27-alpine"}},
		{"latest", versions.ScopeMajor, report.StatusSkip, report.ReasonNotAVersion, "team/web:latest is not a version (semver, with or without v, or dotted numbers), so no tag is newer", nil},
	} {
		t.Run(tc.tag+"/"+string(tc.scope), func(t *testing.T) {
			l := &fakeLister{fakeResolver: &fakeResolver{answers: res}, tags: map[string][]string{"team/web": tags}}
			inv := &kube.Inventory{Workloads: []kube.Workload{deploy("a", repo+":"+tc.tag, ""), deploy("b", repo+":"+tc.tag, "")}}
			var got []report.Result
			for _, r := range Check(context.Background(), inv, staticCreds(fakeKeychain{{Source: "secret/prod/pull", Username: "u", Password: "p"}}), Options{Resolver: l, Newer: &Newer{Scope: tc.scope}}) {
				if r.Check == report.CheckWorkloadVersion {
					got = append(got, r)
				}
			}
			if len(got) != 2 {
				t.Fatalf("%d workload.version results, want 2", len(got))
			}
			r := got[0]
			if r.Status != tc.status || r.Reason != tc.reason || r.Message != tc.message {
				t.Errorf("%s %s %q; want %s %s %q", r.Status, r.Reason, r.Message, tc.status, tc.reason, tc.message)
			}
			if tc.reason == report.ReasonNotAVersion {
				if len(l.lists) != 0 {
					t.Errorf("listed tags for a tag that is not a version: %v", l.lists)
				}
				return
			}
			if l.lists["team/web"] != 1 {
				t.Errorf("%d tags lists for one repository, want 1", l.lists["team/web"])
			}
			if !slices.Equal(l.creds, []string{"secret/prod/pull"}) {
				t.Errorf("listed with %v, want the credential the HEAD chose", l.creds)
			}
			if !slices.Equal(r.Version.Newer, tc.newer) || r.Version.Behind() != (tc.status == report.StatusWarn) {
				t.Errorf("newer %v, want %v", r.Version.Newer, tc.newer)
			}
			if r.CredentialSource != "secret/prod/pull" {
				t.Errorf("credentialSource %q", r.CredentialSource)
			}
		})
	}
}

func TestNewerVersionsListFails(t *testing.T) {
	const ref = "registry.example.com/team/locked:1.0"
	l := &fakeLister{fakeResolver: &fakeResolver{answers: map[string]registry.Resolution{ref: {Digest: dg("a"), CredentialSource: "anonymous"}}}}
	inv := &kube.Inventory{Workloads: []kube.Workload{deploy("a", ref, "")}}
	for _, r := range Check(context.Background(), inv, nil, Options{Resolver: l, Newer: &Newer{}}) {
		if r.Check == report.CheckWorkloadVersion {
			if r.Status != report.StatusSkip || r.Reason != report.ReasonForbidden {
				t.Errorf("%s %s %q", r.Status, r.Reason, r.Message)
			}
			return
		}
	}
	t.Fatal("no workload.version result")
}

func TestNewerOffByDefault(t *testing.T) {
	l := &fakeLister{fakeResolver: resolver()}
	for _, r := range Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{deploy("a", appRef, "")}}, nil, Options{Resolver: l}) {
		if r.Check == report.CheckWorkloadVersion {
			t.Errorf("workload.version without --newer: %+v", r)
		}
	}
	if len(l.lists) != 0 {
		t.Errorf("tags listed without --newer")
	}
}

// passwordLister lists tags for the password its registry takes only,
// recording the passwords it was asked with.
type passwordLister struct {
	passwordResolver
	mu    sync.Mutex
	asked []string
}

func (p *passwordLister) ListTags(_ context.Context, ref imageref.Reference, cred credentials.Credential, _ registry.TagsOptions) (registry.TagList, error) {
	p.mu.Lock()
	p.asked = append(p.asked, cred.Password)
	p.mu.Unlock()
	if cred.Password != p.password {
		return registry.TagList{}, &registry.Failure{Reason: report.ReasonInvalidCredentials, Fault: report.Fault{Cause: report.CauseUnauthorized}}
	}
	return registry.TagList{Tags: []string{"1.0", "1.1"}, Pages: 1, CredentialSource: cred.Source}, nil
}

// TestNewerListsWithTheCredentialThatWorked: --newer lists the tags with
// the credential the HEAD succeeded with, the second of two that share a
// source, and each namespace's workload.version names its own (the same
// namespaces as TestSharedLookupNamesTheCredentialThatWorked).
func TestNewerListsWithTheCredentialThatWorked(t *testing.T) {
	creds := func(_ context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
		if ns == "aaa" {
			return fakeKeychain{{Source: "secret/aaa/both", Username: "ci", Password: "old"}, {Source: "secret/aaa/both", Username: "ci", Password: "new"}}, nil, nil
		}
		return fakeKeychain{{Source: "secret/" + ns + "/old", Username: "ci", Password: "old"}, {Source: "secret/" + ns + "/new", Username: "ci", Password: "new"}}, nil, nil
	}
	var inv []kube.Workload
	for _, ns := range []string{"aaa", "bbb"} {
		w := deploy("web", appRef, "Always", runningPod("a", "registry.example.com/team/app@"+dg("a"), ""))
		w.Namespace = ns
		inv = append(inv, w)
	}
	l := &passwordLister{passwordResolver: passwordResolver{resolver(), "new"}}
	want := map[string]string{"aaa": "secret/aaa/both", "bbb": "secret/bbb/new"}
	var n int
	for _, r := range Check(t.Context(), &kube.Inventory{Workloads: inv}, creds, Options{Resolver: l, Newer: &Newer{Scope: versions.ScopeMajor}}) {
		if r.Check != report.CheckWorkloadVersion {
			continue
		}
		n++
		if r.Reason != report.ReasonNewerVersion || r.CredentialSource != want[r.Namespace] {
			t.Errorf("%s: %s with %q, want NewerVersion with %q: %s", r.Namespace, r.Reason, r.CredentialSource, want[r.Namespace], r.Message)
		}
	}
	if n != 2 || !slices.Equal(l.asked, []string{"new"}) {
		t.Errorf("%d workload.version results, tags listed with %d credentials (the current one: %v); want 2 and one list with it", n, len(l.asked), slices.Equal(l.asked, []string{"new"}))
	}
}
