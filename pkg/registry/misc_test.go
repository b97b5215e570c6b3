package registry

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
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

// TestInvalidReference: imageref's refusals in the client's words, the
// reason named (uppercase, scheme, bare digest), one line each.
func TestInvalidReference(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	for in, want := range map[string]string{
		d:                        "a bare digest names no repository: " + d,
		"sha256:abc":             "a bare digest names no repository: sha256:abc",
		"UPPER/case:1":           "not a valid image reference: UPPER/case:1 (invalid reference format: repository name (UPPER/case) must be lowercase)",
		"https://gcr.io/foo/bar": "not a valid image reference: https://gcr.io/foo/bar (https:// is a URL scheme; an image reference has none)",
		"oci://0_0.0/0":          "not a valid image reference: 0_0.0/0 (0_0.0 looks like a registry host but is not a valid host name)",
	} {
		_, err := imageref.ParseChart(in)
		if err == nil {
			t.Fatalf("%s parses", in)
		}
		f := InvalidReference(err)
		if f.Reason != report.ReasonInvalidReference || f.Message() != want || f.Cause == "" {
			t.Errorf("%s: %s %q (cause %q), want %q", in, f.Reason, f.Message(), f.Cause, want)
		}
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
