package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/report"
)

// nodeCredentialFlag is the flag naming the kubelet's credential provider
// config, as the kubelet names its own.
const nodeCredentialFlag = "image-credential-provider-config"

// addNodeCredentialFlag binds --image-credential-provider-config for the
// commands that read workloads (scan, release, doctor, creds).
func (o *CommonOptions) addNodeCredentialFlag(flags *pflag.FlagSet) {
	flags.StringVar(&o.ImageCredentialProviderConfig, nodeCredentialFlag, "",
		"the kubelet's CredentialProviderConfig (kubelet.config.k8s.io/v1): images its providers' matchImages cover are pulled with the node's identity; without it, nodes whose spec.providerID names aws, gce or azure turn on that cloud's registries")
}

// loadNodeProviders reads the flag's config once; a file the kubelet would
// refuse is exit 2, with the reason named.
func (o *CommonOptions) loadNodeProviders() error {
	if o.ImageCredentialProviderConfig == "" || o.nodeProviders != nil {
		return nil
	}
	providers, err := nodecreds.LoadConfig(o.ImageCredentialProviderConfig)
	if err != nil {
		return cannotRun("--%s: %v", nodeCredentialFlag, err)
	}
	o.nodeProviders = providers
	return nil
}

// nodeListTimeout bounds creds' one nodes LIST: creds is a local command,
// and a cluster that does not answer must not hold it up.
const nodeListTimeout = 5 * time.Second

// nodeProviderIDs reads the nodes' spec.providerID for creds, when a
// kubeconfig is there (nothing, silently, when none is); a LIST that fails
// is a cluster.read skip, never a crash.
func (o *CommonOptions) nodeProviderIDs(ctx context.Context) (map[string]string, *report.Result) {
	if !o.clusterConfigured() {
		return nil, nil // no cluster configured: creds stays local
	}
	client, err := o.kubeClient()
	if err != nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, nodeListTimeout)
	defer cancel()
	ids, note := kube.NodeProviderIDs(ctx, client,
		"the credential providers their spec.providerID turns on are unknown (give --"+nodeCredentialFlag+" to name them)")
	if note != nil {
		r := note.Result()
		return nil, &r
	}
	return ids, nil
}

// providerResults are creds' listing of the credential providers that
// apply: the flag's config, else those the nodes' providerIDs turn on.
func (o *CommonOptions) providerResults(ctx context.Context) []report.Result {
	var out []report.Result
	set := nodecreds.FromConfig(o.nodeProviders)
	if o.nodeProviders == nil {
		ids, note := o.nodeProviderIDs(ctx)
		if note != nil {
			out = append(out, *note)
		}
		set = nodecreds.ForCluster(nil, ids, true) // unread nodes: the note above says so
	}
	for _, p := range set.Providers() {
		who := "every node"
		if p.Nodes != nil {
			who = "node " + strings.Join(p.Nodes, ", ")
		}
		ev := report.Evidence{"matchImages": p.MatchImages, "from": p.From}
		if p.Nodes != nil {
			ev["nodes"] = p.Nodes
		}
		out = append(out, report.Result{
			Check: report.CheckRegistryCredentials, Status: report.StatusSkip, Reason: report.ReasonNodeCredentials,
			Message: fmt.Sprintf("credential provider %s (from %s) serves %s on %s: the kubelet pulls images no pull secret matches with the node's identity, which regcheck cannot use (it compares their digests with your own login)",
				p.Name, p.From, strings.Join(p.MatchImages, ", "), who),
			CredentialSource: p.Source(),
			Evidence:         ev,
		})
	}
	return out
}

// clusterConfigured reports whether the user has a cluster to ask: a
// kubeconfig context, --server, or a pod's in-cluster config. Without
// one client-go would try localhost:8080, as kubectl does, and creds
// would report a refusal from a cluster the user never named.
func (o *CommonOptions) clusterConfigured() bool {
	if o.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return true
	}
	if f := o.ConfigFlags; f != nil && f.APIServer != nil && *f.APIServer != "" {
		return true
	}
	if o.ConfigFlags == nil {
		return false
	}
	raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	return err == nil && len(raw.Contexts) > 0
}
