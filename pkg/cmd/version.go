package cmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

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
			info := version.Get()
			switch common.Output {
			case "json":
				b, _ := json.MarshalIndent(info, "", "  ")
				fmt.Fprintf(common.Out, "%s\n", b)
			case "yaml":
				b, _ := yaml.Marshal(info)
				fmt.Fprint(common.Out, string(b))
			default:
				fmt.Fprintf(common.Out, "regcheck %s (commit %s, %s, %s)\n", info.Version, info.Commit, info.GoVersion, info.Platform)
			}
			return nil
		},
	}
}
