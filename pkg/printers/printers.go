// Package printers writes regcheck reports as a table, a wide table, JSON,
// YAML, a markdown incident report, SARIF or JUnit XML. cli-runtime's printers take
// Kubernetes objects only, so regcheck's own versioned report types are
// printed here (as kubectl's own `version` command does for its types).
package printers

import (
	"bufio"
	"encoding/json"
	"encoding/json/jsontext"
	jsonv2 "encoding/json/v2"
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

// writeJSON writes v as json.MarshalIndent(v, "", "  ") and a newline
// would, byte for byte (encoding/json's own v1 semantics), but streamed
// through a 64 KiB buffer. Marshalled whole, a 5,000-pod report grew a
// 2.7 MB slice into fresh memory a page fault at a time: 22-35 ms in a
// one-shot process against 7 ms streamed.
//
// A value that fails to encode is "encoding <what>: ..." and, when it
// fails within the first 64 KiB, writes nothing; the report's types have
// no marshaller of their own that could fail. A failed write is w's own
// error, as the other formats return it.
func writeJSON(w io.Writer, v any, what string) error {
	sw := &stickyWriter{w: w}
	bw := bufio.NewWriterSize(sw, 64<<10)
	err := jsonv2.MarshalWrite(bw, v, json.DefaultOptionsV1(), jsontext.Multiline(true), jsontext.WithIndent("  "))
	if err == nil {
		if err = bw.WriteByte('\n'); err == nil {
			err = bw.Flush()
		}
	}
	switch {
	case sw.err != nil:
		return sw.err
	case err != nil:
		return fmt.Errorf("encoding %s: %w", what, err)
	}
	return nil
}

// stickyWriter keeps the first error its writer returned, so writeJSON
// tells a failed write from a value that does not encode.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}

// PrintWith writes r to w in format with opts.
func PrintWith(w io.Writer, format string, r report.Report, opts Options) error {
	switch format {
	case "json":
		return writeJSON(w, r, "report")
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
