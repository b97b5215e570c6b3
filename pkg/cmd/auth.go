package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// AuthOptions verify pull (and push) authorization for image references.
type AuthOptions struct {
	*CommonOptions
	Images         []string
	Push           bool
	ServiceAccount string
	PullSecrets    []string

	// workload is who holds cluster credentials (--service-account,
	// --pull-secret): remedies lead with the fix in that namespace.
	workload *remedy.Workload
}

// NewCmdAuth builds `regcheck auth IMAGE...`.
func NewCmdAuth(common *CommonOptions) *cobra.Command {
	o := &AuthOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:   "auth IMAGE...",
		Short: "Verify that pulling (and with --push, pushing) each image would be authorized",
		Long: `Walks the registry's real auth flow for each image: /v2/ ping, the
WWW-Authenticate challenge, a token exchange with the exact scope, a manifest
HEAD, and with --push a blob-upload start that is cancelled at once, so nothing
is written. Credentials come from the local Docker and Helm configs, or, with
--service-account / --pull-secret, from the cluster as the kubelet would use them.`,
		Example: `  kubectl regcheck auth ghcr.io/acme/api:1.4.2
  kubectl regcheck auth registry.example.com/team/app:latest --push
  kubectl regcheck auth registry.example.com/team/app:1.0 -n shop --service-account deployer`,
		Args: cobra.MinimumNArgs(1),
		RunE: execute(o),
	}
	c.Flags().BoolVar(&o.Push, "push", false, "also check push authorization (starts a blob upload and cancels it)")
	c.Flags().StringVar(&o.ServiceAccount, "service-account", "", "use the pull secrets of this ServiceAccount (cluster credentials, as the kubelet would)")
	c.Flags().StringSliceVar(&o.PullSecrets, "pull-secret", nil, "use this imagePullSecret (repeatable; cluster credentials)")
	return c
}

// Complete reads the images and the environment.
func (o *AuthOptions) Complete(c *cobra.Command, args []string) error {
	o.Images = args
	return o.CommonOptions.Complete(c.Flags())
}

// Validate checks the flags.
func (o *AuthOptions) Validate() error {
	return o.CommonOptions.Validate()
}

// Run probes each image and prints an AuthReport.
func (o *AuthOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	client, err := o.RegistryClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections() // nothing of the run outlives it
	creds, err := o.credentialFinder(ctx)
	if err != nil {
		return err
	}
	prober := probe.New(client)
	targets := make([]probe.Target, len(o.Images))
	for i, img := range o.Images {
		targets[i] = probe.Target{Image: img, Push: o.Push, Pull: true, Lookup: creds(ctx, img), Workload: o.workload, Audience: o.audience()}
	}
	return o.Print(report.New(report.KindAuth, checkAll(ctx, prober, targets, o.Concurrency)))
}

// usesCluster reports whether credentials come from the cluster.
func (o *AuthOptions) usesCluster() bool {
	return o.ServiceAccount != "" || len(o.PullSecrets) > 0
}

// clusterCredentials returns the keyring the kubelet would build for a pod
// running as --service-account with --pull-secret in the namespace.
func (o *AuthOptions) clusterCredentials(ctx context.Context) (func(context.Context, string) credentials.Lookup, error) {
	client, err := o.kubeClient()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, cannotRun("reading kubeconfig: %v", err)
	}
	ps, err := kube.NewPullSecretReader(kube.Direct(client)).PullSecrets(ctx, ns, o.ServiceAccount, o.PullSecrets)
	if err != nil {
		return nil, cannotRun("reading pull secrets: %v", err)
	}
	o.workload = &remedy.Workload{Namespace: ns, ServiceAccount: o.ServiceAccount, PullSecrets: o.PullSecrets}
	return func(_ context.Context, image string) credentials.Lookup {
		ref, err := imageref.ParseChart(image)
		if err != nil {
			// A reference that does not parse: the probe reports it.
			return credentials.Lookup{Tried: credentials.ClusterStores(ps.Refs), Problems: ps.Problems}
		}
		return ps.Lookup(ref)
	}, nil
}
