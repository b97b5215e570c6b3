package scan

import (
	"context"
	"errors"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// Cluster is one kubeconfig context of a run over several (--contexts,
// --all-contexts): its scan's Config, or why none could be built.
type Cluster struct {
	// Context is the kubeconfig context's name; every result and workload
	// read through it carries it.
	Context string
	Config  Config
	// Err is why the context gave no client (its kubeconfig entry does not
	// load); the cluster is then a cluster.read skip, not the run's end.
	Err error
}

// RunClusters scans every cluster at once and merges what they found, in
// the clusters' order. A cluster that could not be read at all (refused,
// timed out, rejected credentials) is one cluster.read skip naming its
// context: one unreachable cluster is never the end of a fleet's run.
// Each scan has the whole of ctx: clusters run side by side, so none
// waits for another's share of the time.
func RunClusters(ctx context.Context, clusters []Cluster) *Outcome {
	outs := make([]*Outcome, len(clusters))
	bounded.ForEach(ctx, len(clusters), len(clusters), func(i int) {
		outs[i] = runCluster(ctx, clusters[i])
	}, nil)
	all := &Outcome{Inventory: &kube.Inventory{}}
	for _, out := range outs {
		all.Inventory.Workloads = append(all.Inventory.Workloads, out.Inventory.Workloads...)
		all.Inventory.Notes = append(all.Inventory.Notes, out.Inventory.Notes...)
		all.Inventory.NotFound = append(all.Inventory.NotFound, out.Inventory.NotFound...)
		all.Results, all.groups = append(all.Results, out.Results...), append(all.groups, out.groups...)
	}
	return all
}

// runCluster is one cluster's scan, its context written on everything it
// found (Config.Context).
func runCluster(ctx context.Context, c Cluster) *Outcome {
	err := c.Err
	var out *Outcome
	if err == nil {
		c.Config.Context = c.Context
		out, err = Run(ctx, c.Config)
	}
	if err != nil {
		n := unreadCluster(c.Context, err)
		out := &Outcome{Inventory: &kube.Inventory{Notes: []kube.Note{n}}}
		out.add(GroupRead, n.Result())
		return out
	}
	return out
}

// unreadCluster is the note for a context nothing could be read through.
func unreadCluster(name string, err error) kube.Note {
	n := kube.Note{Context: name, Resource: "cluster", Reason: report.ReasonUnreachable,
		Message: "context " + name + ": nothing could be read: " + err.Error(),
		Remedy:  "check the context with: kubectl --context " + name + " get pods"}
	var kerr *kube.Error
	if errors.As(err, &kerr) {
		n.Reason = kerr.Reason
		n.Message = "context " + name + ": " + kerr.Message
		if kerr.Remedy != "" {
			n.Remedy = kerr.Remedy
		}
	}
	return n
}
