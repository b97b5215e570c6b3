package nodecreds

import (
	"testing"
)

// kubeletURLsMatchRows are every row of the kubelet's own table for its
// matcher: k8s.io/kubernetes v1.37.2 pkg/credentialprovider/keyring_test.go
// TestURLsMatch (glob, target, match), translated as data.
var kubeletURLsMatchRows = []struct {
	glob, target string
	match        bool
}{
	// match when there is no path component
	{"*.kubernetes.io", "prefix.kubernetes.io", true},
	{"prefix.*.io", "prefix.kubernetes.io", true},
	{"prefix.kubernetes.*", "prefix.kubernetes.io", true},
	{"*-good.kubernetes.io", "prefix-good.kubernetes.io", true},
	// match with path components
	{"*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true},
	{"prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true},
	// match with path components and ports
	{"*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true},
	{"prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true},
	// no match when number of parts mismatch
	{"*.kubernetes.io", "kubernetes.io", false},
	{"*.*.kubernetes.io", "prefix.kubernetes.io", false},
	{"*.*.kubernetes.io", "kubernetes.io", false},
	{"*kubernetes.io", "a.kubernetes.io", false},
	// match when number of parts match
	{"*kubernetes.io", "kubernetes.io", true},
	{"*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true},
	// no match when some parts mismatch
	{"kubernetes.io", "kubernetes.com", false},
	{"k*.io", "quay.io", false},
	// no match when ports mismatch
	{"*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false},
	{"prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false},
}

func TestMatchImageKubeletTable(t *testing.T) {
	for _, r := range kubeletURLsMatchRows {
		if got := MatchImage(r.glob, r.target); got != r.match {
			t.Errorf("MatchImage(%q, %q) = %t, the kubelet says %t", r.glob, r.target, got, r.match)
		}
	}
}

// The documented rules and examples of matchImages (k8s.io/kubelet
// config/v1 CredentialProvider.MatchImages, the API reference's words):
// globs in the domain only, one label per glob, partial labels, ports
// must match, the path is a prefix.
func TestMatchImageDocumented(t *testing.T) {
	for _, r := range []struct {
		pattern, image string
		match          bool
	}{
		// "Example values of matchImages"
		{"123456789.dkr.ecr.us-east-1.amazonaws.com", "123456789.dkr.ecr.us-east-1.amazonaws.com/team/app", true},
		{"123456789.dkr.ecr.us-east-1.amazonaws.com", "123456789.dkr.ecr.us-west-2.amazonaws.com/team/app", false},
		{"*.azurecr.io", "myacr.azurecr.io/app", true},
		{"*.azurecr.io", "azurecr.io/app", false},
		{"gcr.io", "gcr.io/project/app", true},
		{"gcr.io", "eu.gcr.io/project/app", false},
		{"*.*.registry.io", "a.b.registry.io/app", true},
		{"*.*.registry.io", "b.registry.io/app", false},
		{"registry.io:8080/path", "registry.io:8080/path/app", true},
		{"registry.io:8080/path", "registry.io/path/app", false},
		{"registry.io:8080/path", "registry.io:8080/other/app", false},
		// "Globs are supported as subdomains like '*.k8s.io' or 'k8s.*.io',
		// and top-level-domains such as 'k8s.*'"
		{"*.k8s.io", "registry.k8s.io/pause", true},
		{"k8s.*.io", "k8s.gcr.io/pause", true},
		{"k8s.*", "k8s.io/pause", true},
		// "Matching partial subdomains like 'app*.k8s.io' is also supported."
		{"app*.k8s.io", "app1.k8s.io/x", true},
		{"app*.k8s.io", "web.k8s.io/x", false},
		// "Each glob can only match a single subdomain segment, so *.io does
		// not match *.k8s.io."
		{"*.io", "registry.k8s.io/pause", false},
		// a pattern's port must be in the image; an image's port must be
		// in the pattern (the kubelet compares both ports, "" included)
		{"registry.io", "registry.io:5000/app", false},
		// the path is a plain string prefix, as in the kubelet
		{"registry.io/team", "registry.io/team-b/app", true},
		// no scheme: a pattern with one never matches a schemeless image
		{"https://registry.io", "registry.io/app", false},
		// a bad glob matches nothing
		{"[.io", "a.io/x", false},
	} {
		if got := MatchImage(r.pattern, r.image); got != r.match {
			t.Errorf("MatchImage(%q, %q) = %t, want %t", r.pattern, r.image, got, r.match)
		}
	}
}

// SPEC's built-in patterns and the image names of each cloud.
func TestBuiltInPatterns(t *testing.T) {
	for _, r := range []struct {
		image string
		cloud Cloud
	}{
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0", CloudAWS},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", CloudAWS},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app", CloudAWS},
		{"public.ecr.aws/nginx/nginx:1.27", ""}, // ECR Public: anonymous pulls, no node credentials
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com:443/app", ""},
		{"europe-west1-docker.pkg.dev/project/repo/app", CloudGCE},
		{"us-docker.pkg.dev/project/repo/app", CloudGCE},
		{"gcr.io/project/app", CloudGCE},
		{"eu.gcr.io/project/app", CloudGCE},
		{"docker.pkg.dev/project/app", ""},
		{"myacr.azurecr.io/app", CloudAzure},
		{"myacr.azurecr.cn/app", CloudAzure},
		{"myacr.azurecr.de/app", CloudAzure},
		{"myacr.azurecr.us/app", CloudAzure},
		{"nginx", ""},
		{"ghcr.io/o/r", ""},
	} {
		img, ok := KubeletImage(r.image)
		if !ok {
			t.Fatalf("KubeletImage(%q) failed", r.image)
		}
		var got Cloud
		for _, c := range []Cloud{CloudAWS, CloudGCE, CloudAzure} {
			p, _ := BuiltIn(c)
			if _, ok := p.Matches(img); ok {
				if got != "" {
					t.Errorf("%s matches both %s and %s", r.image, got, c)
				}
				got = c
			}
		}
		if got != r.cloud {
			t.Errorf("%s: built-in provider of %q, want %q", r.image, got, r.cloud)
		}
	}
}

func TestKubeletImage(t *testing.T) {
	for in, want := range map[string]string{
		"nginx":                          "docker.io/library/nginx",
		"nginx:1.27@sha256:" + sixtyFour: "docker.io/library/nginx",
		"127.0.0.1:5000/team/app:1.0":    "127.0.0.1:5000/team/app",
		"myacr.azurecr.io/app:v1":        "myacr.azurecr.io/app",
	} {
		if got, ok := KubeletImage(in); !ok || got != want {
			t.Errorf("KubeletImage(%q) = %q, %t; want %q", in, got, ok, want)
		}
	}
	if _, ok := KubeletImage("sha256:" + sixtyFour); ok {
		t.Error("a bare digest has no repository to match")
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
