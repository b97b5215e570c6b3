package imageref

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: for Parse, ParseChart and ParseAsKubelet, any input either parses into a reference whose normalised
// form parses back to the same reference, or is refused with a typed
// *Error of a known Kind and a one-line message: never a panic, never
// another kind of error. (testdata/fuzz/FuzzParse keeps what the former
// registry FuzzParseReference found: "0_0.0/0", an empty host.)
func FuzzParse(f *testing.F) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, s := range []string{
		"nginx", "library/nginx:1.27", "docker.io/nginx", "index.docker.io/library/nginx:latest",
		"ghcr.io/org/app:1.0@" + d, "localhost:5000/team/app", "[::1]:5000/a/b:c",
		"oci://registry.example.com/charts/smoke-bundle:0.1.0", "registry.example.com/team/app@" + d,
		d, "sha256:abc", "UPPER/case", "UPPER/case:1", "https://gcr.io/foo/bar", "a:b:c", "host:port/",
		" nginx ", "a//b", "", "0_0.0/app", strings.Repeat("ab", 32),
	} {
		f.Add(s)
	}
	kinds := map[Kind]bool{Empty: true, BareDigest: true, Identifier: true, Uppercase: true, Scheme: true, InvalidHost: true, Malformed: true}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Reference, error){Parse, ParseChart, ParseAsKubelet} {
			ref, err := parse(s)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || !kinds[e.Kind] || e.Why == "" || strings.Contains(e.Why, "\n") {
					t.Fatalf("parse(%q): %v, want a typed refusal", s, err)
				}
				continue
			}
			if ref.Registry == "" || ref.Host == "" || ref.CredentialKey == "" || ref.Repository == "" || ref.Identifier() == "" {
				t.Fatalf("parse(%q) = %+v: a part is empty", s, ref)
			}
			for _, form := range []string{ref.String(), ref.Pull()} {
				again, err := parse(form)
				if err != nil {
					t.Fatalf("parse(%q) normalised to %q, which does not parse: %v", s, form, err)
				}
				if again.Name() != ref.Name() || again.Host != ref.Host || again.Digest != ref.Digest {
					t.Fatalf("parse(%q) = %q, but that parses to %q", s, form, again)
				}
			}
			if again, _ := parse(ref.String()); again.String() != ref.String() || again.Identifier() != ref.Identifier() {
				t.Fatalf("parse(%q) = %q, but that parses to %q", s, ref, again)
			}
		}
	})
}
