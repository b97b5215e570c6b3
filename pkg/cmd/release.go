package cmd

import "github.com/spf13/cobra"

// NewCmdRelease will scan the images of a Helm release's rendered
// manifest. Until it lands it says so and exits 2.
func NewCmdRelease(common *CommonOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "release NAME",
		Short: "Scan the images of a Helm release (not yet available)",
		Args:  cobra.ExactArgs(1),
		RunE: func(*cobra.Command, []string) error {
			return cannotRun("release is not available in this build yet; use `kubectl regcheck scan -l app.kubernetes.io/instance=NAME` for now")
		},
	}
}
