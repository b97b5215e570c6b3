package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// FuzzParseReference: any input either parses into a reference whose
// normalised form parses back to the same reference, or is refused as
// InvalidReference — never a panic, never another kind of error.
func FuzzParseReference(f *testing.F) {
	d := "sha256:" + strings.Repeat("ab", 32)
	for _, s := range []string{
		"nginx", "library/nginx:1.27", "docker.io/nginx", "index.docker.io/library/nginx:latest",
		"ghcr.io/org/app:1.0@" + d, "localhost:5000/team/app", "[::1]:5000/a/b:c",
		"oci://registry.example.com/charts/smoke-bundle:0.1.0", "registry.example.com/team/app@" + d,
		d, "sha256:abc", "UPPER/case", "a:b:c", "host:port/", " nginx ", "a//b", "", "0_0.0/app",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			var fl *Failure
			if !errors.As(err, &fl) || fl.Reason != report.ReasonInvalidReference {
				t.Fatalf("ParseReference(%q): %v, want an InvalidReference failure", s, err)
			}
			return
		}
		if ref.Repository == "" || ref.Host == "" || ref.Identifier() == "" {
			t.Fatalf("ParseReference(%q) = %+v: a part is empty", s, ref)
		}
		again, err := ParseReference(ref.String())
		if err != nil {
			t.Fatalf("ParseReference(%q) normalised to %q, which does not parse: %v", s, ref.String(), err)
		}
		if again.String() != ref.String() || again.Repository != ref.Repository || again.Host != ref.Host || again.Identifier() != ref.Identifier() {
			t.Fatalf("ParseReference(%q) = %q, but that parses to %q", s, ref.String(), again.String())
		}
	})
}
