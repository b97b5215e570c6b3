package registry

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	u, _ := url.Parse("https://user:pw@r.example/v2/a/blobs/uploads/x?_state=SECRET&scope=repository:a:pull&X-Amz-Signature=SIG&service=s")
	got := redactURL(u)
	for _, bad := range []string{"SECRET", "SIG", "pw", "user"} {
		if strings.Contains(got, bad) {
			t.Errorf("%s leaks %s", got, bad)
		}
	}
	if !strings.Contains(got, "scope=repository%3Aa%3Apull") || !strings.Contains(got, "service=s") {
		t.Errorf("safe params lost: %s", got)
	}
}

func TestCheckRedirectStripsAuthorization(t *testing.T) {
	mk := func(raw string) *http.Request {
		r, _ := http.NewRequest(http.MethodGet, raw, nil)
		r.Header.Set("Authorization", "Basic x")
		return r
	}
	tests := []struct {
		from, to string
		keep     bool
	}{
		{"https://r.example/v2/", "https://r.example/other", true},
		{"https://r.example/v2/", "https://cdn.r.example/blob", false}, // Go would keep it for a subdomain
		{"https://r.example/v2/", "https://r.example:8443/v2/", false},
		{"https://r.example/v2/", "http://r.example/v2/", false},
	}
	for _, tc := range tests {
		req := mk(tc.to)
		if err := checkRedirect(req, []*http.Request{mk(tc.from)}); err != nil {
			t.Fatal(err)
		}
		if kept := req.Header.Get("Authorization") != ""; kept != tc.keep {
			t.Errorf("%s → %s: kept=%v", tc.from, tc.to, kept)
		}
	}
}

func TestParseReference(t *testing.T) {
	tests := []struct {
		in                            string
		registry, host, key, repo, id string
	}{
		{"nginx", "docker.io", "registry-1.docker.io", "index.docker.io", "library/nginx", "latest"},
		{"ghcr.io/o/r:1.0", "ghcr.io", "ghcr.io", "ghcr.io", "o/r", "1.0"},
		{"oci://localhost:5000/charts/app:0.1.0", "localhost:5000", "localhost:5000", "localhost:5000", "charts/app", "0.1.0"},
		{"r.example/a@sha256:" + strings.Repeat("a", 64), "r.example", "r.example", "r.example", "a", "sha256:" + strings.Repeat("a", 64)},
	}
	for _, tc := range tests {
		r, err := ParseReference(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if r.Registry != tc.registry || r.Host != tc.host || r.CredentialKey != tc.key || r.Repository != tc.repo || r.Identifier() != tc.id {
			t.Errorf("%s: %+v", tc.in, r)
		}
	}
	if _, err := ParseReference("sha256:" + strings.Repeat("a", 64)); err == nil {
		t.Error("a bare digest must be refused")
	}
}

func TestPageTitle(t *testing.T) {
	if got := pageTitle([]byte("<html><HEAD><Title>\n Sign  in </title>")); got != "Sign in" {
		t.Errorf("got %q", got)
	}
	if got := pageTitle([]byte("plain")); got != "" {
		t.Errorf("got %q", got)
	}
}
