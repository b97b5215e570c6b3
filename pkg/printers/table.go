package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// column is one table column: a header and how to read it from a result.
type column struct {
	header string
	value  func(report.Result) string
}

// Columns that appear only when some result fills them, so `auth` output
// is not padded with empty NAMESPACE/WORKLOAD columns.
var optionalColumns = []column{
	{"CONTEXT", func(r report.Result) string { return r.Context }},
	{"FILE", position},
	{"NAMESPACE", func(r report.Result) string { return r.Namespace }},
	{"WORKLOAD", func(r report.Result) string { return r.Workload }},
	{"CONTAINER", func(r report.Result) string { return r.Container }},
	{"IMAGE", func(r report.Result) string { return r.Image }},
}

// position is where a verify result's image is written: "file:line".
func position(r report.Result) string {
	if r.File == "" || r.Line == 0 {
		return r.File
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

var fixedColumns = []column{
	{"CHECK", func(r report.Result) string { return string(r.Check) }},
	{"STATUS", func(r report.Result) string { return string(r.Status) }},
	{"REASON", func(r report.Result) string { return string(r.Reason) }},
	{"MESSAGE", func(r report.Result) string { return r.Message }},
}

var wideColumns = []column{
	{"CREDENTIALS", func(r report.Result) string { return r.CredentialSource }},
	{"DIGESTS", digests},
}

// digests shows what a person compares by eye in -o wide: on a workload
// row the digests its pods run and the one its tag points to now
// ("sha256:acd00ae3aaa7 → sha256:c5cf5a57cc51"), elsewhere the digest the
// reference resolved to.
func digests(r report.Result) string {
	d := r.Digests
	if d == nil {
		return ""
	}
	current := "unknown"
	if d.Current != "" {
		current = imageref.ShortDigest(d.Current)
	}
	if r.Workload == "" && len(d.Running) == 0 {
		if d.Current == "" {
			return ""
		}
		return current
	}
	running := "none"
	if len(d.Running) > 0 {
		short := make([]string, len(d.Running))
		for i, x := range d.Running {
			short[i] = imageref.ShortDigest(x)
		}
		running = strings.Join(short, ",")
	}
	return running + " → " + current
}

// Table writes one line per result, a summary line, and the remedies of
// what did not pass, so the table alone says what to do next.
func Table(w io.Writer, r report.Report, wide bool) error {
	return table(w, r, wide, Options{})
}

// statusColors are ANSI colours of equal byte length, so tabwriter, which
// counts bytes, keeps the columns aligned.
var statusColors = map[report.Status]string{
	report.StatusPass: "\x1b[32m",
	report.StatusWarn: "\x1b[33m",
	report.StatusFail: "\x1b[31m",
	report.StatusSkip: "\x1b[90m",
}

const colorReset = "\x1b[0m"

func table(w io.Writer, r report.Report, wide bool, opts Options) error {
	if len(r.Results) == 0 {
		_, err := fmt.Fprintln(w, "No results.")
		return err
	}
	var cols []column
	for _, c := range optionalColumns {
		for _, res := range r.Results {
			if c.value(res) != "" {
				cols = append(cols, c)
				break
			}
		}
	}
	cols = append(cols, fixedColumns...)
	if wide {
		cols = append(cols, wideColumns...)
	}

	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, res := range r.Results {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = oneLine(c.value(res))
			if opts.Color && c.header == "STATUS" && statusColors[res.Status] != "" {
				cells[i] = statusColors[res.Status] + cells[i] + colorReset
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", summaryLine(r.Summary))
	if remedies := Remedies(r); len(remedies) > 0 {
		fmt.Fprintln(w, "\nNext steps:")
		for _, rem := range remedies {
			fmt.Fprintf(w, "  - %s\n", oneLine(rem))
		}
	}
	return nil
}

func summaryLine(s report.Summary) string {
	return fmt.Sprintf("%d pass, %d warn, %d fail, %d skip", s.Pass, s.Warn, s.Fail, s.Skip)
}

// Remedies lists the distinct remedies of results that did not pass,
// failures first, each once.
func Remedies(r report.Report) []string {
	seen := map[string]bool{}
	var out []string
	results := append([]report.Result(nil), r.Results...)
	sort.SliceStable(results, func(i, j int) bool { return results[i].Status.Worse(results[j].Status) })
	for _, res := range results {
		if res.Status == report.StatusPass || res.Remedy == "" || seen[res.Remedy] {
			continue
		}
		seen[res.Remedy] = true
		out = append(out, res.Remedy)
	}
	return out
}

// oneLine keeps a cell on its line: a message with a newline would break
// every column after it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
