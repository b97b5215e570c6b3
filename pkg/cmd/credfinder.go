package cmd

import (
	"context"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/report"
)

// credentialFinder returns where an image's credentials come from: the
// cluster (as the kubelet picks them) when a cluster flag was given, else
// the local Docker and Helm configs.
func (o *AuthOptions) credentialFinder(ctx context.Context) (func(context.Context, string) credentials.Lookup, error) {
	if o.usesCluster() {
		return o.clusterCredentials(ctx)
	}
	local := o.LocalCredentials()
	return func(ctx context.Context, image string) credentials.Lookup {
		host, ok := registryHost(image)
		if !ok {
			// The probe reports the bad reference itself.
			return credentials.Lookup{}
		}
		return local.Lookup(ctx, host)
	}, nil
}

// registryHost is the registry an image reference names (docker.io for
// short names), or false when it does not parse. It reads the reference as
// the probe does (imageref.ParseChart: Helm's oci:// prefix too).
func registryHost(image string) (string, bool) {
	ref, err := imageref.ParseChart(image)
	if err != nil {
		return "", false
	}
	return ref.Registry, true
}

// checkAll probes targets with at most limit in flight, keeping their order
// in the output so it is stable from run to run.
func checkAll(ctx context.Context, p *probe.Prober, targets []probe.Target, limit int) []report.Result {
	out := make([][]report.Result, len(targets))
	bounded.ForEach(ctx, len(targets), limit, func(i int) { out[i] = p.Check(ctx, targets[i]) }, nil)
	var results []report.Result
	for _, r := range out {
		results = append(results, r...)
	}
	return results
}
