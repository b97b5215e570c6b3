package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/verify"
)

// VerifyOptions check manifests before they are deployed.
type VerifyOptions struct {
	*CommonOptions
	Filenames []string
	Recursive bool
	NoCluster bool
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
its image. Nothing is deployed.

With a cluster (a kubeconfig context, unless --no-cluster), each pull is
checked with the credentials the target namespace would give the pods: the
template's imagePullSecrets, else its ServiceAccount's, read from the cluster
(secrets it names that do not exist there are reported), and every multi-arch
image is checked to hold the platforms of the cluster's nodes. Without one, the
local Docker and Helm credentials are used, and every pull result says so.`,
		Example: `  kubectl regcheck verify -f deploy.yaml
  kubectl regcheck verify -f k8s/ -R -n shop -o json
  kustomize build overlays/prod | kubectl regcheck verify -f -`,
		Args: cobra.NoArgs,
		RunE: execute(o),
	}
	c.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "manifests to verify: a file, a directory or - for stdin (repeatable)")
	c.Flags().BoolVarP(&o.Recursive, "recursive", "R", false, "read the directories given with -f recursively")
	c.Flags().BoolVar(&o.NoCluster, "no-cluster", false, "do not read the cluster even when a kubeconfig names one: check pulls with the local Docker and Helm credentials")
	o.addNodeCredentialFlag(c.Flags())
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
	if err := o.loadNodeProviders(); err != nil {
		return err
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
	opts := verify.Options{Prober: probe.New(client), Resolver: client, Concurrency: o.Concurrency}
	var results []report.Result
	if o.NoCluster || !o.clusterConfigured() {
		opts.Credentials = o.localVerifyCredentials(nodecreds.ForCluster(o.nodeProviders, nil))
	} else {
		kc, err := o.kubeClient()
		if err != nil {
			return err
		}
		platforms, ids, note := kube.Nodes(ctx, kc, "the platforms of the cluster's nodes are unknown, and images are not checked against them")
		if note != nil {
			if note.Reason == report.ReasonUnreachable {
				return &ExitError{Code: report.ExitCannotRun, Err: fmt.Errorf("reading the cluster: %s", note.Message),
					Hint: "give --no-cluster to verify with your local credentials instead"}
			}
			fmt.Fprintf(o.ErrOut, "warning: %s\n", note.Message)
			results = append(results, note.Result())
		}
		opts.Platforms = distinctPlatforms(platforms)
		opts.Credentials = verify.ClusterCredentials(kube.NewPullSecretReader(kc), nodecreds.ForCluster(o.nodeProviders, ids))
	}
	results = append(results, verify.Run(ctx, decoded.Manifests, opts)...)
	if len(decoded.Manifests) == 0 {
		fmt.Fprintf(o.ErrOut, "No workloads found in %d objects: verify checks Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers.\n", decoded.Objects)
	}
	return o.Print(report.New(report.KindVerify, results))
}

// distinctPlatforms are the known platforms of nodes, each once, sorted.
func distinctPlatforms(nodes map[string]kube.Platform) []kube.Platform {
	var out []kube.Platform
	for _, p := range nodes {
		if p.Known() && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b kube.Platform) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// localVerifyCredentials are the user's own Docker and Helm credentials
// (credentialSource says which): the pods will pull with the cluster's,
// which may differ, and every registry.pull result says so.
//
// With --image-credential-provider-config, an image a provider serves is
// the node's to pull, as no pull secret comes first here.
func (o *VerifyOptions) localVerifyCredentials(nodes *nodecreds.Set) verify.CredentialFunc {
	local := o.LocalCredentials()
	return func(ctx context.Context, _ *verify.Manifest, ref imageref.Reference) verify.Credentials {
		cr := verify.Credentials{
			Lookup: local.Lookup(ctx, ref.Registry),
			Key:    "local\x00" + ref.Registry,
			Note:   "no cluster: checked with local credentials; the pods' pull secrets may differ",
		}
		if m, ok := nodes.For(ref.Input, nil); ok {
			cr.Node = &m
		}
		return cr
	}
}
