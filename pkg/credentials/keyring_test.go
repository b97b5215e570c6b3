package credentials

import (
	"github.com/regcheck/regcheck/pkg/imageref"
	"reflect"
	"testing"
)

// entry makes an entry whose username names it, so tests can read order.
func entry(key, name string) Entry {
	return Entry{Key: key, Credential: Credential{Source: "secret/ns/" + name, Key: key, Username: name, Password: "pw"}}
}

func users(creds []Credential) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Username)
	}
	return out
}

// The examples of https://kubernetes.io/docs/concepts/containers/images/#config-json
// and the kubelet's pkg/credentialprovider rules.
func TestKeyringMatchesAsTheKubelet(t *testing.T) {
	tests := []struct {
		name  string
		key   string
		image string
		match bool
	}{
		{"glob label matches one label", "*.kubernetes.io", "abc.kubernetes.io/app", true},
		{"glob label does not match nothing", "*.kubernetes.io", "kubernetes.io/app", false},
		{"glob label does not span dots", "*.kubernetes.io", "a.b.kubernetes.io/app", false},
		{"two glob labels need two labels", "*.*.kubernetes.io", "abc.kubernetes.io/app", false},
		{"two glob labels", "*.*.kubernetes.io", "abc.def.kubernetes.io/app", true},
		{"glob in the middle", "prefix.*.io", "prefix.kubernetes.io/app", true},
		{"glob as part of a label", "*-good.kubernetes.io", "prefix-good.kubernetes.io/app", true},
		{"glob part mismatch", "*-good.kubernetes.io", "prefix-bad.kubernetes.io/app", false},
		{"all-glob host", "*.*.io", "a.kubernetes.io/app", true},
		{"path key, same repository", "my-registry.io/images", "my-registry.io/images", true},
		{"path key, repository below it", "my-registry.io/images", "my-registry.io/images/my-image", true},
		{"path key, other repository", "my-registry.io/images", "my-registry.io/other/my-image", false},
		{"glob and path", "*.my-registry.io/images", "sub.my-registry.io/images/my-image", true},
		{"glob and path, too many labels", "*.my-registry.io/images", "a.sub.my-registry.io/images/my-image", false},
		{"longer path key, shorter image", "prefix.kubernetes.io/a/b/c", "prefix.kubernetes.io/a/b/img", false},
		{"path prefix is a string prefix, as in the kubelet", "host.io/team", "host.io/team-b/app", true},
		{"port must match", "registry.example.com:5000", "registry.example.com:5000/app", true},
		{"port mismatch", "registry.example.com:5000", "registry.example.com:5001/app", false},
		{"key port, image without", "registry.example.com:5000", "registry.example.com/app", false},
		{"key without port, image with", "registry.example.com", "registry.example.com:5000/app", false},
		{"scheme ignored", "https://registry.example.com", "registry.example.com/app", true},
		{"http scheme ignored", "http://registry.example.com:8080", "registry.example.com:8080/app", true},
		{"/v2/ ignored", "https://registry.example.com/v2/", "registry.example.com/app", true},
		{"/v1/ then path", "https://registry.example.com/v1/team", "registry.example.com/team/app", true},
		{"tag and digest ignored", "registry.example.com/app", "registry.example.com/app:1.0@sha256:" + sixtyFour, true},
		{"Docker Hub key, short image", "https://index.docker.io/v1/", "nginx", true},
		{"Docker Hub key, docker.io image", "https://index.docker.io/v1/", "docker.io/library/nginx:1.27", true},
		{"Docker Hub key, user image", "index.docker.io", "someone/app", true},
		{"docker.io key", "docker.io", "nginx", true},
		{"docker.io path key", "docker.io/library", "nginx", true},
		{"Docker Hub key, other registry", "https://index.docker.io/v1/", "ghcr.io/app", false},
		{"invalid image", "r.io", "UPPER/Case", false},
		{"bare digest", "r.io", "sha256:" + sixtyFour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lookupImage(NewKeyring(entry(tt.key, "u")), tt.image)
			if (len(got) == 1) != tt.match {
				t.Errorf("key %q image %q: got %v, want match=%v", tt.key, tt.image, got, tt.match)
			}
		})
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestKeyringOrder(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		image   string
		want    []string
	}{
		{
			name:    "every matching key, most specific first",
			entries: []Entry{entry("prefix.kubernetes.io/a/b", "ab"), entry("prefix.kubernetes.io/a/b/c", "abc"), entry("prefix.kubernetes.io", "host")},
			image:   "prefix.kubernetes.io/a/b/c/img",
			want:    []string{"abc", "ab", "host"},
		},
		{
			name:    "same key in two secrets: insertion order",
			entries: []Entry{entry("r.io", "pod-secret"), entry("https://r.io", "sa-secret")},
			image:   "r.io/app",
			want:    []string{"pod-secret", "sa-secret"},
		},
		{
			name:    "literal host before a glob",
			entries: []Entry{entry("*.example.com", "glob"), entry("registry.example.com", "literal")},
			image:   "registry.example.com/app",
			want:    []string{"literal", "glob"},
		},
		{
			name:    "Docker Hub key only when nothing else matched",
			entries: []Entry{entry("https://index.docker.io/v1/", "hub"), entry("docker.io/library", "library")},
			image:   "nginx",
			want:    []string{"library"},
		},
		{
			name:    "Docker Hub key as fallback",
			entries: []Entry{entry("https://index.docker.io/v1/", "hub"), entry("ghcr.io", "ghcr")},
			image:   "library/nginx",
			want:    []string{"hub"},
		},
		{
			// The kubelet's isDefaultRegistryMatch: a first part without "."
			// or ":" is Docker Hub to it, even where distribution/reference
			// names another host.
			name:    "Docker Hub key for localhost/app, as the kubelet",
			entries: []Entry{entry("https://index.docker.io/v1/", "hub")},
			image:   "localhost/app",
			want:    []string{"hub"},
		},
		{
			name:    "Docker Hub key for LOCALDOMAIN/app, as the kubelet",
			entries: []Entry{entry("index.docker.io", "hub")},
			image:   "LOCALDOMAIN/app:1",
			want:    []string{"hub"},
		},
		{
			name:    "no Docker Hub key for localhost:5000/app",
			entries: []Entry{entry("https://index.docker.io/v1/", "hub")},
			image:   "localhost:5000/app",
		},
		{
			name:    "registry-1.docker.io is no kubelet alias",
			entries: []Entry{entry("registry-1.docker.io", "r1")},
			image:   "nginx",
		},
		{
			name:    "bad key skipped",
			entries: []Entry{entry("https://r.io:port:bad", "bad"), entry("r.io", "good")},
			image:   "r.io/app",
			want:    []string{"good"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := users(lookupImage(NewKeyring(tt.entries...), tt.image))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup(%q) = %v, want %v", tt.image, got, tt.want)
			}
		})
	}
}

func TestKeyringPassesOnlyUsernameAndPassword(t *testing.T) {
	entries, problems := ParseDockerConfigJSON([]byte(`{"auths":{"r.io":{"auth":"`+b64("u:p")+`","identitytoken":"refresh"},"t.r.io":{"registrytoken":"bearer"}}}`), src)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	k := NewKeyring(entries...)
	got := lookupImage(k, "r.io/app")
	if len(got) != 1 || got[0].Username != "u" || got[0].Password != "p" || got[0].IdentityToken != "" {
		t.Errorf("r.io: %#v", got)
	}
	got = lookupImage(k, "t.r.io/app")
	if len(got) != 1 || !got[0].Anonymous() || got[0].Source != src {
		t.Errorf("t.r.io: want one anonymous credential from %s, got %#v", src, got)
	}
	if got := lookupImage(nil, "r.io/app"); got != nil {
		t.Errorf("nil keyring: %v", got)
	}
}

// lookupImage reads image as the kubelet does (imageref.ParseAsKubelet)
// and looks it up; an image that does not parse gets nothing.
func lookupImage(k *Keyring, image string) []Credential {
	ref, err := imageref.ParseAsKubelet(image)
	if err != nil {
		return nil
	}
	return k.Lookup(ref)
}
