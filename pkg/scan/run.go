package scan

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// Config is one scan of cluster workloads, built by a command from its
// flags (as stern builds its Config): what to read, how to ask the
// registries, and which node credentials apply.
type Config struct {
	// Source reads the cluster; never writes. A one-shot scan LISTs
	// through the API server (kube.Direct); serve reads through a
	// kube.Watcher, whose informers answer from their caches.
	Source kube.Source
	// Selections say which workloads: one for `scan`; a Helm release
	// gives one per namespace it deployed to.
	Selections []kube.Selection
	// Concurrency bounds registry lookups in flight (default 4).
	Concurrency int
	// Resolver asks the registries; nil leaves only the offline checks.
	Resolver Resolver
	// NodeProviders are the kubelets' credential providers from a config
	// file; nil turns on the built-in ones of the clouds the nodes'
	// spec.providerID names.
	NodeProviders []nodecreds.Provider
	// Newer, when set, reports workload.version (--newer).
	Newer *Newer
	// Context is the kubeconfig context Client reads through, set when a
	// run reads several (RunClusters): every workload, result and remedy
	// names it.
	Context string
	// LocalCredentials are the user's own for a host (Docker's config and
	// helpers, then Helm's): the digests of images only node credentials
	// serve are compared with them.
	LocalCredentials func(ctx context.Context, host string) []credentials.Credential
	// Audience is who reads the registry faults' fixes (Options.Audience).
	Audience remedy.Audience
}

// Outcome is what a scan found: the inventory read and its results, the
// cluster.read skips for what could not be read first. Of gives the
// results of one Group, for a caller that files them apart.
type Outcome struct {
	Inventory *kube.Inventory
	Results   []report.Result
	groups    []Group // the group of each of Results
}

// Of is the outcome's results made in group g, in their order.
func (o *Outcome) Of(g Group) []report.Result {
	var out []report.Result
	for i, r := range o.Results {
		if i < len(o.groups) && o.groups[i] == g {
			out = append(out, r)
		}
	}
	return out
}

// add appends rs to the outcome, all of group g.
func (o *Outcome) add(g Group, rs ...report.Result) {
	for _, r := range rs {
		o.Results = append(o.Results, r)
		o.groups = append(o.groups, g)
	}
}

// Run reads the selected workloads (one paginated LIST per resource) and
// checks them. With one selection the registry work starts from the
// workloads' templates while the pods are still being listed. The error,
// a *kube.Error, comes only when nothing could be read or the cluster
// rejected the credentials.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	reader := kube.NewPullSecretReader(cfg.Source)
	creds := FromPullSecrets(reader)
	var inv *kube.Inventory
	var warmer *Warmer
	var err error
	// The warmer's own context ends with a failed read, so its HEADs stop
	// instead of holding the error up.
	warmCtx, stopWarming := context.WithCancel(ctx)
	defer stopWarming()
	if len(cfg.Selections) == 1 && cfg.Selections[0].AllNamespaces {
		// Every namespace's Secrets in one LIST, started beside the
		// workloads' LISTs: the Warmer's first credentials are then in when
		// the templates are.
		reader.AllNamespaces()
		var readAhead sync.WaitGroup
		defer readAhead.Wait()
		defer stopWarming() // runs first: a failed read ends the LIST too
		readAhead.Go(func() { reader.ReadAhead(warmCtx) })
	}
	if len(cfg.Selections) == 1 {
		warmer = NewWarmer(creds, cfg.Resolver, cfg.Concurrency)
		var early func([]kube.Workload)
		if warmer != nil {
			early = func(templates []kube.Workload) { warmer.Start(warmCtx, templates) }
		}
		inv, err = kube.CollectEarly(ctx, cfg.Source, cfg.Selections[0], early)
	} else {
		inv, err = collectAll(ctx, cfg.Source, cfg.Selections)
	}
	if err != nil {
		stopWarming()
		warmer.Close()
		return nil, err
	}
	// The LISTs' objects (thousands of pods with their status and managed
	// fields) are garbage once grouped. Collected now, while the process
	// mostly waits on the registry, the next collection's goal follows what
	// the scan keeps (9 MiB of heap at 5,000 pods) rather than what it
	// read (about 47), and the heap of the rest of the run stays that much
	// smaller: make bench's peak RSS at 5,000 pods was 125-128 MiB with it,
	// 127-151 without.
	runtime.GC()
	inv.SetContext(cfg.Context)
	out := &Outcome{Inventory: inv}
	for _, n := range inv.Notes {
		out.add(GroupRead, n.Result())
	}
	found := checkAll(ctx, inv, creds, Options{
		Concurrency:     cfg.Concurrency,
		Audience:        cfg.Audience,
		Resolver:        cfg.Resolver,
		Warmer:          warmer,
		NodeCredentials: cfg.NodeCredentials(inv),
		Unreferenced:    reader.Unreferenced,
		Newer:           cfg.Newer,
	})
	out.Results, out.groups = append(out.Results, found.results...), append(out.groups, found.groups...)
	if cfg.Context != "" {
		for i := range out.Results {
			out.Results[i].Context = cfg.Context
		}
	}
	return out, nil
}

// NodeCredentials is what a check of inv needs to walk the kubelet's
// chain past the pull secrets; nil when no provider applies.
func (cfg Config) NodeCredentials(inv *kube.Inventory) *NodeCredentials {
	set := nodecreds.ForCluster(cfg.NodeProviders, inv.NodeProviderIDs, inv.Readable("nodes"))
	if set == nil {
		return nil
	}
	return &NodeCredentials{Providers: set, Local: cfg.LocalCredentials}
}

// collectAll collects each selection into one inventory, still sorted by
// namespace, kind and name when sels are in that order. A selection where
// nothing could be read is a note when another could be; the error comes
// when none could, or the credentials were rejected.
func collectAll(ctx context.Context, src kube.Source, sels []kube.Selection) (*kube.Inventory, error) {
	all := &kube.Inventory{}
	var failed []error
	for _, sel := range sels {
		inv, err := kube.Collect(ctx, src, sel)
		var kerr *kube.Error
		switch {
		case err == nil:
		case errors.As(err, &kerr) && kerr.Reason != report.ReasonInvalidCredentials:
			failed = append(failed, err)
			all.Notes = append(all.Notes, kube.Note{Resource: "workloads", Namespace: sel.Namespace, Reason: kerr.Reason, Message: kerr.Message, Remedy: kerr.Remedy})
			continue
		default:
			return nil, err
		}
		all.Workloads = append(all.Workloads, inv.Workloads...)
		all.Notes = append(all.Notes, inv.Notes...)
		all.Unread = append(all.Unread, inv.Unread...)
		if all.NodeProviderIDs == nil {
			all.NodeProviderIDs = inv.NodeProviderIDs
		}
	}
	if len(failed) == len(sels) && len(sels) > 0 {
		return nil, failed[0]
	}
	return all, nil
}
