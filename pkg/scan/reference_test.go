package scan

import (
	"testing"

	"github.com/regcheck/regcheck/pkg/imageref"
)

func TestForeignDigestRef(t *testing.T) {
	const d = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	for _, tc := range []struct {
		name, image, imageID string
		foreign              string // the foreign reference's String, "" when none
	}{
		{"own repository, as containerd writes it", "registry.example.com:5000/team/app:v1", "registry.example.com:5000/team/app@" + d, ""},
		{"own Docker Hub repository, written short in the spec", "nginx:1.27", "docker.io/library/nginx@" + d, ""},
		{"own Docker Hub repository, written short in the imageID", "docker.io/library/nginx:1.27", "nginx@" + d, ""},
		{"own repository behind docker-pullable://", "quay.io/team/app:v1", "docker-pullable://quay.io/team/app@" + d, ""},
		{"a mirror's repository", "docker.io/library/nginx:1.27", "mirror.example.com/library/nginx@" + d, "mirror.example.com/library/nginx@" + d},
		{"another repository on the same registry", "ghcr.io/team/app:v1", "ghcr.io/team/app-fork@" + d, "ghcr.io/team/app-fork@" + d},
		{"an image ID without a repository", "ghcr.io/team/app:v1", d, ""},
		{"an unparsable repository", "ghcr.io/team/app:v1", "GHCR.IO/Team/App@" + d, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := imageref.Parse(tc.image)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := foreignDigestRef(ref, tc.imageID, d)
			if ok != (tc.foreign != "") || (ok && got.String() != tc.foreign) {
				t.Errorf("foreignDigestRef = %v, %v; want %q", got, ok, tc.foreign)
			}
		})
	}
}

// BenchmarkForeignDigestRef is the common case, asked once per pod: the
// imageID names the reference's own repository.
func BenchmarkForeignDigestRef(b *testing.B) {
	const d = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	ref, err := imageref.Parse("registry.example.com:5000/team/app:v1")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		foreignDigestRef(ref, "registry.example.com:5000/team/app@"+d, d)
	}
}
