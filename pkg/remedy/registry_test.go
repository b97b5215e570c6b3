package remedy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// TestEveryCauseHasAFix: every Cause pkg/report declares is worded here,
// so a cause added to the registry client cannot reach a result with no
// remedy.
func TestEveryCauseHasAFix(t *testing.T) {
	causes := declaredCauses(t)
	if len(causes) < 40 {
		t.Fatalf("found %d causes in pkg/report; the parse is wrong", len(causes))
	}
	for _, c := range causes {
		f := report.Fault{Cause: c, Registry: "registry.example.com", Repository: "team/app", Host: "registry.example.com",
			CredentialKey: "registry.example.com", Input: "x", What: "manifest"}
		for _, to := range []Audience{ForKubectl, ForHelm, ForWorkload} {
			if Registry(f, to) == "" {
				t.Errorf("cause %s has no remedy for audience %d", c, to)
			}
		}
	}
	if got := Registry(report.Fault{}, ForKubectl); got != "" {
		t.Errorf("a fault without a cause is worded %q", got)
	}
}

func declaredCauses(t *testing.T) []report.Cause {
	t.Helper()
	fs := token.NewFileSet()
	file, err := parser.ParseFile(fs, filepath.Join("..", "report", "fault.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []report.Cause
	ast.Inspect(file, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Cause" {
			return true
		}
		for _, v := range vs.Values {
			if lit, ok := v.(*ast.BasicLit); ok {
				out = append(out, report.Cause(strings.Trim(lit.Value, `"`)))
			}
		}
		return true
	})
	return out
}

func TestRegistryWording(t *testing.T) {
	for _, tc := range []struct {
		f    report.Fault
		want string
	}{
		{report.Fault{Cause: report.CauseUnauthorized, Registry: "docker.io", CredentialKey: "https://index.docker.io/v1/"},
			"log in: docker login docker.io (or helm registry login registry-1.docker.io; for a cluster, a pull secret: kubectl create secret docker-registry NAME --docker-server=https://index.docker.io/v1/ ...)"},
		{report.Fault{Cause: report.CauseTokenExpiredECR, Registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			"log in again: aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 123456789012.dkr.ecr.eu-west-1.amazonaws.com (the ecr-login credential helper renews it by itself: \"credHelpers\": {\"123456789012.dkr.ecr.eu-west-1.amazonaws.com\": \"ecr-login\"})"},
		{report.Fault{Cause: report.CauseConnectionReset, PlainHTTP: true}, "if the registry speaks HTTPS, drop --plain-http; else check the registry and any proxy in between"},
		{report.Fault{Cause: report.CauseConnectionReset}, "check the registry host name, DNS, proxy settings (HTTPS_PROXY/NO_PROXY) and firewall from this machine"},
		{report.Fault{Cause: report.CauseManifestUnknown, Registry: "ghcr.io", Repository: "org/app"}, "check the tag or digest; the tags the repository lists are in evidence.tags (-o yaml), and kubectl regcheck TYPE/NAME --newer names the newer versions for a workload that runs it"},
	} {
		if got := Registry(tc.f, ForKubectl); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.f.Cause, got, tc.want)
		}
	}
}

// TestRegistryAudiences: the caller's typed audience chooses the wording: a
// Helm user gets helm's login and is told helm takes the same TLS flags, a
// workload gets the cluster-side fix, a kubectl user regcheck's flags; no
// reader is told another's commands.
func TestRegistryAudiences(t *testing.T) {
	reg := "registry.example.com"
	f := func(c report.Cause) report.Fault {
		return report.Fault{Cause: c, Registry: reg, Repository: "team/app", Host: reg, CredentialKey: reg}
	}
	for _, tc := range []struct {
		f        report.Fault
		to       Audience
		want     string
		notWants []string
	}{
		{f(report.CauseUnauthorized), ForHelm, "helm registry login " + reg, []string{"docker login", "kubectl"}},
		{f(report.CauseUnauthorized), ForWorkload, "kubectl create secret docker-registry NAME --docker-server=" + reg, []string{"docker login", "helm"}},
		{f(report.CauseUnauthorized), ForKubectl, "docker login " + reg, nil},
		{report.Fault{Cause: report.CauseTokenExpiredECR, Registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"}, ForHelm,
			"aws ecr get-login-password --region eu-west-1 | helm registry login --username AWS --password-stdin", []string{"docker login"}},
		{f(report.CauseTLSToPlainHTTP), ForKubectl, "pass --plain-http", []string{"helm"}},
		{f(report.CauseTLSToPlainHTTP), ForHelm, "--plain-http, to helm too", nil},
		{f(report.CauseUnknownAuthority), ForHelm, "--ca-file PATH, to helm too", nil},
		{f(report.CauseUnknownAuthority), ForWorkload, "make the nodes trust " + reg, []string{"--ca-file", "--insecure-skip-tls-verify"}},
		{f(report.CauseConnectionRefused), ForWorkload, "let the nodes reach " + reg, nil},
		{f(report.CauseManifestUnknown), ForHelm, "helm regcheck release NAME --newer", []string{"crane", "kubectl"}},
		{f(report.CauseNotFound), ForKubectl, "kubectl regcheck TYPE/NAME --newer", []string{"crane", "helm"}},
	} {
		got := Registry(tc.f, tc.to)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s for %d: %q lacks %q", tc.f.Cause, tc.to, got, tc.want)
		}
		for _, nw := range tc.notWants {
			if strings.Contains(got, nw) {
				t.Errorf("%s for %d: %q names %q", tc.f.Cause, tc.to, got, nw)
			}
		}
	}
}
