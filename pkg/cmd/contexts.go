package cmd

import (
	"context"
	"slices"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/scan"
)

// contextFlags are --contexts and --all-contexts (scan, doctor): one run
// over several kubeconfig contexts, side by side.
type contextFlags struct {
	names []string
	all   bool
}

// addContextFlags binds --contexts and --all-contexts.
func (o *CommonOptions) addContextFlags(flags *pflag.FlagSet) {
	flags.StringSliceVar(&o.contexts.names, "contexts", nil, "kubeconfig contexts to read side by side (comma-separated); every result names its context")
	flags.BoolVar(&o.contexts.all, "all-contexts", false, "read every context of the kubeconfig, side by side")
}

// manyContexts reports whether --contexts or --all-contexts was given.
func (o *CommonOptions) manyContexts() bool {
	return len(o.contexts.names) > 0 || o.contexts.all
}

// validateContexts refuses what cannot mean one thing: --context with
// --contexts or --all-contexts, both of those, or a context named twice.
// Under Helm, HELM_KUBECONTEXT is Helm's default, not a choice: it gives
// way (fromHelmEnv does not apply it).
func (o *CommonOptions) validateContexts(flags *pflag.FlagSet) error {
	if !o.manyContexts() {
		return nil
	}
	if len(o.contexts.names) > 0 && o.contexts.all {
		return cannotRun("--contexts and --all-contexts are exclusive: give one")
	}
	if flags.Changed("context") {
		return cannotRun("--context reads one context; --contexts and --all-contexts read several: give one of them")
	}
	seen := map[string]bool{}
	for _, n := range o.contexts.names {
		if n == "" {
			return cannotRun("--contexts: an empty context name")
		}
		if seen[n] {
			return cannotRun("--contexts: %q is named twice", n)
		}
		seen[n] = true
	}
	return nil
}

// contextNames are the contexts to read, in the order given (--contexts)
// or by name (--all-contexts). A named context the kubeconfig lacks is
// an error before any cluster is asked, as kubectl --context says.
func (o *CommonOptions) contextNames() ([]string, error) {
	raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, cannotRun("reading kubeconfig: %v", err)
	}
	if o.contexts.all {
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		slices.Sort(names)
		if len(names) == 0 {
			return nil, cannotRun("--all-contexts: the kubeconfig has no contexts")
		}
		return names, nil
	}
	for _, n := range o.contexts.names {
		if _, ok := raw.Contexts[n]; !ok {
			return nil, cannotRun("context %q does not exist in the kubeconfig", n)
		}
	}
	return o.contexts.names, nil
}

// forContext is the kubeconfig flags with --context set to name: every
// other flag (--kubeconfig, -n, --as, --request-timeout, ...) applies to
// each context as it would to one.
func (o *CommonOptions) forContext(name string) *CommonOptions {
	src := o.ConfigFlags
	cf := genericclioptions.NewConfigFlags(true)
	cf.CacheDir, cf.KubeConfig = src.CacheDir, src.KubeConfig
	cf.ClusterName, cf.AuthInfoName, cf.Namespace, cf.APIServer = src.ClusterName, src.AuthInfoName, src.Namespace, src.APIServer
	cf.TLSServerName, cf.Insecure, cf.CertFile, cf.KeyFile, cf.CAFile = src.TLSServerName, src.Insecure, src.CertFile, src.KeyFile, src.CAFile
	cf.BearerToken, cf.Impersonate, cf.ImpersonateUID, cf.ImpersonateGroup = src.BearerToken, src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup
	cf.ImpersonateUserExtra, cf.Username, cf.Password, cf.Timeout = src.ImpersonateUserExtra, src.Username, src.Password, src.Timeout
	cf.DisableCompression, cf.ProxyURL, cf.WrapConfigFn = src.DisableCompression, src.ProxyURL, src.WrapConfigFn
	cf.Context = &name
	one := *o
	one.ConfigFlags = cf
	one.contexts = contextFlags{}
	return &one
}

// clusters are the per-context scans of sel: each context's client and
// its own namespace (a context's default namespace applies to it unless
// -n or -A was given).
func (o *CommonOptions) clusters(names []string, resolver scan.Resolver, sel kube.Selection, namespaced bool) []scan.Cluster {
	out := make([]scan.Cluster, len(names))
	for i, name := range names {
		one := o.forContext(name)
		out[i].Context = name
		s := sel
		if namespaced {
			ns, _, err := one.ConfigFlags.ToRawKubeConfigLoader().Namespace()
			if err != nil {
				out[i].Err = err
				continue
			}
			s.Namespace = ns
		}
		client, err := one.kubeClient()
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Config = o.scanConfig(kube.Direct(client), resolver, s)
	}
	return out
}

// runScanContexts is runScan over every context of --contexts or
// --all-contexts.
// --all-contexts. The contexts share one registry client: its tokens and
// connections serve them all.
func (o *CommonOptions) runScanContexts(ctx context.Context, sel kube.Selection) (*scan.Outcome, error) {
	names, err := o.contextNames()
	if err != nil {
		return nil, err
	}
	resolver, err := o.RegistryClient()
	if err != nil {
		return nil, err
	}
	defer resolver.CloseIdleConnections()
	out := scan.RunClusters(ctx, o.clusters(names, resolver, sel, !sel.AllNamespaces))
	o.warnNotes(out.Inventory)
	return out, nil
}
