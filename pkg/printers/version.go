package printers

import (
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/regcheck/regcheck/pkg/version"
)

// Version writes info to w: JSON or YAML for -o json|yaml, else the one
// line "regcheck VERSION (commit COMMIT, GO, PLATFORM)".
func Version(w io.Writer, format string, info version.Info) error {
	switch format {
	case "json":
		return writeJSON(w, info, "version")
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return fmt.Errorf("encoding version: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	_, err := fmt.Fprintf(w, "regcheck %s (commit %s, %s, %s)\n", info.Version, info.Commit, info.GoVersion, info.Platform)
	return err
}
