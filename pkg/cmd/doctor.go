package cmd

import "github.com/spf13/cobra"

// NewCmdDoctor is the debug checklist as one command. Its engine has not
// landed yet (issue 5), so it says so and exits 2 rather than pretending.
func NewCmdDoctor(common *CommonOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor [--image REF]... [--registry HOST]...",
		Short: "Run the whole registry debug checklist (not yet available)",
		RunE: func(*cobra.Command, []string) error {
			return cannotRun("doctor is not available in this build yet; use `regcheck auth IMAGE` and `regcheck scan` for now")
		},
	}
}
