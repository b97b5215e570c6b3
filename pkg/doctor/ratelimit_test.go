package doctor

import (
	"testing"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// TestRateLimitOneRule: the doctor's rate-limit row follows SPEC's one
// rule (report.ApplyRateLimitRule over the run): RateLimited is a warn when
// nothing else failed and a fail when something did, the limited pull
// result with it; its evidence is report.RateLimit's.
func TestRateLimitOneRule(t *testing.T) {
	ref, err := imageref.Parse("r.example/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		otherFailed bool
		want        report.Status
	}{
		{name: "nothing else failed", want: report.StatusWarn},
		{name: "something else failed", otherFailed: true, want: report.StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newRun(Config{}, Deps{})
			d.hosts = []*host{{registry: ref.Registry}}
			rl := &report.RateLimit{Limit: "100;w=21600", Remaining: "0;w=21600", RetryAfter: "60"}
			pull := report.Result{Check: report.CheckRegistryPull, Status: report.StatusWarn, Reason: report.ReasonRateLimited, RateLimit: rl}
			d.subjects = []*subject{{ok: true, ref: ref, check: Pull, probed: []probedResult{{Result: pull,
				step: &probe.Step{Result: pull, Failure: &registry.Failure{Reason: report.ReasonRateLimited, RateLimit: *rl}}}}}}
			d.add(Pull, pull)
			if tc.otherFailed {
				d.add(Reachable, report.Result{Check: report.CheckRegistryReachable, Status: report.StatusFail, Reason: report.ReasonUnreachable})
			}
			d.rateLimits()
			var rows int
			for _, r := range d.results() {
				if r.Reason != report.ReasonRateLimited {
					continue
				}
				rows++
				if r.Status != tc.want {
					t.Errorf("%s %s: status %s, want %s", r.Doctor.Check, r.Check, r.Status, tc.want)
				}
				if r.Doctor.Check == RateLimit && (r.Evidence["ratelimit-remaining"] != "0;w=21600" || r.Evidence["retry-after"] != "60") {
					t.Errorf("rate-limit evidence = %v", r.Evidence)
				}
			}
			if rows != 2 {
				t.Errorf("%d RateLimited rows, want the pull and the rate-limit row", rows)
			}
		})
	}
}
