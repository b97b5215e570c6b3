package scan

import (
	"strings"
	"testing"
)

func TestNormalizeImageID(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in   string
		want string
		kind IDKind
	}{
		{"docker-pullable://registry.example.com/app@" + d, d, IDRepoDigest},
		{"docker.io/library/nginx@" + d, d, IDRepoDigest},
		{"registry.example.com:5000/team/app@" + d, d, IDRepoDigest},
		{d, d, IDImageID},
		{"docker://" + d, d, IDImageID},
		{" " + d + "\n", d, IDImageID},
		{"sha512:" + strings.Repeat("0", 128), "sha512:" + strings.Repeat("0", 128), IDImageID},
		{"", "", IDNone},
		{"docker.io/library/nginx:latest", "", IDNone},
		{"@" + d, "", IDNone},
		{"nginx@sha256:short", "", IDNone},
		{"sha256:" + strings.Repeat("AB", 32), "", IDNone},
		{"md5:" + strings.Repeat("0", 32), "", IDNone},
	}
	for _, tt := range tests {
		got, kind := NormalizeImageID(tt.in)
		if got != tt.want || kind != tt.kind {
			t.Errorf("NormalizeImageID(%q) = %q, %v; want %q, %v", tt.in, got, kind, tt.want, tt.kind)
		}
	}
}

func FuzzNormalizeImageID(f *testing.F) {
	d := "sha256:" + strings.Repeat("0f", 32)
	for _, s := range []string{"", d, "docker://" + d, "docker-pullable://a/b@" + d, "a@b@" + d, "://@", "x://y://" + d} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, kind := NormalizeImageID(s)
		if (got == "") != (kind == IDNone) {
			t.Fatalf("NormalizeImageID(%q) = %q, %v: digest and kind disagree", s, got, kind)
		}
		if got == "" {
			return
		}
		if !validDigest(got) || !strings.Contains(s, got) {
			t.Fatalf("NormalizeImageID(%q) = %q: not a digest from the input", s, got)
		}
		// Idempotent: a digest normalises to itself.
		if again, _ := NormalizeImageID(got); again != got {
			t.Fatalf("NormalizeImageID(%q) = %q, not idempotent", got, again)
		}
	})
}
