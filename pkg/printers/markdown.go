package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

var titles = map[string]string{
	report.KindScan:       "Workload image scan",
	report.KindAuth:       "Registry authorization check",
	report.KindCredential: "Registry credentials",
	report.KindDoctor:     "Registry doctor report",
	report.KindVerify:     "Pre-deploy verification",
}

// Markdown writes an incident-ready report: a verdict, a table of every
// result, then one section per result that did not pass, with its
// evidence and remedy.
func Markdown(w io.Writer, r report.Report) error {
	title := titles[r.Kind]
	if title == "" {
		title = r.Kind
	}
	fmt.Fprintf(w, "# regcheck: %s\n\n", title)
	fmt.Fprintf(w, "**Verdict: %s** (%s)\n\n", strings.ToUpper(string(r.Worst())), summaryLine(r.Summary))
	if len(r.Results) == 0 {
		_, err := fmt.Fprintln(w, "No results.")
		return err
	}
	fmt.Fprintln(w, "| status | check | reason | subject | message |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| %s | `%s` | `%s` | %s | %s |\n", res.Status, res.Check, res.Reason, cell(subject(res)), cell(res.Message))
	}
	var details []report.Result
	for _, res := range r.Results {
		if res.Status != report.StatusPass && !res.Version.Behind() {
			details = append(details, res)
		}
	}

	if len(details) > 0 {
		fmt.Fprintln(w, "\n## Findings")
	}
	for _, res := range details {
		fmt.Fprintf(w, "\n### %s `%s`: %s\n\n", strings.ToUpper(string(res.Status)), res.Reason, cell(subject(res)))
		fmt.Fprintf(w, "%s\n\n", res.Message)
		listed := res.CredentialSource != "" || len(res.Evidence) > 0
		if res.CredentialSource != "" {
			fmt.Fprintf(w, "- credentials: `%s`\n", res.CredentialSource)
		}
		for _, k := range sortedKeys(res.Evidence) {
			fmt.Fprintf(w, "- %s: `%v`\n", k, res.Evidence[k])
		}
		if res.Remedy != "" {
			if listed {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "**Remedy:** %s\n", res.Remedy)
		}
	}
	newerVersions(w, r.Results)
	return nil
}

// subject names what a result is about, most specific last.
func subject(r report.Result) string {
	var parts []string
	if r.Context != "" {
		parts = append(parts, r.Context)
	}
	if r.Namespace != "" {
		parts = append(parts, r.Namespace)
	}
	if r.Workload != "" {
		parts = append(parts, r.Workload)
	}
	if r.Container != "" {
		parts = append(parts, r.Container)
	}
	s := strings.Join(parts, "/")
	if p := position(r); p != "" {
		s = p + " " + s
	}
	if r.Image != "" {
		if s != "" {
			s += " "
		}
		s += r.Image
	} else if s == "" {
		s = r.Registry
	}
	return s
}

// cell escapes what would break a markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func sortedKeys(e report.Evidence) []string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// newerVersions lists the images a newer version of which is out in one
// table, once per image however many containers run it, instead of a
// finding per container: it is planning, not an incident.
func newerVersions(w io.Writer, results []report.Result) {
	seen := map[string]bool{}
	var rows []report.Result
	for _, res := range results {
		if res.Version.Behind() && !seen[res.Image] {
			seen[res.Image] = true
			rows = append(rows, res)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## Newer versions (--newer=%s)\n\n", rows[0].Version.Scope)
	fmt.Fprintln(w, "| image | running | newest in scope | newest in its major | newest | newer tags |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, res := range rows {
		v := res.Version
		fmt.Fprintf(w, "| %s | `%s` | `%s` | `%s` | `%s` | %d |\n", cell(res.Image), v.Running, v.Latest, v.LatestInMajor, v.Newest, len(v.Newer))
	}
}
