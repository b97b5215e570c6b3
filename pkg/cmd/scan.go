package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/scan"
)

// ScanOptions compare what the selected workloads run with what their
// registries serve now.
type ScanOptions struct {
	*CommonOptions
	AllNamespaces bool
	LabelSelector string
	selection     kube.Selection
}

// NewScanOptions returns scan's defaults.
func NewScanOptions(common *CommonOptions) *ScanOptions {
	return &ScanOptions{CommonOptions: common}
}

// AddFlags binds -A and -l, as kubectl get does.
func (o *ScanOptions) AddFlags(flags *pflag.FlagSet) {
	flags.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "scan workloads in every namespace")
	flags.StringVarP(&o.LabelSelector, "selector", "l", "", "label selector, as kubectl get -l")
	o.addNodeCredentialFlag(flags)
	o.addNewerFlag(flags)
	o.addContextFlags(flags)
}

// NewCmdScan builds `regcheck scan [TYPE[/NAME]...]`.
func NewCmdScan(common *CommonOptions) *cobra.Command {
	o := NewScanOptions(common)
	c := &cobra.Command{
		Use:   "scan [TYPE[/NAME]...]",
		Short: "Compare the digests workloads run with what their tags point to now",
		Long: `For every container (init containers included) of the selected Deployments,
StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers and bare Pods:
the credentials the kubelet would use, pull authorization, the digests its pods
run (status.containerStatuses[].imageID), the digest its reference resolves to
now (multi-arch indexes included), and a verdict: Current, Stale, Mixed, Pinned,
NotRunning, and risky pull policies. Only reads from the cluster.`,
		Example: `  kubectl regcheck -A
  kubectl regcheck scan deploy/web sts/db -n shop -o wide
  kubectl regcheck scan -l app=api -o markdown > incident.md`,
		RunE:              execute(o),
		ValidArgsFunction: completeWorkloads(common),
	}
	o.AddFlags(c.Flags())
	return c
}

// Complete resolves the namespace and the positional targets.
func (o *ScanOptions) Complete(c *cobra.Command, args []string) error {
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
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return cannotRun("reading kubeconfig: %v", err)
	}
	o.selection = kube.Selection{Namespace: ns, AllNamespaces: o.AllNamespaces, Targets: targets}
	return nil
}

// Validate checks the flags and parses the label selector.
func (o *ScanOptions) Validate() error {
	if err := o.CommonOptions.Validate(); err != nil {
		return err
	}
	sel, err := parseSelector(o.LabelSelector)
	if err != nil {
		return err
	}
	if err := o.loadNodeProviders(); err != nil {
		return err
	}
	o.selection.LabelSelector = sel
	return nil
}

// parseSelector parses -l as the API server would, so a selector that
// does not parse ends here, with labels.Parse's words and exit 2, before
// the cluster is asked. Empty selects everything.
func parseSelector(s string) (labels.Selector, error) {
	if s == "" {
		return labels.Everything(), nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, cannotRun("invalid label selector %q: %v", s, err)
	}
	return sel, nil
}

// Run reads the cluster, resolves each unique image once and prints a
// ScanReport. The registry work starts from the workloads' templates while
// the pods are still being listed.
func (o *ScanOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	out, err := o.scan(ctx)
	if err != nil {
		return err
	}
	inv := out.Inventory
	r := report.New(report.KindScan, out.Results)
	table := o.Output == "table" || o.Output == "wide"
	if len(inv.Workloads) == 0 && len(inv.NotFound) == 0 && (table || o.Output == "markdown") {
		// kubectl get's words, on stderr, for a person reading a table.
		if o.selection.AllNamespaces {
			fmt.Fprintln(o.ErrOut, "No resources found")
		} else {
			fmt.Fprintf(o.ErrOut, "No resources found in %s namespace.\n", namespaceOrDefault(o.selection.Namespace))
		}
	}
	if len(r.Results) == 0 && table {
		err = nil // kubectl prints no empty table either
	} else {
		err = o.Print(r)
	}
	if len(inv.NotFound) == 0 {
		return err
	}
	// Named workloads that do not exist, after what was found, as kubectl
	// get prints them (its cmdutil.StandardErrorMessage, not imported for a
	// format string: k8s.io/kubectl's cmd/util pulls in most of kubectl).
	for _, nf := range inv.NotFound {
		fmt.Fprintf(o.ErrOut, "Error from server (%s): %v\n", apierrors.ReasonForError(nf), nf)
	}
	var exit *ExitError
	if errors.As(err, &exit) && exit.Err != nil {
		return err
	}
	return &ExitError{Code: report.ExitCannotRun}
}

// scan reads the selection through one context, or through each of
// --contexts side by side.
func (o *ScanOptions) scan(ctx context.Context) (*scan.Outcome, error) {
	if o.manyContexts() {
		return o.runScanContexts(ctx, o.selection)
	}
	client, err := o.kubeClient()
	if err != nil {
		return nil, err
	}
	return o.runScan(ctx, client, o.selection)
}

// namespaceOrDefault is the namespace a LIST without -A reads.
func namespaceOrDefault(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// runScan builds the scan engine's Config from the flags and runs it over
// sels; what could not be read is warned about on stderr too. scan and
// release share it.
func (o *CommonOptions) runScan(ctx context.Context, client kubernetes.Interface, sels ...kube.Selection) (*scan.Outcome, error) {
	resolver, err := o.RegistryClient()
	if err != nil {
		return nil, err
	}
	// Nothing outlives the run: its idle registry connections end with it.
	defer resolver.CloseIdleConnections()
	return o.runScanWith(ctx, kube.Direct(client), resolver, sels...)
}

// runScanWith is runScan with a registry client the caller keeps (serve
// keeps one across scans, for its tokens and Retry-After).
func (o *CommonOptions) runScanWith(ctx context.Context, src kube.Source, resolver *registry.Client, sels ...kube.Selection) (*scan.Outcome, error) {
	out, err := scan.Run(ctx, o.scanConfig(src, resolver, sels...))
	if err != nil {
		return nil, clusterError(err)
	}
	o.warnNotes(out.Inventory)
	return out, nil
}

// warnNotes repeats on stderr what could not be read.
func (o *CommonOptions) warnNotes(inv *kube.Inventory) {
	for _, n := range inv.Notes {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", n.Message)
	}
}

// scanConfig is the scan engine's Config the flags describe.
func (o *CommonOptions) scanConfig(src kube.Source, resolver scan.Resolver, sels ...kube.Selection) scan.Config {
	local := o.LocalCredentials()
	return scan.Config{
		Source:        src,
		Selections:    sels,
		Concurrency:   o.Concurrency,
		Resolver:      resolver,
		NodeProviders: o.nodeProviders,
		Newer:         o.newerScan(),
		Audience:      o.audience(),
		LocalCredentials: func(ctx context.Context, host string) []credentials.Credential {
			return local.Lookup(ctx, host).Credentials
		},
	}
}

// clusterError is Collect's error as exit 2: the reason, what could not
// be read and why, and a hint.
func clusterError(err error) error {
	var kerr *kube.Error
	if errors.As(err, &kerr) {
		return &ExitError{Code: report.ExitCannotRun, Err: fmt.Errorf("reading the cluster: %s: %w", kerr.Reason, kerr), Hint: kerr.Remedy}
	}
	return cannotRun("reading the cluster: %v", err)
}

// kubeClient builds a clientset from the kubeconfig flags. The rate limits
// are raised from client-go's defaults (5 QPS) because a scan makes a
// handful of paginated LISTs, never a request per object. Without
// kubectl's --request-timeout, each request gets a share of --timeout, so
// one slow LIST ends as a skipped resource with time left for the rest.
func (o *CommonOptions) kubeClient() (kubernetes.Interface, error) {
	return o.kubeClientTimed(true)
}

// kubeClientTimed is kubeClient; without timed, no request is timed out
// by the client (a watch is one long request: serve's informers).
func (o *CommonOptions) kubeClientTimed(timed bool) (kubernetes.Interface, error) {
	cfg, err := o.restConfig(timed)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, cannotRun("building a Kubernetes client: %v", err)
	}
	return client, nil
}

// restConfig is the kubeconfig's REST config as regcheck's clients use it:
// timed as kubeClientTimed says, at 50 requests a second, in protobuf,
// over one connection (kube.OneDialFirst).
func (o *CommonOptions) restConfig(timed bool) (*rest.Config, error) {
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, cannotRun("reading kubeconfig: %v", err)
	}
	switch {
	case !timed:
		cfg.Timeout = 0
	case cfg.Timeout <= 0:
		cfg.Timeout = requestTimeout(o.Timeout)
	}
	cfg.QPS, cfg.Burst = 50, 100
	// Protobuf decodes a LIST of thousands of pods several times faster
	// than JSON; every built-in kind the scan reads is served in it.
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.UserAgent = "kubectl-regcheck"
	// The LISTs start together; one TLS handshake serves them all.
	cfg.Wrap(kube.OneDialFirst)
	return cfg, nil
}
