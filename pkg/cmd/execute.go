package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

// command is what every verb's options are: kubectl's Complete, Validate,
// Run (sample-cli-plugin's pattern).
type command interface {
	Complete(c *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// execute is every verb's RunE: Complete, Validate and Run, in order, the
// first error ending it.
func execute(o command) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := o.Complete(c, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(c.Context())
	}
}
