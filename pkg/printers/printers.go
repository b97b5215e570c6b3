// Package printers writes regcheck reports as a table, a wide table, JSON,
// YAML, a markdown incident report, SARIF or JUnit XML. cli-runtime's printers take
// Kubernetes objects only, so regcheck's own versioned report types are
// printed here (as kubectl's own `version` command does for its types).
package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/regcheck/regcheck/pkg/report"
)

// Formats accepted by -o.
var Formats = []string{"table", "wide", "json", "yaml", "markdown", "sarif", "junit"}

// ValidateFormat reports whether format is one of Formats.
func ValidateFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats, "|"))
}

// Options tune human output.
type Options struct {
	// Color marks statuses with ANSI colours; callers set it only for a
	// terminal (piped output stays plain and stable).
	Color bool
}

// Print writes r to w in format (already validated), without colour.
func Print(w io.Writer, format string, r report.Report) error {
	return PrintWith(w, format, r, Options{})
}

// PrintWith writes r to w in format with opts.
func PrintWith(w io.Writer, format string, r report.Report, opts Options) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding report: %w", err)
		}
		// Written as is: through fmt, a report of megabytes was copied
		// once more (at 5,000 pods 14 ms and 10 MB a print, against 10 ms
		// and 5.5 MB).
		_, err = w.Write(append(b, '\n'))
		return err
	case "yaml":
		b, err := yaml.Marshal(r)
		if err != nil {
			return fmt.Errorf("encoding report: %w", err)
		}
		_, err = w.Write(b)
		return err
	case "markdown":
		if r.Kind == report.KindDoctor {
			return doctorMarkdown(w, r)
		}
		return Markdown(w, r)
	case "sarif":
		return SARIF(w, r)
	case "junit":
		return JUnit(w, r)
	case "wide":
		return table(w, r, true, opts)
	default:
		if r.Kind == report.KindDoctor {
			return doctorTable(w, r)
		}
		return table(w, r, false, opts)
	}
}
