package cmd

import (
	"github.com/spf13/cobra"

	"github.com/regcheck/regcheck/pkg/printers"
	"github.com/regcheck/regcheck/pkg/version"
)

// NewCmdVersion prints version, commit and Go version.
func NewCmdVersion(common *CommonOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print regcheck's version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := common.Validate(); err != nil {
				return err
			}
			return printers.Version(common.Out, common.Output, version.Get())
		},
	}
}
