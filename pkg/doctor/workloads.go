package doctor

import (
	"context"
	"fmt"

	"github.com/regcheck/regcheck/pkg/scan"
)

// workloads reads the selected workloads, files the scan's staleness
// results (and the cluster credential and reference findings it makes on
// the way) and collects the registry references in their settings.
func (d *run) workloads(ctx context.Context) error {
	if d.cfg.Workloads == nil || d.deps.Workloads == nil {
		return nil
	}
	stale, settings := d.cfg.Checks.Enabled(Staleness), d.cfg.Checks.Enabled(WorkloadSettings)
	if !stale && !settings && !d.cfg.Checks.Enabled(Reference) {
		return nil
	}
	out, err := d.deps.Workloads(ctx, stale)
	if err != nil {
		return fmt.Errorf("reading the cluster: %w", err)
	}
	inv := out.Inventory
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
		// Each group of the scan's outcome under its check; its
		// cluster.read skips were filed above, from the inventory.
		for _, g := range []struct {
			group scan.Group
			id    string
		}{
			{scan.GroupStaleness, Staleness},
			{scan.GroupSecrets, Credentials},
			{scan.GroupPulls, Pull}, // pulls judged without the registry: node identity, undecodable secrets
			{scan.GroupReferences, Reference},
		} {
			if g.id != Pull || d.cfg.Checks.Enabled(Pull) {
				for _, r := range out.Of(g.group) {
					d.add(g.id, r)
				}
			}
		}
	}
	if settings {
		d.settings = d.readSettings(ctx, inv)
	}
	return nil
}
