package helmbugs

import (
	"regexp"
	"strings"
	"testing"
)

// One row per table entry: a release inside the range, the releases on
// both edges, and the fix.
func TestAffecting(t *testing.T) {
	tests := []struct {
		bug      string
		commands []string
		hit      []string // releases that have it
		miss     []string // releases that do not
		fixedIn  map[string]string
	}{
		{
			bug: "anonymous-push-eof", commands: []string{Push},
			hit:     []string{"v3.13.2", "v3.13.3", "v3.14.0", "v3.14.2", "v3.14.4", "v3.14.4+g81c902a"},
			miss:    []string{"v3.13.1", "v3.12.3", "v3.15.0", "v3.15.0-rc.1", "v3.22.0", "v4.3.1"},
			fixedIn: map[string]string{"v3.14.4": "v3.15.0"},
		},
		{
			bug: "basic-auth-header", commands: []string{Pull},
			hit:     []string{"v3.13.0", "v3.13.1", "v3.13.1+g3547a4b"},
			miss:    []string{"v3.12.3", "v3.13.2", "v3.14.0"},
			fixedIn: map[string]string{"v3.13.0": "v3.13.2"},
		},
		{
			bug: "push-pull-only-token", commands: []string{Push},
			hit:     []string{"v3.18.0", "v3.18.6", "v3.19.0", "v3.21.4", "v4.0.0", "v4.0.0-rc.1", "v4.2.3"},
			miss:    []string{"v3.17.4", "v3.22.0", "v4.2.4", "v4.3.1"},
			fixedIn: map[string]string{"v3.19.0": "v3.22.0", "v4.1.0": "v4.2.4"},
		},
		{
			bug: "login-docker-hub-key", commands: []string{Pull},
			hit:     []string{"v3.18.0", "v3.18.1"},
			miss:    []string{"v3.17.4", "v3.18.2", "v4.0.0"},
			fixedIn: map[string]string{"v3.18.1": "v3.18.2"},
		},
		{
			bug: "empty-registry-config", commands: []string{Push},
			hit:     []string{"v3.18.0", "v3.18.1"},
			miss:    []string{"v3.17.4", "v3.18.2"},
			fixedIn: map[string]string{"v3.18.0": "v3.18.2"},
		},
		{
			bug: "login-with-scheme", commands: []string{Login},
			hit:     []string{"v3.18.0"},
			miss:    []string{"v3.17.4", "v3.18.1"},
			fixedIn: map[string]string{"v3.18.0": "v3.18.1"},
		},
		{
			bug: "docker-config-creds-store", commands: []string{Pull},
			hit:     []string{"v3.0.0", "v3.7.2"},
			miss:    []string{"v3.8.0", "v3.22.0"},
			fixedIn: map[string]string{"v3.7.2": "v3.8.0"},
		},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.bug] = true
		for _, s := range tt.hit {
			m, ok := find(t, s, tt.bug, tt.commands)
			if !ok {
				t.Errorf("%s: %s should have it", tt.bug, s)
				continue
			}
			if want, ok := tt.fixedIn[s]; ok && m.FixedIn != want {
				t.Errorf("%s: %s fixed in %s, want %s", tt.bug, s, m.FixedIn, want)
			}
		}
		for _, s := range tt.miss {
			if _, ok := find(t, s, tt.bug, nil); ok {
				t.Errorf("%s: %s should not have it", tt.bug, s)
			}
		}
	}
	for _, b := range Known {
		if !seen[b.ID] {
			t.Errorf("no test rows for %s", b.ID)
		}
	}
}

func find(t *testing.T, s, id string, commands []string) (Match, bool) {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Affecting(v, commands...) {
		if m.ID == id {
			return m, true
		}
	}
	return Match{}, false
}

// A bug shows only for the commands it breaks.
func TestAffectingCommands(t *testing.T) {
	v, _ := ParseVersion("v3.14.4")
	if got := Affecting(v, Pull); len(got) != 0 {
		t.Errorf("v3.14.4 pull: %v, want nothing", got)
	}
	if got := Affecting(v, Push); len(got) != 1 || got[0].ID != "anonymous-push-eof" {
		t.Errorf("v3.14.4 push: %v", got)
	}
	v, _ = ParseVersion("v3.18.0")
	if got := Affecting(v, Login); len(got) != 3 {
		t.Errorf("v3.18.0 login: %d bugs, want 3", len(got))
	}
	if got := Affecting(v); len(got) != 4 {
		t.Errorf("v3.18.0 any command: %d bugs, want 4", len(got))
	}
	for _, s := range []string{"v3.22.0", "v4.3.1", "v3.15.0"} {
		v, _ := ParseVersion(s)
		if got := Affecting(v); len(got) != 0 {
			t.Errorf("%s: %v, want nothing", s, got)
		}
	}
}

// Every row is complete and cites its source; every constraint parses.
func TestTableRows(t *testing.T) {
	cite := regexp.MustCompile(`^[\w.-]+/[\w.-]+#\d+$`)
	fixed := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	ids := map[string]bool{}
	for _, b := range Known {
		if b.ID == "" || ids[b.ID] {
			t.Errorf("missing or repeated ID %q", b.ID)
		}
		ids[b.ID] = true
		if len(b.Affected) == 0 || len(b.Commands) == 0 || b.Symptom == "" || b.Cause == "" || len(b.Upstream) == 0 {
			t.Errorf("%s: incomplete row", b.ID)
		}
		for _, u := range b.Upstream {
			if !cite.MatchString(u) {
				t.Errorf("%s: citation %q is not owner/repo#N", b.ID, u)
			}
		}
		for _, r := range b.Affected {
			if !fixed.MatchString(r.FixedIn) {
				t.Errorf("%s: fixed-in %q", b.ID, r.FixedIn)
			}
			fv, _ := ParseVersion(r.FixedIn)
			if fv.in(r.Constraint) {
				t.Errorf("%s: the fix %s is inside its own range %q", b.ID, r.FixedIn, r.Constraint)
			}
		}
	}
}

func TestPushTokenRequest(t *testing.T) {
	tests := []struct {
		v, want string
		same    bool
	}{
		{"v3.14.4", "two scopes, repository:charts/app:pull and repository:charts/app:pull,push", false},
		{"v3.17.4", "two scopes", false},
		{"v3.18.0", "repository:charts/app:pull alone first", false},
		{"v3.21.4", "alone first", false},
		{"v4.0.0", "alone first", false},
		{"v4.2.3", "alone first", false},
		{"v3.22.0", "repository:charts/app:pull,push first", true},
		{"v4.2.4", "pull,push first", true},
		{"v4.3.1+gabcdef0", "pull,push first", true},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		got, same := PushTokenRequest(v, "charts/app")
		if !strings.Contains(got, tt.want) || same != tt.same {
			t.Errorf("%s: %q same=%v, want %q same=%v", tt.v, got, same, tt.want, tt.same)
		}
	}
}

func TestVersionString(t *testing.T) {
	for in, want := range map[string]string{"v3.14.4": "v3.14.4", "3.14.4+g81c902a": "v3.14.4", "v4.0.0-rc.1": "v4.0.0-rc.1"} {
		v, err := ParseVersion(in)
		if err != nil || v.String() != want {
			t.Errorf("%s: %q %v, want %q", in, v.String(), err, want)
		}
	}
	if _, err := ParseVersion("version.BuildInfo{}"); err == nil {
		t.Error("garbage parsed")
	}
}
