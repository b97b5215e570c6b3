package doctor

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/printers"
	"github.com/regcheck/regcheck/pkg/report"
)

func TestParseChecks(t *testing.T) {
	for _, tc := range []struct {
		name       string
		only, skip []string
		want       []string // enabled, in IDs order
		err        bool
	}{
		{name: "default runs all", want: IDs},
		{name: "only", only: []string{"pull,push"}, want: []string{Pull, Push}},
		{name: "only repeated, spaces and case", only: []string{" Reachable", "credentials "}, want: []string{Reachable, Credentials}},
		{name: "skip", skip: []string{"staleness", "workload-settings,rate-limit"}, want: []string{HelmVersion, Reachable, Credentials, Pull, Push, Reference}},
		{name: "skip wins over only", only: []string{"pull,push"}, skip: []string{"push"}, want: []string{Pull}},
		{name: "unknown only", only: []string{"pul"}, err: true},
		{name: "unknown skip", skip: []string{"reachable,dns"}, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseChecks(tc.only, tc.skip)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			var got []string
			for _, id := range IDs {
				if c.Enabled(id) {
					got = append(got, id)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("enabled = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestResultsFilteredAndOrdered(t *testing.T) {
	checks, _ := ParseChecks(nil, []string{Credentials})
	d := newRun(Config{Checks: checks}, Deps{})
	for _, id := range []string{RateLimit, Pull, Credentials, Reachable} {
		d.byID[id] = append(d.byID[id], resultFor(id))
	}
	var got []string
	for _, r := range d.results() {
		got = append(got, r.Message)
	}
	if want := []string{Reachable, Pull, RateLimit}; !reflect.DeepEqual(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
}

// Under Helm the checklist starts with helm-version, and the incident
// report names the Helm release.
func TestHelmVersionItem(t *testing.T) {
	helm := func(context.Context) []report.Result {
		return []report.Result{{Check: report.CheckHelmVersion, Status: report.StatusWarn, Reason: report.ReasonKnownHelmBug,
			Message: "Helm v3.14.4 has a known bug", Remedy: "upgrade Helm to v3.15.0 or later",
			Evidence: report.Evidence{"helmVersion": "v3.14.4", "upstream": []string{"helm/helm#12835"}}, HelmVersion: "v3.14.4"}}
	}
	for _, tc := range []struct {
		name string
		skip []string
		deps Deps
		want int
	}{
		{"under helm", nil, Deps{HelmVersion: helm}, 1},
		{"skipped", []string{HelmVersion}, Deps{HelmVersion: helm}, 0},
		{"not under helm", nil, Deps{}, 0},
	} {
		checks, _ := ParseChecks(nil, tc.skip)
		got, err := Run(context.Background(), Config{Checks: checks}, tc.deps)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Fatalf("%s: %d results, want %d", tc.name, len(got), tc.want)
		}
		if tc.want == 0 {
			continue
		}
		if printers.DoctorCheck(got[0]) != HelmVersion {
			t.Errorf("%s: check %s", tc.name, printers.DoctorCheck(got[0]))
		}
		var md bytes.Buffer
		if err := printers.Print(&md, "markdown", report.New(report.KindDoctor, got)); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Helm client: `v3.14.4`", "helm/helm#12835", "helm version --template", "upgrade Helm to v3.15.0"} {
			if !strings.Contains(md.String(), want) {
				t.Errorf("%s: markdown lacks %q:\n%s", tc.name, want, md.String())
			}
		}
	}
}

// Every check has the guide the markdown report explains it with.
func TestEveryCheckHasAGuide(t *testing.T) {
	for _, id := range IDs {
		if g, ok := printers.DoctorGuides[id]; !ok || g.What == "" || g.Why == "" {
			t.Errorf("check %s has no guide in printers.DoctorGuides", id)
		}
	}
	if len(printers.DoctorGuides) != len(IDs) {
		t.Errorf("%d guides for %d checks", len(printers.DoctorGuides), len(IDs))
	}
}
