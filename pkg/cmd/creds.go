package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/report"
)

// CredsOptions list the credentials regcheck can see, and their problems.
type CredsOptions struct {
	*CommonOptions
}

// NewCmdCreds builds `regcheck creds`.
func NewCmdCreds(common *CommonOptions) *cobra.Command {
	o := &CredsOptions{CommonOptions: common}
	c := &cobra.Command{
		Use:   "creds",
		Short: "List the registry credentials regcheck can see and where each came from (never their values)",
		Long: `Lists the local credentials: --username, Docker's config.json (auths, credsStore,
credHelpers) and Helm's registry config, each with its host, username and source,
and the problems found in them (malformed entries, a username without a
password, a credential helper that fails). Never a password or token.

Then the kubelet credential providers that apply, with their matchImages:
those of --image-credential-provider-config, else the built-in ones of the
clouds the nodes' spec.providerID names (aws: ECR, gce: Artifact Registry
and GCR, azure: ACR), when a kubeconfig is there.`,
		Args: cobra.NoArgs,
		RunE: execute(o),
	}
	o.addNodeCredentialFlag(c.Flags())
	return c
}

// Complete reads the environment; creds takes no argument.
func (o *CredsOptions) Complete(c *cobra.Command, _ []string) error {
	return o.CommonOptions.Complete(c.Flags())
}

// Validate checks the flags and reads --image-credential-provider-config.
func (o *CredsOptions) Validate() error {
	if err := o.CommonOptions.Validate(); err != nil {
		return err
	}
	return o.loadNodeProviders()
}

// Run lists the local sources as a CredentialReport.
func (o *CredsOptions) Run(parent context.Context) error {
	ctx, cancel := o.Context(parent)
	defer cancel()
	listed, problems := o.LocalCredentials().List(ctx)
	results := make([]report.Result, 0, len(listed)+len(problems))
	for _, l := range listed {
		msg := fmt.Sprintf("%s credential for %s", l.Kind, l.Host)
		if l.Username != "" {
			msg += " (user " + l.Username + ")"
		}
		results = append(results, report.Result{
			Check: report.CheckRegistryCredentials, Status: report.StatusPass, Reason: report.ReasonOk,
			Message: msg, Registry: l.Host, CredentialSource: l.Source,
		})
	}
	for _, p := range problems {
		results = append(results, problemResult(report.CheckRegistryCredentials, p))
	}
	results = append(results, o.providerResults(ctx)...)
	if len(results) == 0 && (o.Output == "table" || o.Output == "wide") {
		// As kubectl's "No resources found": a sentence on stderr, no
		// empty table, and where a first-time user should look.
		fmt.Fprintf(o.ErrOut, "No credentials found in %s.\n", strings.Join(o.LocalCredentials().Searched(), ", "))
		return nil
	}
	return o.Print(report.New(report.KindCredential, results))
}

// problemResult turns a credential problem into a failed result.
func problemResult(check report.Check, p credentials.Problem) report.Result {
	return report.Result{
		Check: check, Status: report.StatusFail, Reason: p.Reason,
		Message: p.Message, Remedy: p.Remedy, Registry: p.Host, CredentialSource: p.Source,
	}
}
