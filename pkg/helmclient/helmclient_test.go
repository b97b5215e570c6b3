package helmclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// Every form `helm version` prints, Helm 3 and Helm 4, with and without
// the +g<commit> build metadata.
func TestParseOutput(t *testing.T) {
	tests := []struct{ name, out, raw, version string }{
		{"helm 3 template", "v3.22.0", "v3.22.0", "v3.22.0"},
		{"helm 3 template, newline", "v3.14.4\n", "v3.14.4", "v3.14.4"},
		{"helm 3 short with commit", "v3.14.4+g81c902a\n", "v3.14.4+g81c902a", "v3.14.4"},
		{"helm 3 short without commit", "v3.22.0\n", "v3.22.0", "v3.22.0"},
		{"helm 3 default", `version.BuildInfo{Version:"v3.14.4", GitCommit:"81c902a123462fd4052bc5e9aa9c513c4c8fc142", GitTreeState:"clean", GoVersion:"go1.21.9"}` + "\n", "v3.14.4", "v3.14.4"},
		{"helm 3 default, no commit", `version.BuildInfo{Version:"v3.22.0", GitCommit:"", GitTreeState:"", GoVersion:"go1.27.3", KubeClientVersion:"v1.37"}`, "v3.22.0", "v3.22.0"},
		{"helm 4 template", "v4.3.1", "v4.3.1", "v4.3.1"},
		{"helm 4 short with commit", "v4.3.1+g1a2b3c4\n", "v4.3.1+g1a2b3c4", "v4.3.1"},
		{"helm 4 short without commit", "v4.3.1\n", "v4.3.1", "v4.3.1"},
		{"helm 4 default", `version.BuildInfo{Version:"v4.2.3", GitCommit:"1a2b3c4d5e6f", GitTreeState:"clean", GoVersion:"go1.25.0", KubeClientVersion:"v1.34"}`, "v4.2.3", "v4.2.3"},
		{"helm 4 release candidate", "v4.0.0-rc.1+g0123456", "v4.0.0-rc.1+g0123456", "v4.0.0-rc.1"},
		{"helm 2 client", `Client: &version.Version{SemVer:"v2.17.0", GitCommit:"a690bad98af45b015bd3da1a41f6218b1a451dbe", GitTreeState:"clean"}`, "v2.17.0", "v2.17.0"},
	}
	for _, tt := range tests {
		raw, v, err := ParseOutput(tt.out)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if raw != tt.raw || v.String() != tt.version {
			t.Errorf("%s: raw %q version %q, want %q %q", tt.name, raw, v, tt.raw, tt.version)
		}
	}
	for _, bad := range []string{"", "Error: unknown flag: --template", "{{.Version}}", "hello world"} {
		if _, _, err := ParseOutput(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// fakeHelm writes an executable that answers `version` as script says.
func fakeHelm(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "helm")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAskFallsBackThroughTheForms(t *testing.T) {
	// A Helm whose --template fails and whose --short prints nothing useful.
	bin := fakeHelm(t, `case "$2" in
--template) echo "Error: unknown flag: --template" >&2; exit 1;;
--short) echo "";;
*) echo 'version.BuildInfo{Version:"v3.14.4", GitCommit:"81c902a123462fd4052bc5e9aa9c513c4c8fc142"}';;
esac`)
	a, err := Ask(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version.String() != "v3.14.4" || a.Command != "helm version" {
		t.Errorf("got %+v", a)
	}
	bin = fakeHelm(t, `[ "$2" = --template ] && [ "$3" = '{{.Version}}' ] && printf v4.3.1`)
	a, err = Ask(context.Background(), bin)
	if err != nil || a.Version.String() != "v4.3.1" || a.Command != "helm version --template {{.Version}}" {
		t.Errorf("template form: %+v %v", a, err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		bin      string
		commands []string
		want     []report.Reason
		message  string
	}{
		{"fixed helm 3", fakeHelm(t, "echo v3.22.0"), []string{"push"}, []report.Reason{report.ReasonOk}, "Helm v3.22.0 has no known OCI registry bug for helm push"},
		{"fixed helm 4", fakeHelm(t, "echo v4.3.1+g1a2b3c4"), []string{"push"}, []report.Reason{report.ReasonOk}, "v4.3.1"},
		{"seed range, push", fakeHelm(t, "echo v3.14.4"), []string{"push"}, []report.Reason{report.ReasonKnownHelmBug}, "Helm v3.14.4 has a known bug: helm push to a public or anonymous-push registry dies with `unexpected EOF`"},
		{"seed range, pull", fakeHelm(t, "echo v3.14.4"), []string{"pull"}, []report.Reason{report.ReasonOk}, ""},
		{"3.18.0, push", fakeHelm(t, "echo v3.18.0"), []string{"push", "registry login"}, []report.Reason{report.ReasonKnownHelmBug, report.ReasonKnownHelmBug, report.ReasonKnownHelmBug, report.ReasonKnownHelmBug}, ""},
		{"no HELM_BIN", "", nil, []report.Reason{report.ReasonHelmVersionUnknown}, "HELM_BIN is not set"},
		{"missing binary", filepath.Join(t.TempDir(), "nohelm"), nil, []report.Reason{report.ReasonHelmVersionUnknown}, "no such file"},
		{"helm fails", fakeHelm(t, "echo broken >&2; exit 3"), nil, []report.Reason{report.ReasonHelmVersionUnknown}, "exit status 3"},
	}
	for _, tt := range tests {
		got, _ := Check(ctx, tt.bin, tt.commands...)
		var reasons []report.Reason
		for _, r := range got {
			reasons = append(reasons, r.Reason)
			if r.Check != report.CheckHelmVersion {
				t.Errorf("%s: check %s", tt.name, r.Check)
			}
		}
		if strings.Join(reasonStrings(reasons), ",") != strings.Join(reasonStrings(tt.want), ",") {
			t.Errorf("%s: reasons %v, want %v", tt.name, reasons, tt.want)
			continue
		}
		if !strings.Contains(got[0].Message, tt.message) {
			t.Errorf("%s: message %q, want %q", tt.name, got[0].Message, tt.message)
		}
		if got[0].Reason == report.ReasonKnownHelmBug && (got[0].Remedy == "" || got[0].Evidence["upstream"] == nil || got[0].Evidence["fixedIn"] == nil) {
			t.Errorf("%s: a warning without remedy or evidence: %+v", tt.name, got[0])
		}
	}
}

func reasonStrings(rs []report.Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// A Helm that never answers cannot hold the run past its deadline.
func TestAskIsBounded(t *testing.T) {
	bin := fakeHelm(t, "exec sleep 30")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	got, _ := Check(ctx, bin)
	if len(got) != 1 || got[0].Status != report.StatusSkip || !strings.Contains(got[0].Message, "deadline") {
		t.Errorf("got %+v", got)
	}
}
