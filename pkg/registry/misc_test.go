package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/remedy"
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
		if f.Reason != report.ReasonInvalidReference || remedy.Message(f.Fault) != want || f.Cause == "" {
			t.Errorf("%s: %s %q (cause %q), want %q", in, f.Reason, remedy.Message(f.Fault), f.Cause, want)
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

// TestFailureErrorNamesFacts: a Failure is a useful Go error without
// pkg/remedy: its reason, cause, step and what came back, and no advice.
func TestFailureErrorNamesFacts(t *testing.T) {
	f := &Failure{Reason: report.ReasonTagNotFound, Fault: report.Fault{
		Cause: report.CauseManifestUnknown, Host: "r.example",
		Seen: report.Seen{Step: report.StepManifest, Reference: "r.example/team/app:1.0", Status: 404,
			Method: "HEAD", Path: "/v2/team/app/manifests/1.0", RegistryMessage: "MANIFEST_UNKNOWN: manifest unknown"}}}
	want := "TagNotFound (ManifestUnknown) at manifest of r.example/team/app:1.0: HTTP 404 on HEAD /v2/team/app/manifests/1.0: MANIFEST_UNKNOWN: manifest unknown"
	if got := f.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	dns := &Failure{Reason: report.ReasonUnreachable, Fault: report.Fault{Cause: report.CauseNoAnswer, Host: "nowhere.example",
		Seen: report.Seen{Step: report.StepPing, Silence: report.SilenceDNS, DNSName: "nowhere.example"}}}
	if got, want := dns.Error(), "Unreachable (NoAnswer) at ping with nowhere.example: dns nowhere.example"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestAsFailureRunEnded: a run that ended before the registry answered is
// named by a typed fact (the silence), not an error's text.
func TestAsFailureRunEnded(t *testing.T) {
	for _, tc := range []struct {
		err     error
		silence report.Silence
		want    string
	}{
		{context.DeadlineExceeded, report.SilenceTimeout, "the registry did not answer in time: context deadline exceeded"},
		{fmt.Errorf("listing: %w", context.Canceled), report.SilenceCancelled, "the registry did not answer in time: context canceled"},
	} {
		f := AsFailure(tc.err)
		if f.Reason != report.ReasonUnreachable || f.Cause != report.CauseTimeout || f.Silence != tc.silence || f.ErrText != "" {
			t.Errorf("%v: %s %s %q %q", tc.err, f.Reason, f.Cause, f.Silence, f.ErrText)
		}
		if got := remedy.Message(f.Fault); got != tc.want {
			t.Errorf("%v: message %q, want %q", tc.err, got, tc.want)
		}
	}
}
