package versions

import (
	"fmt"
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		tag     string
		ok      bool
		version string // semver of the tag
		parts   int
		shape   string
	}{
		// nginx
		{"1.27.3", true, "1.27.3", 3, "3|"},
		{"1.27", true, "1.27.0", 2, "2|"},
		{"1", true, "1.0.0", 1, "1|"},
		{"1.25-alpine", true, "1.25.0", 2, "2|-alpine"},
		{"1.25.4-alpine-slim", true, "1.25.4", 3, "3|-alpine-slim"},
		{"1.27-perl", true, "1.27.0", 2, "2|-perl"},
		{"mainline-alpine", false, "", 0, ""},
		{"stable", false, "", 0, ""},
		{"latest", false, "", 0, ""},
		// postgres
		{"16.3-bookworm", true, "16.3.0", 2, "2|-bookworm"},
		{"16.3-alpine3.20", true, "16.3.0", 2, "2|-alpine#.#"},
		{"17rc1", true, "17.0.0-rc.1", 1, "1|"},
		{"17beta2-alpine", true, "17.0.0-beta.2", 1, "1|-alpine"},
		// bitnami
		{"1.25.4-debian-12-r3", true, "1.25.4", 3, "3|-debian-#-r#"},
		{"16.3.0-debian-12-r14", true, "16.3.0", 3, "3|-debian-#-r#"},
		// redis
		{"7.2.4-alpine3.19", true, "7.2.4", 3, "3|-alpine#.#"},
		{"7.4-rc2-bookworm", true, "7.4.0-rc.2", 2, "2|-bookworm"},
		// node
		{"20.11.1-alpine3.19", true, "20.11.1", 3, "3|-alpine#.#"},
		{"20-bookworm-slim", true, "20.0.0", 1, "1|-bookworm-slim"},
		{"lts-alpine", false, "", 0, ""},
		// python
		{"3.12.4-slim-bookworm", true, "3.12.4", 3, "3|-slim-bookworm"},
		{"3.13.0rc2-alpine3.20", true, "3.13.0-rc.2", 3, "3|-alpine#.#"},
		{"3.13.0a1", true, "3.13.0-alpha.1", 3, "3|"},
		{"3.13.0b3-slim", true, "3.13.0-beta.3", 3, "3|-slim"},
		// semver with v, pre-releases, dotted numbers
		{"v1.2.3", true, "1.2.3", 3, "3|"},
		{"v2.0.0-rc.1", true, "2.0.0-rc.1", 3, "3|"},
		{"1.0.0-beta", true, "1.0.0-beta", 3, "3|"},
		{"1.0.0-RC1", true, "1.0.0-rc.1", 3, "3|"},
		{"2024.05.01", true, "2024.5.1", 3, "3|"},
		{"1.2.3.4", true, "1.2.3", 4, "4|"},
		{"1.2.3.4.5", false, "", 0, ""},
		{"1.0-devel", true, "1.0.0", 2, "2|-devel"},
		{"1.2.3-1", true, "1.2.3", 3, "3|-#"},
		// not versions
		{"9f8e7d6", false, "", 0, ""},
		{"1.2.3.RELEASE", false, "", 0, ""},
		{"v", false, "", 0, ""},
		{"", false, "", 0, ""},
		{"sha256-abc.sig", false, "", 0, ""},
		{"99999999999999999999999", false, "", 0, ""},
	} {
		got, ok := Parse(tc.tag)
		if ok != tc.ok {
			t.Errorf("Parse(%q) ok = %v, want %v", tc.tag, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.Version.String() != tc.version || got.Parts != tc.parts || got.Shape != tc.shape {
			t.Errorf("Parse(%q) = %s, %d parts, shape %q; want %s, %d, %q", tc.tag, got.Version, got.Parts, got.Shape, tc.version, tc.parts, tc.shape)
		}
	}
}

func names(ts []Tag) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestFind(t *testing.T) {
	nginx := []string{"1.25", "1.25-alpine", "1.25.4", "1.25.4-alpine", "1.25.5-alpine", "1.26-alpine", "1.27", "1.27.0", "1.27.3", "1.27-alpine", "1.27.3-alpine3.20", "1.27.3-alpine-slim", "mainline", "stable-alpine", "latest"}
	bitnami := []string{"16.3.0-debian-12-r14", "16.3.0-debian-12-r9", "16.3.0-debian-12-r15", "16.4.0-debian-12-r0", "17.0.0-debian-12-r1", "16.3.0", "latest"}
	semverTags := []string{"1.2.0", "1.2.1", "1.2.10", "1.3.0", "1.10.0", "2.0.0", "2.1.0-rc.1", "v1.10.0", "v2.0.0", "1.11.0-beta.1"}
	for _, tc := range []struct {
		name            string
		running         string
		tags            []string
		scope           Scope
		newer           []string
		latest, inMajor string
		newest          string
	}{
		{"alpine only with alpine", "1.25-alpine", nginx, ScopeMajor, []string{"1.27-alpine", "1.26-alpine"}, "1.27-alpine", "1.27-alpine", "1.27-alpine"},
		{"plain minor tag", "1.25", nginx, ScopeMajor, []string{"1.27"}, "1.27", "1.27", "1.27"},
		{"patch scope", "1.25.4-alpine", nginx, ScopePatch, []string{"1.25.5-alpine"}, "1.25.5-alpine", "1.25.5-alpine", "1.25.5-alpine"},
		{"numeric not lexical", "1.2.0", semverTags, ScopeMajor, []string{"2.0.0", "1.10.0", "1.3.0", "1.2.10", "1.2.1"}, "2.0.0", "1.10.0", "2.0.0"},
		{"minor scope names the next major", "1.2.0", semverTags, ScopeMinor, []string{"1.10.0", "1.3.0", "1.2.10", "1.2.1"}, "1.10.0", "1.10.0", "2.0.0"},
		{"patch scope numeric", "1.2.0", semverTags, ScopePatch, []string{"1.2.10", "1.2.1"}, "1.2.10", "1.10.0", "2.0.0"},
		{"v spelling kept", "v1.2.0", semverTags, ScopeMajor, []string{"v2.0.0", "v1.10.0", "1.3.0", "1.2.10", "1.2.1"}, "v2.0.0", "v1.10.0", "v2.0.0"},
		{"newest is latest", "2.0.0", semverTags, ScopeMajor, nil, "2.0.0", "2.0.0", "2.0.0"},
		{"pre-release counts for a pre-release", "2.1.0-rc.0", semverTags, ScopeMajor, []string{"2.1.0-rc.1"}, "2.1.0-rc.1", "2.1.0-rc.1", "2.1.0-rc.1"},
		{"bitnami revisions", "16.3.0-debian-12-r9", bitnami, ScopePatch, []string{"16.3.0-debian-12-r15", "16.3.0-debian-12-r14"}, "16.3.0-debian-12-r15", "16.4.0-debian-12-r0", "17.0.0-debian-12-r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, ok := Parse(tc.running)
			if !ok {
				t.Fatalf("Parse(%q) failed", tc.running)
			}
			v := Find(run, tc.tags, tc.scope)
			if got := names(v.Newer); !slices.Equal(got, tc.newer) {
				t.Errorf("newer = %v, want %v", got, tc.newer)
			}
			if v.Latest.Name != tc.latest || v.LatestInMajor.Name != tc.inMajor || v.Newest.Name != tc.newest {
				t.Errorf("latest %s, in major %s, newest %s; want %s, %s, %s", v.Latest, v.LatestInMajor, v.Newest, tc.latest, tc.inMajor, tc.newest)
			}
			if v.Behind() != (len(tc.newer) > 0) {
				t.Errorf("Behind() = %v", v.Behind())
			}
		})
	}
}

func TestParseScope(t *testing.T) {
	for in, want := range map[string]Scope{"": ScopeMajor, "major": ScopeMajor, "minor": ScopeMinor, "patch": ScopePatch} {
		if got, err := ParseScope(in); err != nil || got != want {
			t.Errorf("ParseScope(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseScope("latest"); err == nil {
		t.Error("ParseScope(latest) accepted")
	}
}

// FuzzParse: any tag parses or is refused without panicking, a parsed tag
// compares equal to itself, and Find never names the running tag or an
// older one as newer.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.25-alpine", "v1.2.3-rc.1", "3.13.0rc2-alpine3.20", "16.3.0-debian-12-r14", "2024.05.01", "latest", "1.2.3.4", "17beta2"} {
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, ok := Parse(a)
		if !ok {
			return
		}
		if ta.Compare(ta) != 0 {
			t.Fatalf("%q does not equal itself", a)
		}
		for _, s := range []Scope{ScopeMajor, ScopeMinor, ScopePatch} {
			v := Find(ta, []string{a, b}, s)
			for _, n := range v.Newer {
				if n.Compare(ta) <= 0 || n.Shape != ta.Shape {
					t.Fatalf("Find(%q, %q) names %q as newer", a, b, n.Name)
				}
			}
		}
	})
}

// BenchmarkFindParsed is one running tag against a repository of 5,000
// tags parsed once, as a scan compares each running tag.
func BenchmarkFindParsed(b *testing.B) {
	var tags []string
	for i := range 5000 {
		tags = append(tags, fmt.Sprintf("1.%d.%d-debian-12-r%d", i/100, i%100, i%7))
	}
	parsed := ParseAll(tags)
	run, _ := Parse("1.2.3-debian-12-r1")
	for b.Loop() {
		FindParsed(run, parsed, ScopeMajor)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		Parse("3.13.0rc2-alpine3.20")
	}
}
