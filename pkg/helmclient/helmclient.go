// Package helmclient asks the Helm that runs regcheck as a plugin which
// release it is ($HELM_BIN version) and turns the answer into the
// helm.version result: warn/KnownHelmBug when that release has a known OCI
// registry bug for the command (pkg/helmbugs), else pass/Ok; skip when Helm
// cannot be asked.
package helmclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/regcheck/regcheck/pkg/helmbugs"
	"github.com/regcheck/regcheck/pkg/report"
)

// Forms asks `helm version` in: the template form first (Helm 3 and 4
// print the bare release), then the short and the default forms, for a
// Helm whose template flag fails.
var Forms = [][]string{
	{"version", "--template", "{{.Version}}"},
	{"version", "--short"},
	{"version"},
}

// Answer is what Helm said.
type Answer struct {
	Version helmbugs.Version
	Raw     string // the release as printed, build metadata included (v3.14.4+g81c902a)
	Command string // the command that answered, for evidence
}

// buildInfo matches the default form of Helm 3 and 4,
// version.BuildInfo{Version:"v3.14.4", GitCommit:"…", …}, and Helm 2's
// SemVer:"v2.17.0".
var buildInfo = regexp.MustCompile(`(?:Version|SemVer):"([^"]+)"`)

// ParseOutput finds the release in any form `helm version` prints:
// v3.14.4, v3.14.4+g81c902a, or the BuildInfo struct.
func ParseOutput(out string) (raw string, v helmbugs.Version, err error) {
	s := strings.TrimSpace(out)
	if m := buildInfo.FindStringSubmatch(s); m != nil {
		s = m[1]
	} else if f := strings.Fields(s); len(f) == 1 {
		s = f[0]
	} else {
		return "", helmbugs.Version{}, fmt.Errorf("no Helm version in %q", oneLine(out, 80))
	}
	v, err = helmbugs.ParseVersion(s)
	if err != nil {
		return "", helmbugs.Version{}, err
	}
	return s, v, nil
}

// Ask runs bin with each of Forms until one answers with a version. It
// runs the binary itself, never a shell, and gives up when ctx ends.
func Ask(ctx context.Context, bin string) (Answer, error) {
	if bin == "" {
		return Answer{}, errors.New("HELM_BIN is not set, so the Helm running this plugin is unknown")
	}
	var errs []error
	for _, args := range Forms {
		cmd := exec.CommandContext(ctx, bin, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.WaitDelay = time.Second // a child that keeps the pipes open cannot hold the run
		name := "helm " + strings.Join(args, " ")
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				return Answer{}, fmt.Errorf("%s: %w", name, ctx.Err())
			}
			if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
				return Answer{}, fmt.Errorf("running %s: %w", bin, err)
			}
			errs = append(errs, fmt.Errorf("%s: %v: %s", name, err, oneLine(stderr.String(), 120)))
			continue
		}
		raw, v, err := ParseOutput(stdout.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		return Answer{Version: v, Raw: raw, Command: name}, nil
	}
	return Answer{}, errors.Join(errs...)
}

// Check asks Helm and reports helm.version for commands (helmbugs.Push,
// helmbugs.Pull, helmbugs.Login; none means every command).
func Check(ctx context.Context, bin string, commands ...string) ([]report.Result, Answer) {
	a, err := Ask(ctx, bin)
	if err != nil {
		return []report.Result{{
			Check:   report.CheckHelmVersion,
			Status:  report.StatusSkip,
			Reason:  report.ReasonHelmVersionUnknown,
			Message: "could not ask the Helm running this plugin for its version, so its known OCI registry bugs were not checked: " + oneLine(err.Error(), 300),
			Remedy:  "run helm version yourself and compare it with the known Helm OCI bugs (regcheck's README)",
		}}, a
	}
	return Results(a, commands...), a
}

// Results turns an answer into helm.version results: one warn per known
// bug, or one pass.
func Results(a Answer, commands ...string) []report.Result {
	ev := func() report.Evidence {
		return report.Evidence{"helmVersion": a.Raw, "asked": a.Command}
	}
	matches := helmbugs.Affecting(a.Version, commands...)
	if len(matches) == 0 {
		return []report.Result{{
			Check:    report.CheckHelmVersion,
			Status:   report.StatusPass,
			Reason:   report.ReasonOk,
			Message:  fmt.Sprintf("Helm %s has no known OCI registry bug for %s", a.Version, commandWords(commands)),
			Evidence: ev(), HelmVersion: a.Raw,
		}}
	}
	out := make([]report.Result, 0, len(matches))
	for _, m := range matches {
		e := ev()
		e["bug"] = m.ID
		e["upstream"] = m.Upstream
		e["affects"] = m.Commands
		e["fixedIn"] = m.FixedIn
		out = append(out, report.Result{
			Check:    report.CheckHelmVersion,
			Status:   report.StatusWarn,
			Reason:   report.ReasonKnownHelmBug,
			Message:  fmt.Sprintf("Helm %s has a known bug: %s (%s); fixed in %s (%s)", a.Version, m.Symptom, m.Cause, m.FixedIn, m.Upstream[0]),
			Remedy:   fmt.Sprintf("upgrade Helm to %s or later (https://helm.sh/docs/intro/install/); until then expect: %s", m.FixedIn, m.Symptom),
			Evidence: e, HelmVersion: a.Raw,
		})
	}
	return out
}

func commandWords(commands []string) string {
	if len(commands) == 0 {
		return "push, pull or registry login"
	}
	return "helm " + strings.Join(commands, " or helm ")
}

func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}
