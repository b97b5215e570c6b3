package cmd

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/cli"

	"github.com/regcheck/regcheck/pkg/helmrender"
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

	// Chart is helm regcheck verify's CHART; the rest are helm
	// template's flags that choose what is rendered.
	Chart       string
	ValueFiles  []string
	Set         []string
	SetString   []string
	SetFile     []string
	Version     string
	RepoURL     string
	ReleaseName string
}

// NewCmdVerify builds `regcheck verify -f FILE|DIR|-`.
func NewCmdVerify(common *CommonOptions) *cobra.Command {
	o := &VerifyOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:   "verify (-f FILE|DIR|- | CHART)",
		Short: "Check the images of manifests or a chart before deploying them",
		Long: `Reads manifests as kubectl apply -f does (multi-document YAML and JSON, Lists
included) and checks every container image (init and ephemeral containers too)
of the Pods and the pod templates of Deployments, StatefulSets, DaemonSets,
ReplicaSets, Jobs, CronJobs and ReplicationControllers, as a scan would after the
deploy: the reference, that the tag exists and resolves with the pull
credentials, and risky pull policies. Every result names the file and line of
its image. Nothing is deployed.

With CHART (helm regcheck verify CHART), the chart is rendered as helm template
renders it (a directory, an archive, repo/name, a URL or oci://..., with
--version, --repo, -f/--values, --set, --set-string, --set-file and the
namespace), without a cluster; each result names the template (its path in
the chart directory, or as Helm's "# Source:" comment names it) and its line as
rendered, which is the template's own line where directives add or remove none.
-f is then a values file, as for helm template.

With a cluster (a kubeconfig context, unless --no-cluster), each pull is
checked with the credentials the target namespace would give the pods: the
template's imagePullSecrets, else its ServiceAccount's, read from the cluster
(secrets it names that do not exist there are reported), and every multi-arch
image is checked to hold the platforms of the cluster's nodes. Without one, the
local Docker and Helm credentials are used, and every pull result says so.`,
		Example: `  kubectl regcheck verify -f deploy.yaml
  kubectl regcheck verify -f k8s/ -R -n shop -o json
  kustomize build overlays/prod | kubectl regcheck verify -f -
  helm regcheck verify ./charts/shop -f values-prod.yaml --set image.tag=1.4.2 -n shop
  helm regcheck verify oci://registry.example.com/charts/shop --version 0.3.1`,
		Args: cobra.MaximumNArgs(1),
		RunE: execute(o),
	}
	c.Flags().StringSliceVarP(&o.Filenames, "filename", "f", nil, "manifests to verify: a file, a directory or - for stdin (repeatable)")
	c.Flags().BoolVarP(&o.Recursive, "recursive", "R", false, "read the directories given with -f recursively")
	c.Flags().StringSliceVar(&o.ValueFiles, "values", nil, "with CHART: a values file, as helm template's -f/--values (repeatable)")
	c.Flags().StringArrayVar(&o.Set, "set", nil, "with CHART: set values, as helm template's --set")
	c.Flags().StringArrayVar(&o.SetString, "set-string", nil, "with CHART: set string values, as helm template's --set-string")
	c.Flags().StringArrayVar(&o.SetFile, "set-file", nil, "with CHART: set values from files, as helm template's --set-file")
	c.Flags().StringVar(&o.Version, "version", "", "with CHART: the chart version, as helm template's --version")
	c.Flags().StringVar(&o.RepoURL, "repo", "", "with CHART: the chart repository URL, as helm template's --repo")
	c.Flags().StringVar(&o.ReleaseName, "release-name", "release-name", "with CHART: the release name the templates see")
	c.Flags().BoolVar(&o.NoCluster, "no-cluster", false, "do not read the cluster even when a kubeconfig names one: check pulls with the local Docker and Helm credentials")
	o.addNodeCredentialFlag(c.Flags())
	return c
}

// Complete reads the namespace the manifests would be applied to; with
// CHART, -f names values files, as for helm template.
func (o *VerifyOptions) Complete(c *cobra.Command, args []string) error {
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	if len(args) == 1 {
		o.Chart = args[0]
		o.ValueFiles = append(o.Filenames, o.ValueFiles...)
		o.Filenames = nil
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
	if len(o.Filenames) == 0 && o.Chart == "" {
		return cannotRun("give the manifests to verify (-f FILE, -f DIR or -f -) or a CHART")
	}
	if o.Chart == "" && (len(o.ValueFiles)+len(o.Set)+len(o.SetString)+len(o.SetFile) > 0 || o.Version != "" || o.RepoURL != "") {
		return cannotRun("--values, --set, --set-string, --set-file, --version and --repo need a CHART")
	}
	if o.PasswordStdin && (containsStdin(o.Filenames) || containsStdin(o.ValueFiles)) {
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
	inputs, err := o.inputs(ctx)
	if err != nil {
		return err
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
	opts := verify.Options{Prober: probe.New(client), Resolver: client, Concurrency: o.Concurrency, Audience: o.audience()}
	var results []report.Result
	if o.NoCluster || !o.clusterConfigured() {
		opts.Credentials = o.localVerifyCredentials(nodecreds.ForCluster(o.nodeProviders, nil, true))
	} else {
		kc, err := o.kubeClient()
		if err != nil {
			return err
		}
		platforms, ids, note := kube.Nodes(ctx, kc, "the platforms of the cluster's nodes are unknown, and images are not checked against them; the credential providers the nodes run are unknown (images on a cloud's registry are taken to be pulled with the nodes' identity)")
		if note != nil {
			if note.Reason == report.ReasonUnreachable {
				return &ExitError{Code: report.ExitCannotRun, Err: fmt.Errorf("reading the cluster: %s", note.Message),
					Hint: "give --no-cluster to verify with your local credentials instead"}
			}
			fmt.Fprintf(o.ErrOut, "warning: %s\n", note.Message)
			results = append(results, note.Result())
		}
		opts.Platforms = distinctPlatforms(platforms)
		opts.Credentials = verify.ClusterCredentials(kube.NewPullSecretReader(kube.Direct(kc)), nodecreds.ForCluster(o.nodeProviders, ids, note == nil))
	}
	results = append(results, verify.Run(ctx, decoded.Manifests, opts)...)
	if len(decoded.Manifests) == 0 {
		fmt.Fprintf(o.ErrOut, "No workloads found in %d objects: verify checks Pods and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and ReplicationControllers.\n", decoded.Objects)
	}
	return o.Print(report.New(report.KindVerify, results))
}

// inputs are the -f manifests, or CHART rendered as helm template does
// (one input per template, named as Helm's "# Source:" comment names it).
func (o *VerifyOptions) inputs(ctx context.Context) ([]verify.Input, error) {
	if o.Chart == "" {
		in, err := verify.ReadInputs(o.Filenames, o.Recursive, o.In)
		if err != nil {
			return nil, cannotRun("%v", err)
		}
		return in, nil
	}
	settings := cli.New()
	if o.RegistryConfig != "" {
		settings.RegistryConfig = o.RegistryConfig
	}
	opts := helmrender.Options{
		Chart: o.Chart, Version: o.Version, RepoURL: o.RepoURL, ReleaseName: o.ReleaseName, Namespace: o.namespace,
		ValueFiles: o.ValueFiles, Set: o.Set, SetString: o.SetString, SetFile: o.SetFile,
		PlainHTTP: o.PlainHTTP, CAFile: o.CAFile, InsecureSkipTLSVerify: o.InsecureSkipTLSVerify,
		Settings: settings,
	}
	if o.Debug {
		opts.Log = o.ErrOut
	}
	rendered, err := helmrender.Render(ctx, opts)
	if err != nil {
		return nil, cannotRun("rendering %s: %v", o.Chart, err)
	}
	in := make([]verify.Input, len(rendered.Templates))
	for i, t := range rendered.Templates {
		in[i] = verify.Input{Name: t.File, Data: t.Text}
	}
	return in, nil
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
