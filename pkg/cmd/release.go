package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/helmrelease"
	"github.com/regcheck/regcheck/pkg/report"
)

// ReleaseOptions scan the workloads of one Helm release's manifest.
type ReleaseOptions struct {
	*CommonOptions
	Name      string
	Namespace string
	Driver    string // Helm's storage driver ($HELM_DRIVER)
}

// NewReleaseOptions returns release's defaults.
func NewReleaseOptions(common *CommonOptions) *ReleaseOptions {
	return &ReleaseOptions{CommonOptions: common}
}

// NewCmdRelease builds `helm regcheck release NAME`.
func NewCmdRelease(common *CommonOptions) *cobra.Command {
	o := NewReleaseOptions(common)
	c := &cobra.Command{
		Use:   "release NAME",
		Short: "Scan the images of a Helm release's rendered manifest",
		Long: `Reads the release's latest revision through Helm's own storage driver
($HELM_DRIVER, default secret: this needs get/list on secrets in the release's
namespace) and runs scan on the Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs, ReplicationControllers and Pods of its manifest.
Other workloads in the namespace are not looked at. Only reads from the cluster.`,
		Example: `  helm regcheck release web -n shop
  helm regcheck release web -n shop -o markdown > incident.md`,
		Args: cobra.ExactArgs(1),
		RunE: execute(o),
	}
	o.addNodeCredentialFlag(c.Flags())
	o.addNewerFlag(c.Flags())
	return c
}

// Complete resolves the namespace (HELM_NAMESPACE under Helm) and driver.
func (o *ReleaseOptions) Complete(c *cobra.Command, args []string) error {
	o.Name = args[0]
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return cannotRun("reading kubeconfig: %v", err)
	}
	o.Namespace = ns
	o.Driver = o.Getenv("HELM_DRIVER")
	return nil
}

// Validate checks the flags.
func (o *ReleaseOptions) Validate() error {
	if o.Name == "" {
		return cannotRun("give the release name")
	}
	if err := o.loadNodeProviders(); err != nil {
		return err
	}
	return o.CommonOptions.Validate()
}

// Run reads the release, collects its workloads and scans them as scan does.
func (o *ReleaseOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	opts := helmrelease.Options{Driver: o.Driver}
	if o.Debug {
		opts.Log = func(format string, v ...any) { fmt.Fprintf(o.ErrOut, "helm: "+format+"\n", v...) }
	}
	rel, err := helmrelease.Get(ctx, o.ConfigFlags, o.Namespace, o.Name, opts)
	if err != nil {
		return releaseError(err)
	}
	if rel.Status != "" && rel.Status != "deployed" {
		fmt.Fprintf(o.ErrOut, "warning: release %s revision %d is %s\n", rel.Name, rel.Revision, rel.Status)
	}
	sels := rel.Selections()
	if len(sels) == 0 {
		fmt.Fprintf(o.ErrOut, "note: release %s (revision %d) has no workloads\n", rel.Name, rel.Revision)
		return o.Print(report.New(report.KindScan, nil))
	}

	client, err := o.kubeClient()
	if err != nil {
		return err
	}
	out, err := o.runScan(ctx, client, sels...)
	if err != nil {
		return err
	}
	inv := out.Inventory
	for _, m := range rel.Missing(inv) {
		fmt.Fprintf(o.ErrOut, "warning: %s of release %s is not in namespace %s\n", m, rel.Name, m.Namespace)
	}
	results := out.Results
	for i := range results {
		if results[i].Evidence == nil {
			results[i].Evidence = report.Evidence{}
		}
		results[i].Evidence["release"] = rel.Name
		results[i].Evidence["releaseRevision"] = rel.Revision
	}
	return o.Print(report.New(report.KindScan, results))
}

// releaseError turns helmrelease's typed errors into exit-2 messages that
// say what to do.
func releaseError(err error) error {
	var notFound *helmrelease.NotFoundError
	var forbidden *helmrelease.ForbiddenError
	switch {
	case errors.As(err, &notFound):
		return cannotRun("%v (helm list -n %s lists the releases there)", notFound, notFound.Namespace)
	case errors.As(err, &forbidden):
		return cannotRun("%v; ask for get and list on %s in namespace %s, or use a context that has them", forbidden, forbidden.Resource, forbidden.Namespace)
	}
	return cannotRun("%v", err)
}
