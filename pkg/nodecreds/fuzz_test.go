package nodecreds

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzMatchImage checks MatchImage against properties of the kubelet's
// rule that hold for any input: a literal pattern equal to a parseable
// image matches it; a match keeps the port and the number of labels, and
// the pattern's path is a prefix of the image's; and it never panics.
func FuzzMatchImage(f *testing.F) {
	for _, r := range kubeletURLsMatchRows {
		f.Add(r.glob, r.target)
	}
	for _, s := range [][2]string{
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"},
		{"*-docker.pkg.dev", "europe-west1-docker.pkg.dev/p/r/app"},
		{"*.azurecr.io", "myacr.azurecr.io/app"},
		{"registry.io:8080/path", "registry.io:8080/path/app"},
		{"[", "a"}, {"", ""}, {"a:b:c", "a:b:c"}, {"%zz", "%zz"}, {"[::1]:5000", "[::1]:5000/app"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, image string) {
		got := MatchImage(pattern, image)
		if !got {
			u, err := url.Parse("https://" + image)
			if err == nil && pattern == image && !strings.ContainsAny(image, `*?[\`) && u.Host != "" {
				t.Errorf("MatchImage(%q, itself) = false", image)
			}
			return
		}
		p, err1 := parseSchemeless(pattern)
		i, err2 := parseSchemeless(image)
		if err1 != nil || err2 != nil {
			t.Fatalf("matched input that does not parse: %q %q", pattern, image)
		}
		pl, pp := splitURL(p)
		il, ip := splitURL(i)
		if pp != ip || len(pl) != len(il) || !strings.HasPrefix(i.Path, p.Path) {
			t.Errorf("MatchImage(%q, %q) matched with ports %q/%q, labels %d/%d, paths %q/%q", pattern, image, pp, ip, len(pl), len(il), p.Path, i.Path)
		}
	})
}
