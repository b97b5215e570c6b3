// Package doctor is the registry debug checklist as one engine: it runs
// named checks (reachable, credentials, pull, push, reference, staleness,
// workload-settings, rate-limit) over image references, push targets,
// registry hosts and, when a cluster is given, workloads, and returns one
// report.Result per finding. It reuses the probe for the registry's auth
// flow and the scan for workloads; it knows neither cobra nor printing.
package doctor

import (
	"context"
	"time"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
)

// Config says what to check. Zero values are "nothing of that kind".
type Config struct {
	// Audience is who reads the registry faults' fixes: a kubectl user
	// (the zero value) or a Helm user.
	Audience    remedy.Audience
	Images      []string // --image: checked for pull
	PushTargets []string // --push-target: checked for push only (oci://… or a repository)
	Registries  []string // --registry: reachability and credentials
	// Workloads selects workloads to check for staleness and registry
	// settings; nil when none were named (no cluster is needed then).
	Workloads *kube.Selection
	Checks    Checks
	// Concurrency bounds registry probes in flight (default 4).
	Concurrency int
	Dial        DialOptions
	// Command and Flags build the "how to verify the fix" commands, e.g.
	// "kubectl regcheck" and ["--plain-http"].
	Command string
	Flags   []string
}

// DialOptions mirror the registry client's, for the doctor's own DNS, TCP
// and TLS steps.
type DialOptions struct {
	PlainHTTP             bool
	InsecureSkipTLSVerify bool
	CAFile                string
	Timeout               time.Duration // per step; 10s when zero
}

// Deps are what the doctor talks to.
type Deps struct {
	Registry *registry.Client
	// Credentials returns the local credentials for a registry host.
	Credentials func(ctx context.Context, host string) credentials.Lookup
	// Workloads reads and checks the selected workloads with the scan
	// engine (scan.Run, with the command's Config); withRegistry false
	// leaves the registries out, for a run whose only workload checks are
	// offline. Nil unless Config.Workloads is set.
	Workloads func(ctx context.Context, withRegistry bool) (*scan.Outcome, error)
	// ConfigMaps lists the data of a namespace's ConfigMaps, by name, for
	// the settings workloads read from them; kubeContext is the workloads'
	// Context ("" when the run reads one cluster).
	ConfigMaps func(ctx context.Context, kubeContext, namespace string) (map[string]map[string]string, error)
	// HelmVersion reports helm.version for the Helm running regcheck as a
	// plugin; nil outside Helm (the check is then left out).
	HelmVersion func(ctx context.Context) []report.Result
}

// Run runs the enabled checks and returns their results in checklist
// order. Its error means the cluster could not be read at all.
func Run(ctx context.Context, cfg Config, deps Deps) ([]report.Result, error) {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	d := newRun(cfg, deps)
	if err := d.workloads(ctx); err != nil {
		return nil, err
	}
	if deps.HelmVersion != nil && cfg.Checks.Enabled(HelmVersion) {
		for _, r := range deps.HelmVersion(ctx) {
			d.add(HelmVersion, r)
		}
	}
	d.gather()
	d.hygiene()
	d.reachability(ctx)
	d.probe(ctx)
	d.mismatches(ctx)
	d.rateLimits()
	return d.results(), nil
}
