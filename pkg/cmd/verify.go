package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/verify"
)

// VerifyOptions check manifests before they are deployed.
type VerifyOptions struct {
	*CommonOptions
	Filenames []string
	Recursive bool
	namespace string
}

// NewCmdVerify builds `regcheck verify -f FILE|DIR|-`.
func NewCmdVerify(common *CommonOptions) *cobra.Command {
	o := &VerifyOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:   "verify -f FILE|DIR|-",
		Short: "Check the images of manifests before deploying them",
		Long: `Reads manifests as kubectl apply -f does (multi-document YAML and JSON, Lists
included) and checks every container image (init and ephemeral containers too)
of the Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs and ReplicationControllers, as a scan would after the
deploy: the reference, that the tag exists and resolves with the pull
credentials, and risky pull policies. Every result names the file and line of
its image. Nothing is deployed.`,
		Example: `  kubectl regcheck verify -f deploy.yaml
  kubectl regcheck verify -f k8s/ -R -n shop -o json
  kustomize build overlays/prod | kubectl regcheck verify -f -`,
		Args: cobra.NoArgs,
		RunE: execute(o),
	}
	c.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "manifests to verify: a file, a directory or - for stdin (repeatable)")
	c.Flags().BoolVarP(&o.Recursive, "recursive", "R", false, "read the directories given with -f recursively")
	return c
}

// Complete reads the namespace the manifests would be applied to.
func (o *VerifyOptions) Complete(c *cobra.Command, _ []string) error {
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		// No usable kubeconfig: verify works without a cluster, in -n or
		// default.
		ns = ""
		if o.ConfigFlags.Namespace != nil {
			ns = *o.ConfigFlags.Namespace
		}
	}
	o.namespace = ns
	return nil
}

// Validate checks the flags.
func (o *VerifyOptions) Validate() error {
	if len(o.Filenames) == 0 {
		return cannotRun("give the manifests to verify: -f FILE, -f DIR or -f -")
	}
	if o.PasswordStdin && containsStdin(o.Filenames) {
		return cannotRun("--password-stdin and -f - both read stdin: give one")
	}
	return o.CommonOptions.Validate()
}

func containsStdin(paths []string) bool {
	for _, p := range paths {
		if p == "-" {
			return true
		}
	}
	return false
}

// Run reads the manifests, checks every image and prints a VerifyReport.
func (o *VerifyOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	inputs, err := verify.ReadInputs(o.Filenames, o.Recursive, o.In)
	if err != nil {
		return cannotRun("%v", err)
	}
	decoded, err := verify.Decode(inputs, o.namespace)
	if err != nil {
		return cannotRun("%v", err)
	}
	for _, n := range decoded.Notes {
		fmt.Fprintf(o.ErrOut, "warning: %s\n", n)
	}
	client, err := o.RegistryClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	results := verify.Run(ctx, decoded.Manifests, verify.Options{
		Prober:      probe.New(client),
		Credentials: o.localVerifyCredentials(),
		Concurrency: o.Concurrency,
	})
	if len(decoded.Manifests) == 0 {
		fmt.Fprintf(o.ErrOut, "No workloads found in %d objects: verify checks Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers.\n", decoded.Objects)
	}
	return o.Print(report.New(report.KindVerify, results))
}

// localVerifyCredentials are the user's own Docker and Helm credentials
// (credentialSource says which): the pods will pull with the cluster's,
// which may differ, and every registry.pull result says so.
func (o *VerifyOptions) localVerifyCredentials() verify.CredentialFunc {
	local := o.LocalCredentials()
	return func(ctx context.Context, _ *verify.Manifest, ref imageref.Reference) verify.Credentials {
		return verify.Credentials{
			Lookup: local.Lookup(ctx, ref.Registry),
			Key:    "local\x00" + ref.Registry,
			Note:   "no cluster: checked with local credentials; the pods' pull secrets may differ",
		}
	}
}
