package similar

import "testing"

func TestNames(t *testing.T) {
	catalog := []string{"smoke_bundle", "modelops-bundles", "team/app", "team/api", "other/web", "library/nginx"}
	for _, tc := range []struct {
		want string
		best string
		why  string
	}{
		{want: "smoke-bundle", best: "smoke_bundle", why: "underscore versus hyphen"},
		{want: "modelops-bundle", best: "modelops-bundles", why: "singular versus plural"},
		{want: "modelops_bundle", best: "modelops-bundles", why: "singular versus plural, different separators"},
		{want: "Team/App", best: "team/app", why: "differs in case only"},
		{want: "web", best: "other/web", why: "same name under another path"},
		{want: "team/apps", best: "team/app", why: "singular versus plural"},
		{want: "team/ap", best: "team/api", why: "edit distance 1"},
		{want: "ngnix", best: "library/nginx", why: "edit distance 2 in the name"},
		{want: "staging/bundles", best: "modelops-bundles", why: "shares the word bundle"},
		{want: "zzz/qqq"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			got := Names(tc.want, catalog, 3)
			if tc.best == "" {
				if len(got) != 0 {
					t.Errorf("Names(%q) = %v, want none", tc.want, got)
				}
				return
			}
			if len(got) == 0 || got[0].Name != tc.best || got[0].Why != tc.why {
				t.Errorf("Names(%q) = %v, want first %s (%s)", tc.want, got, tc.best, tc.why)
			}
		})
	}
}

// The SEEDS incident: the smoke test pushed smoke_bundle, the workers read
// modelops-bundles; both directions name the other.
func TestSimilarSeedIncident(t *testing.T) {
	if got := Names("smoke_bundle", []string{"modelops-bundles", "team/app"}, 5); len(got) != 1 || got[0].Name != "modelops-bundles" {
		t.Errorf("smoke_bundle: %v", got)
	}
	if got := Names("modelops-bundles", []string{"smoke_bundle", "team/app"}, 5); len(got) != 1 || got[0].Name != "smoke_bundle" {
		t.Errorf("modelops-bundles: %v", got)
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		n    int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"smoke-bundle", "smoke-bundles", 1}, {"flaw", "lawn", 2}} {
		if got := levenshtein(tc.a, tc.b); got != tc.n {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.n)
		}
	}
}
