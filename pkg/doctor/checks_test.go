package doctor

import (
	"reflect"
	"testing"
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
		{name: "skip", skip: []string{"staleness", "workload-settings,rate-limit"}, want: []string{Reachable, Credentials, Pull, Push, Reference}},
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
