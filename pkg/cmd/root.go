// Package cmd is regcheck's cobra command tree: thin commands following
// kubectl's options pattern (Complete, Validate, Run) around the engines
// in pkg/. Nothing here decides a verdict.
package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	// Cloud kubeconfigs (exec, oidc) work as they do for kubectl.
	_ "k8s.io/client-go/plugin/pkg/client/auth"

	"github.com/regcheck/regcheck/pkg/report"
)

// Execute runs regcheck with args and returns the process exit code.
func Execute(ctx context.Context, streams genericiooptions.IOStreams, args []string, getenv func(string) string) int {
	stop := startProfile(getenv, streams.ErrOut)
	defer stop()
	root := NewRootCmd(streams, getenv)
	root.SetArgs(args)
	return exitCode(root.ExecuteContext(ctx), streams.ErrOut)
}

// NewRootCmd builds the command tree. Bare `kubectl regcheck` scans.
func NewRootCmd(streams genericiooptions.IOStreams, getenv func(string) string) *cobra.Command {
	common := NewCommonOptions(streams, getenv)
	displayName := "kubectl regcheck"
	if common.HelmMode {
		displayName = "helm regcheck"
	}
	scan := NewScanOptions(common)
	root := &cobra.Command{
		Use:   "kubectl-regcheck [TYPE[/NAME]...]",
		Short: "Explain registry pulls, pushes and stale images from your own context",
		Long: `regcheck answers three questions, fast, and says what to do next:
  which registry credentials apply (and where each came from, never what it is),
  whether each workload runs what the registry serves now,
  and whether pull and push will be authorized, with a named reason when not.

Without a subcommand it scans the selected workloads (as "scan").`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: displayName},
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          execute(scan),
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: report.ExitCannotRun, Err: fmt.Errorf("%w (see --help)", err)}
	})
	common.AddFlags(root.PersistentFlags())
	scan.AddFlags(root.Flags())
	registerCompletions(root, common)
	root.ValidArgsFunction = completeWorkloads(common)

	root.AddCommand(
		NewCmdScan(common),
		NewCmdAuth(common),
		NewCmdCreds(common),
		NewCmdDoctor(common),
		NewCmdPushAuth(common),
		NewCmdPullAuth(common),
		NewCmdRelease(common),
		NewCmdServe(common),
		NewCmdVerify(common),
		NewCmdVersion(common),
	)
	return root
}
