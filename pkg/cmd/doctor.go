package cmd

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/doctor"
	"github.com/regcheck/regcheck/pkg/helmclient"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
)

// DoctorOptions run the whole registry debug checklist.
type DoctorOptions struct {
	*CommonOptions
	Images        []string
	PushTargets   []string
	Registries    []string
	Only, Skip    []string
	AllNamespaces bool
	LabelSelector string

	targets []kube.Target
	cfg     doctor.Config
}

// NewCmdDoctor builds `regcheck doctor`.
func NewCmdDoctor(common *CommonOptions) *cobra.Command {
	o := &DoctorOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:   "doctor [--image REF]... [--push-target REF]... [--registry HOST]... [TYPE/NAME]...",
		Short: "Run the whole registry debug checklist as named checks with evidence and remedies",
		Long: `Runs the checklist people walk by hand when pulls, pushes or bundle fetches
fail, in order: reachable (DNS, TCP, TLS, GET /v2/), credentials (method, source,
completeness, a real authenticated exchange), pull (each --image), push (each
--push-target; an upload session is started and cancelled, nothing is written),
reference (bare digests, missing tags, a repository that does not exist and the
closest names the registry lists), staleness and workload-settings (for the
named workloads: stale digests, and registry references in env vars and
ConfigMaps), and rate-limit (the limit headers on manifest HEADs). Under Helm, helm-version comes first:
the Helm release running the plugin and its known OCI registry bugs.

No cluster is needed unless workloads are named (TYPE/NAME, -l or -A).
-o markdown writes an incident report: what each check does, why it matters,
how to fix it and how to verify the fix. Check IDs for --only and --skip:
` + joinIDs(),
		Example: `  kubectl regcheck doctor --image ghcr.io/acme/bundles/smoke-bundle:1.0
  kubectl regcheck doctor --push-target oci://registry.example.com/charts --registry registry.example.com
  kubectl regcheck doctor deploy/worker -n ml --image registry.example.com/modelops-bundles:latest -o markdown
  kubectl regcheck doctor --registry registry.example.com --only reachable,credentials`,
		RunE: execute(o),
	}
	f := c.Flags()
	f.StringArrayVar(&o.Images, "image", nil, "image reference to check for pull (repeatable)")
	f.StringArrayVar(&o.PushTargets, "push-target", nil, "oci://HOST/PATH or image repository to check for push (repeatable; nothing is written)")
	f.StringArrayVar(&o.Registries, "registry", nil, "registry host to check for reachability and credentials (repeatable)")
	f.StringSliceVar(&o.Only, "only", nil, "run only these checks (comma-separated IDs)")
	f.StringSliceVar(&o.Skip, "skip", nil, "skip these checks (comma-separated IDs)")
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "check workloads in every namespace")
	f.StringVarP(&o.LabelSelector, "selector", "l", "", "check workloads matching this label selector")
	o.addNodeCredentialFlag(f)
	o.addNewerFlag(f)
	o.addContextFlags(f)
	return c
}

func joinIDs() string { return strings.Join(doctor.IDs, ", ") }

// Complete reads the targets and builds the engine's configuration.
func (o *DoctorOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	if err := o.validateContexts(c.Flags()); err != nil {
		return err
	}
	targets, err := kube.ParseTargets(args)
	if err != nil {
		return cannotRun("%v", err)
	}
	o.targets = targets
	checks, err := doctor.ParseChecks(o.Only, o.Skip)
	if err != nil {
		return cannotRun("%v", err)
	}
	cmdName := "kubectl regcheck"
	if o.HelmMode {
		cmdName = "helm regcheck"
	}
	o.cfg = doctor.Config{
		Images: o.Images, PushTargets: o.PushTargets, Registries: o.Registries,
		Checks: checks, Concurrency: o.Concurrency, Command: cmdName, Flags: o.verifyFlags(), Audience: o.audience(),
		Dial: doctor.DialOptions{PlainHTTP: o.PlainHTTP, InsecureSkipTLSVerify: o.InsecureSkipTLSVerify,
			CAFile: o.CAFile, Timeout: requestTimeout(o.Timeout)},
	}
	if o.usesCluster() {
		// Only now: without workloads the doctor must run with no kubeconfig.
		ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return cannotRun("reading kubeconfig: %v", err)
		}
		o.cfg.Workloads = &kube.Selection{Namespace: ns, AllNamespaces: o.AllNamespaces, Targets: targets}
	}
	return nil
}

// usesCluster reports whether workloads were selected.
func (o *DoctorOptions) usesCluster() bool {
	return len(o.targets) > 0 || o.AllNamespaces || o.LabelSelector != ""
}

// verifyFlags are the flags a rerun needs to see the same registry.
func (o *DoctorOptions) verifyFlags() []string {
	var out []string
	if o.PlainHTTP {
		out = append(out, "--plain-http")
	}
	if o.CAFile != "" {
		out = append(out, "--ca-file", o.CAFile)
	}
	if o.newer.scope.set { // a rerun without it would not show workload.version
		out = append(out, "--newer="+string(o.newer.scope.scope))
	}
	return out
}

// Validate checks the flags.
func (o *DoctorOptions) Validate() error {
	if err := o.CommonOptions.Validate(); err != nil {
		return err
	}
	if len(o.Images)+len(o.PushTargets)+len(o.Registries) == 0 && !o.usesCluster() {
		return cannotRun("nothing to check: give --image, --push-target, --registry or workloads (TYPE/NAME, -l, -A)")
	}
	if o.manyContexts() && !o.usesCluster() {
		return cannotRun("--contexts and --all-contexts read workloads: name them (TYPE/NAME, -l or -A)")
	}
	sel, err := parseSelector(o.LabelSelector)
	if err != nil {
		return err
	}
	if err := o.loadNodeProviders(); err != nil {
		return err
	}
	if o.cfg.Workloads != nil {
		o.cfg.Workloads.LabelSelector = sel
	}
	return nil
}

// clusterDeps lets the doctor read workloads and ConfigMaps through one
// context, or through each of --contexts side by side.
func (o *DoctorOptions) clusterDeps(deps *doctor.Deps, resolver scan.Resolver) error {
	resolverFor := func(withRegistry bool) scan.Resolver {
		if withRegistry {
			return resolver
		}
		return nil
	}
	if !o.manyContexts() {
		kc, err := o.kubeClient()
		if err != nil {
			return err
		}
		deps.Workloads = func(ctx context.Context, withRegistry bool) (*scan.Outcome, error) {
			return scan.Run(ctx, o.scanConfig(kube.Direct(kc), resolverFor(withRegistry), *o.cfg.Workloads))
		}
		deps.ConfigMaps = func(ctx context.Context, _, ns string) (map[string]map[string]string, error) {
			return kube.ConfigMapData(ctx, kc, ns)
		}
		return nil
	}
	names, err := o.contextNames()
	if err != nil {
		return err
	}
	deps.Workloads = func(ctx context.Context, withRegistry bool) (*scan.Outcome, error) {
		clusters := o.clusters(names, resolverFor(withRegistry), *o.cfg.Workloads, !o.AllNamespaces)
		return scan.RunClusters(ctx, clusters), nil
	}
	deps.ConfigMaps = func(ctx context.Context, kubeContext, ns string) (map[string]map[string]string, error) {
		kc, err := o.forContext(kubeContext).kubeClient()
		if err != nil {
			return nil, err
		}
		return kube.ConfigMapData(ctx, kc, ns)
	}
	return nil
}

// Run runs the checklist and prints a DoctorReport.
func (o *DoctorOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	client, err := o.RegistryClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections() // nothing of the run outlives it
	deps := doctor.Deps{Registry: client, Credentials: o.LocalCredentials().Lookup}
	if o.HelmMode {
		bin := o.Getenv("HELM_BIN")
		deps.HelmVersion = func(ctx context.Context) []report.Result {
			results, _ := helmclient.Check(ctx, bin) // every command: the doctor checks pulls and pushes
			return results
		}
	}
	if o.cfg.Workloads != nil {
		if err := o.clusterDeps(&deps, client); err != nil {
			return err
		}
	}
	results, err := doctor.Run(ctx, o.cfg, deps)
	if err != nil {
		return clusterError(err)
	}
	return o.Print(report.New(report.KindDoctor, results))
}
