package doctor

import (
	"context"
	"fmt"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
)

// workloads reads the selected workloads, files the scan's staleness
// results (and the cluster credential and reference findings it makes on
// the way) and collects the registry references in their settings.
func (d *run) workloads(ctx context.Context) error {
	if d.cfg.Workloads == nil || d.deps.Kube == nil {
		return nil
	}
	stale, settings := d.cfg.Checks.Enabled(Staleness), d.cfg.Checks.Enabled(WorkloadSettings)
	if !stale && !settings && !d.cfg.Checks.Enabled(Reference) {
		return nil
	}
	inv, err := kube.Collect(ctx, d.deps.Kube, *d.cfg.Workloads)
	if err != nil {
		return fmt.Errorf("reading the cluster: %w", err)
	}
	d.inv = inv
	// What could not be read leads the workload checks as cluster.read skips.
	for _, id := range []string{Staleness, WorkloadSettings, Reference} {
		if d.cfg.Checks.Enabled(id) {
			for _, n := range inv.Notes {
				d.add(id, n.Result())
			}
			break
		}
	}
	if stale {
		opts := scan.Options{Concurrency: d.cfg.Concurrency, Newer: d.cfg.Newer}
		if d.deps.Registry != nil {
			opts.Resolver = d.deps.Registry
		}
		if d.deps.NodeCredentials != nil {
			opts.NodeCredentials = d.deps.NodeCredentials(inv)
		}
		for _, r := range scan.Check(ctx, inv, d.deps.PullSecrets, opts) {
			switch r.Check {
			case report.CheckWorkloadDigest, report.CheckWorkloadPullPolicy, report.CheckWorkloadPull, report.CheckWorkloadVersion:
				d.add(Staleness, r)
			case report.CheckCredentialsSecret:
				d.add(Credentials, r)
			case report.CheckRegistryPull: // an image the nodes pull with their own identity
				if d.cfg.Checks.Enabled(Pull) {
					d.add(Pull, r)
				}
			case report.CheckImageReference:
				d.add(Reference, r)
			}
		}
	}
	if settings {
		d.settings = d.readSettings(ctx, inv)
	}
	return nil
}
