package cmd

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/serve"
)

// ServeOptions run scan on a schedule and serve its results as
// Prometheus metrics (SPEC "Continuous mode and fleets").
type ServeOptions struct {
	*CommonOptions
	Listen        string
	Interval      time.Duration
	AllNamespaces bool
	LabelSelector string
	RegistryQPS   float64
	WatchTimeout  time.Duration
	selection     kube.Selection
}

// NewServeOptions returns serve's defaults.
func NewServeOptions(common *CommonOptions) *ServeOptions {
	return &ServeOptions{CommonOptions: common, Listen: ":8080", Interval: 5 * time.Minute, RegistryQPS: 10}
}

// AddFlags binds serve's flags; -n and the kubeconfig flags are common.
func (o *ServeOptions) AddFlags(flags *pflag.FlagSet) {
	flags.StringVar(&o.Listen, "listen", o.Listen, "address to serve /metrics, /healthz and /readyz on (host:port; port 0 picks a free one)")
	flags.DurationVar(&o.Interval, "interval", o.Interval, "time between the end of one scan and the start of the next (stretched by up to 10% of jitter)")
	flags.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "scan every namespace (the default unless -n is given)")
	flags.StringVarP(&o.LabelSelector, "selector", "l", "", "label selector, as kubectl get -l")
	flags.Float64Var(&o.RegistryQPS, "registry-qps", o.RegistryQPS, "most requests a second to each registry host (0: no limit)")
	flags.DurationVar(&o.WatchTimeout, "watch-timeout", 0, "how long each cluster WATCH lasts before the next is opened, so a permission revoked is seen that soon (0: client-go's 5 to 10 minutes)")
}

// NewCmdServe builds `regcheck serve`.
func NewCmdServe(common *CommonOptions) *cobra.Command {
	o := NewServeOptions(common)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Scan on a schedule and serve the results as Prometheus metrics",
		Long: `Runs scan every --interval (with jitter; a scan never overlaps the next) over
every namespace, or -n's, and serves the last completed scan's results on
--listen: /metrics (Prometheus text: regcheck_result, regcheck_results,
regcheck_scan_duration_seconds, regcheck_last_scan_timestamp_seconds,
regcheck_scan_errors_total, regcheck_registry_requests_total), /healthz, and /readyz (ready once a scan has
completed). A failed scan keeps the last results. In a pod it reads the cluster
with the pod's ServiceAccount; elsewhere with the kubeconfig. Each resource is
listed once and watched from then on: a rescan reads no object again. Each scan is
bounded by --timeout. SIGTERM or Ctrl-C shuts it down gracefully.`,
		Example: `  kubectl regcheck serve --listen :8080 --interval 10m
  kubectl regcheck serve -n shop -l tier=web --interval 1m`,
		Args: cobra.NoArgs,
		RunE: execute(o),
	}
	o.AddFlags(c.Flags())
	return c
}

// Complete decides the namespaces: all of them unless -n (or Helm's
// namespace) names one. The kubeconfig's or the pod's own namespace does
// not narrow a continuous scan.
func (o *ServeOptions) Complete(c *cobra.Command, _ []string) error {
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	ns := ""
	if o.ConfigFlags.Namespace != nil {
		ns = *o.ConfigFlags.Namespace
	}
	o.selection = kube.Selection{Namespace: ns, AllNamespaces: o.AllNamespaces || ns == ""}
	return nil
}

// watchedNamespace is the namespace the watcher covers: all of them
// unless -n narrows the scan.
func (o *ServeOptions) watchedNamespace() string {
	if o.selection.AllNamespaces {
		return ""
	}
	return o.selection.Namespace
}

// Validate checks the flags and parses the label selector.
func (o *ServeOptions) Validate() error {
	if err := o.CommonOptions.Validate(); err != nil {
		return err
	}
	if o.Interval <= 0 {
		return cannotRun("--interval must be positive")
	}
	if o.WatchTimeout < 0 || (o.WatchTimeout > 0 && o.WatchTimeout < time.Second) {
		return cannotRun("--watch-timeout must be 0 or at least 1s")
	}
	if o.RegistryQPS < 0 {
		return cannotRun("--registry-qps must not be negative")
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cannotRun("--listen %q: %v", o.Listen, err)
	}
	sel, err := parseSelector(o.LabelSelector)
	if err != nil {
		return err
	}
	o.selection.LabelSelector = sel
	return nil
}

// Run listens, then scans and serves until the context ends (SIGTERM).
func (o *ServeOptions) Run(ctx context.Context) error {
	// Between scans the cluster is watched, not listed again: the
	// watcher's informers are every scan's source.
	cfg, err := o.restConfig(false)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return cannotRun("building a Kubernetes client: %v", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return cannotRun("building a Kubernetes metadata client: %v", err)
	}
	watcher := kube.NewWatcher(client, meta, o.watchedNamespace(), o.WatchTimeout)
	defer watcher.Close()
	l, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return cannotRun("listening on %s: %v", o.Listen, err)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.ErrOut, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
	logf("serving /metrics, /healthz and /readyz on http://%s", l.Addr())
	collector := serve.NewCollector()
	// One registry client for every scan: its tokens last as long as the
	// registry says (expires_in), a Retry-After holds across scans, and
	// each host is asked at most --registry-qps times a second.
	resolver, err := o.registryClient(func(opts *registry.Options) {
		opts.QPS = o.RegistryQPS
		opts.HoldRetryAfter = true
		opts.Observe = func(r registry.Request) { collector.CountRequest(r.Host, r.Kind, r.Code) }
	})
	if err != nil {
		return err
	}
	defer resolver.CloseIdleConnections()
	loop := &serve.Loop{
		Interval:  o.Interval,
		Collector: collector,
		Logf:      logf,
		Scan: func(ctx context.Context) ([]report.Result, error) {
			ctx, cancel := o.Context(ctx)
			defer cancel()
			resolver.NewScan()
			out, err := o.runScanWith(ctx, watcher, resolver, o.selection)
			if err != nil {
				return nil, err
			}
			return out.Results, nil
		},
	}
	if err := serve.Run(ctx, l, loop); err != nil {
		return cannotRun("%v", err)
	}
	logf("shut down")
	return nil
}
