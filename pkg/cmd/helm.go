package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/regcheck/regcheck/pkg/helmbugs"
	"github.com/regcheck/regcheck/pkg/helmclient"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/probe"
	"github.com/regcheck/regcheck/pkg/report"
)

// HelmAuthOptions check what `helm push` or `helm pull` of an OCI chart
// needs, with Helm's registry config (and Docker's, which Helm falls back to).
type HelmAuthOptions struct {
	*CommonOptions
	Push      bool
	Remote    string // oci://HOST/PATH (push) or oci://HOST/PATH/CHART[:VERSION] (pull)
	ChartPath string // a chart archive or directory, to learn the chart's name
	ChartName string
	Version   string
	image     string
	note      string
	helmPush  string // how the user's Helm's push token request differs from the probe's, when it does
}

// NewCmdPushAuth builds `helm regcheck push-auth`.
func NewCmdPushAuth(common *CommonOptions) *cobra.Command {
	o := &HelmAuthOptions{CommonOptions: common, Push: true}
	c := &cobra.Command{
		Use:   "push-auth [CHART] oci://HOST/PATH",
		Short: "Would `helm push CHART oci://HOST/PATH` be authorized? Nothing is pushed",
		Long: `Checks what helm push needs, with Helm's registry config: the registry's
challenge, a token with the pull,push scope Helm asks for, and a blob-upload
start that is cancelled at once. Helm pushes to PATH/<chart name>: give the chart
(archive or directory) or --chart NAME so the exact repository is checked.`,
		Example: `  helm regcheck push-auth mychart-0.1.0.tgz oci://registry.example.com/charts
  helm regcheck push-auth oci://registry.example.com/charts --chart mychart`,
		Args: cobra.RangeArgs(1, 2),
		RunE: execute(o),
	}
	c.Flags().StringVar(&o.ChartName, "chart", "", "the chart's name (helm push writes to PATH/NAME)")
	return c
}

// NewCmdPullAuth builds `helm regcheck pull-auth`.
func NewCmdPullAuth(common *CommonOptions) *cobra.Command {
	o := &HelmAuthOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:     "pull-auth oci://HOST/PATH/CHART[:VERSION]",
		Short:   "Would `helm pull oci://HOST/PATH/CHART --version VERSION` be authorized?",
		Example: `  helm regcheck pull-auth oci://registry.example.com/charts/mychart:0.1.0`,
		Args:    cobra.ExactArgs(1),
		RunE:    execute(o),
	}
	c.Flags().StringVar(&o.Version, "version", "", "the chart version (instead of :VERSION)")
	return c
}

// Complete maps the oci:// reference to the repository Helm would use.
func (o *HelmAuthOptions) Complete(c *cobra.Command, args []string) error {
	o.Remote = args[len(args)-1]
	if len(args) == 2 {
		o.ChartPath = args[0]
	}
	if err := o.CommonOptions.Complete(c.Flags()); err != nil {
		return err
	}
	if o.ChartPath != "" {
		ch, err := loader.Load(o.ChartPath)
		if err != nil {
			return cannotRun("reading chart %s: %v", o.ChartPath, err)
		}
		o.ChartName = ch.Metadata.Name
	}
	return nil
}

// Validate checks the reference and maps it to an image reference.
func (o *HelmAuthOptions) Validate() error {
	if err := o.CommonOptions.Validate(); err != nil {
		return err
	}
	path, ok := strings.CutPrefix(o.Remote, "oci://")
	if !ok {
		return cannotRun("%q is not an OCI reference: it must start with oci://", o.Remote)
	}
	path = strings.TrimSuffix(path, "/")
	if o.Push {
		if o.ChartName == "" {
			o.image = path
			o.note = "no chart given: checked " + path + " itself; helm push writes to " + path + "/<chart name>"
			return nil
		}
		o.image = path + "/" + o.ChartName
		return nil
	}
	if o.Version != "" {
		path += ":" + o.Version
	}
	// OCI tags cannot hold '+'; Helm stores chart versions with '_' instead.
	o.image = strings.ReplaceAll(path, "+", "_")
	// A reference that does not parse is the probe's finding; one that
	// parses without a tag or digest names no chart version.
	if ref, err := imageref.Parse(o.image); err == nil && !ref.Written() {
		return cannotRun("give the chart version: oci://HOST/PATH/CHART:VERSION or --version")
	}
	return nil
}

// Run probes the chart's repository as Helm would reach it.
func (o *HelmAuthOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	client, err := o.RegistryClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections() // nothing of the run outlives it
	local := o.LocalCredentials()
	host, _ := registryHost(o.image)
	// helm push never reads the chart first, so the push check alone decides.
	target := probe.Target{Image: o.image, Push: o.Push, Pull: !o.Push, Lookup: local.Lookup(ctx, host), Audience: o.audience()}
	results := probe.New(client).Check(ctx, target)
	if o.HelmMode {
		results = append(o.helmVersion(ctx), results...)
	}
	for i := range results {
		if o.helmPush != "" && results[i].Check == report.CheckRegistryPush {
			results[i].Message += " (" + o.helmPush + ")"
			if results[i].Evidence == nil {
				results[i].Evidence = report.Evidence{}
			}
			results[i].Evidence["helmTokenRequest"] = o.helmPush
		}
		if o.note != "" {
			if results[i].Evidence == nil {
				results[i].Evidence = report.Evidence{}
			}
			results[i].Evidence["note"] = o.note
		}
	}
	if o.note != "" {
		fmt.Fprintln(o.ErrOut, "note:", o.note)
	}
	return o.Print(report.New(report.KindAuth, results))
}

// helmVersion reports helm.version for the Helm running this plugin, and
// says where that Helm's push will differ from regcheck's probe: regcheck
// asks repository:R:pull,push in its first token request, as Helm v3.22.0
// and v4.2.4 do; older releases ask otherwise (helmbugs.PushTokenRequest).
func (o *HelmAuthOptions) helmVersion(ctx context.Context) []report.Result {
	commands := []string{helmbugs.Pull, helmbugs.Login}
	if o.Push {
		commands = []string{helmbugs.Push, helmbugs.Login}
	}
	bin := o.Getenv("HELM_BIN")
	results, answer := helmclient.Check(ctx, bin, commands...)
	if answer.Command == "" {
		o.debugf("helm.version: %s", results[0].Message)
		return results
	}
	o.debugf("helm.version: %s answered %s (%s)", bin, answer.Raw, answer.Command)
	if !o.Push {
		return results
	}
	_, repo, _ := strings.Cut(o.image, "/")
	request, same := helmbugs.PushTokenRequest(answer.Version, repo)
	if same {
		o.debugf("helm.version: regcheck asks repository:%s:pull,push in its first token request, as Helm %s will", repo, answer.Version)
		return results
	}
	o.debugf("helm.version: regcheck asks repository:%s:pull,push in its first token request (as Helm v3.22.0+ and v4.2.4+ do); Helm %s will send %s instead", repo, answer.Version, request)
	o.helmPush = fmt.Sprintf("Helm %s will send %s, not the single pull,push request regcheck sent", answer.Version, request)
	return results
}

// debugf writes one --debug line on stderr, in the trace's format.
func (o *CommonOptions) debugf(format string, args ...any) {
	if o.Debug {
		fmt.Fprintf(o.ErrOut, "regcheck: "+format+"\n", args...)
	}
}
