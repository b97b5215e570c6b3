package cmd

import (
	"context"
	"sync"

	"github.com/distribution/reference"

	"github.com/regcheck/regcheck/pkg/credentials"
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
// short names), or false when it does not parse.
func registryHost(image string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", false
	}
	return reference.Domain(named), true
}

// checkAll probes targets with at most limit in flight, keeping their order
// in the output so it is stable from run to run.
func checkAll(ctx context.Context, p *probe.Prober, targets []probe.Target, limit int) []report.Result {
	out := make([][]report.Result, len(targets))
	sem := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = p.Check(ctx, t)
		}()
	}
	wg.Wait()
	var results []report.Result
	for _, r := range out {
		results = append(results, r...)
	}
	return results
}
