package cmd

import (
	"context"
	"sort"

	"github.com/spf13/pflag"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/scan"
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

// nodeProviderSet is the providers that apply: the flag's config, else
// the built-in ones of the clouds the nodes' spec.providerID names (nil
// when the nodes were not read or name none).
func (o *CommonOptions) nodeProviderSet(providerIDs map[string]string) *nodecreds.Set {
	if o.nodeProviders != nil {
		return nodecreds.FromConfig(o.nodeProviders)
	}
	nodes := make([]nodecreds.Node, 0, len(providerIDs))
	for name, id := range providerIDs {
		nodes = append(nodes, nodecreds.Node{Name: name, ProviderID: id})
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return nodecreds.FromNodes(nodes)
}

// nodeCredentials is what a scan of inv needs to walk the kubelet's chain
// past the pull secrets: the providers, and the user's own credentials
// per host (Docker's config and helpers, then Helm's) for the digests.
func (o *CommonOptions) nodeCredentials(inv *kube.Inventory) *scan.NodeCredentials {
	set := o.nodeProviderSet(inv.NodeProviderIDs)
	if set == nil {
		return nil
	}
	local := o.LocalCredentials()
	return &scan.NodeCredentials{
		Providers: set,
		Local: func(ctx context.Context, host string) []credentials.Credential {
			return local.Lookup(ctx, host).Credentials
		},
	}
}
