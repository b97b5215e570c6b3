package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/regcheck/regcheck/pkg/report"
)

// The doctor's own table and markdown (a line per check, a verdict, and for
// markdown the why and how-to-verify of each finding); a DoctorReport's
// wide, JSON and YAML are every report's.

// DoctorCheck is the doctor check a result belongs to.
func DoctorCheck(r report.Result) string {
	if r.Doctor != nil && r.Doctor.Check != "" {
		return r.Doctor.Check
	}
	return string(r.Check)
}

// DoctorVerdict is the one line that ends the report.
func DoctorVerdict(r report.Report) string {
	s := r.Summary
	counts := fmt.Sprintf("%d pass, %d warn, %d fail, %d skip", s.Pass, s.Warn, s.Fail, s.Skip)
	worst := r.Worst()
	for _, res := range r.Results {
		if res.Status == worst && worst != report.StatusPass && worst != report.StatusSkip {
			return fmt.Sprintf("Verdict: %s (%s); start with %s: %s", strings.ToUpper(string(worst)), counts, DoctorCheck(res), oneLine(res.Message))
		}
	}
	return fmt.Sprintf("Verdict: PASS (%s)", counts)
}

// helmClient is the Helm release that ran the doctor, as helm.version
// found it; empty outside Helm or when Helm could not be asked.
func helmClient(r report.Report) string {
	for _, res := range r.Results {
		if res.Check == report.CheckHelmVersion && res.HelmVersion != "" {
			return res.HelmVersion
		}
	}
	return ""
}

// doctorTable writes a line per check, the verdict, then the next steps.
func doctorTable(w io.Writer, r report.Report) error {
	if len(r.Results) == 0 {
		_, err := fmt.Fprintln(w, "No checks ran.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tREASON\tSUBJECT\tMESSAGE")
	subjects := doctorSubjects(r.Results)
	for i, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", DoctorCheck(res), res.Status, res.Reason, oneLine(subjects[i]), oneLine(res.Message))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", DoctorVerdict(r))
	if rem := Remedies(r); len(rem) > 0 {
		fmt.Fprintln(w, "\nNext steps:")
		for _, x := range rem {
			fmt.Fprintf(w, "  - %s\n", oneLine(x))
		}
	}
	return nil
}

// doctorMarkdown writes the incident report: the verdict, a table of every
// check, then each finding with what it checks, why it matters, the
// evidence, how to fix it and how to verify the fix.
func doctorMarkdown(w io.Writer, r report.Report) error {
	fmt.Fprintf(w, "# regcheck doctor report\n\n**%s**\n\n", DoctorVerdict(r))
	if v := helmClient(r); v != "" {
		fmt.Fprintf(w, "Helm client: `%s`\n\n", v)
	}
	if len(r.Results) == 0 {
		_, err := fmt.Fprintln(w, "No checks ran.")
		return err
	}
	fmt.Fprintln(w, "| # | check | status | reason | subject | message |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	subjects := doctorSubjects(r.Results)
	for i, res := range r.Results {
		fmt.Fprintf(w, "| %d | %s | %s | `%s` | %s | %s |\n", i+1, DoctorCheck(res), res.Status, res.Reason, cell(subjects[i]), cell(res.Message))
	}
	doctorPullFailures(w, r.Results)
	first := true
	for i, res := range r.Results {
		if res.Status == report.StatusPass {
			continue
		}
		if first {
			fmt.Fprintln(w, "\n## Findings")
			first = false
		}
		doctorFinding(w, i+1, subjects[i], res)
	}
	return nil
}

func doctorFinding(w io.Writer, n int, subject string, res report.Result) {
	id := DoctorCheck(res)
	fmt.Fprintf(w, "\n### %d. %s %s `%s`: %s\n\n%s\n\n", n, strings.ToUpper(string(res.Status)), id, res.Reason, cell(subject), oneLine(res.Message))
	if g, ok := DoctorGuides[id]; ok {
		fmt.Fprintf(w, "- **What it checks:** %s\n- **Why it matters:** %s\n", g.What, g.Why)
	}
	if res.CredentialSource != "" {
		fmt.Fprintf(w, "- **Credentials:** `%s`\n", res.CredentialSource)
	}
	keys := make([]string, 0, len(res.Evidence))
	for k := range res.Evidence {
		// The display copies of Result.Doctor are shown in their own places.
		if k != report.EvidenceDoctorCheck && k != report.EvidenceDoctorVerify {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		fmt.Fprintln(w, "- **Evidence:**")
		for _, k := range keys {
			fmt.Fprintf(w, "  - %s: `%s`\n", k, strings.ReplaceAll(oneLine(fmt.Sprint(res.Evidence[k])), "`", "'"))
		}
	}
	if res.Remedy != "" {
		fmt.Fprintf(w, "- **How to fix:** %s\n", oneLine(res.Remedy))
	}
	if res.Doctor != nil && len(res.Doctor.Verify) > 0 {
		fmt.Fprintf(w, "- **How to verify the fix:** `%s`\n", strings.Join(res.Doctor.Verify, "`, then `"))
	}
}

// doctorSubjects are the results' subjects as the doctor's table and
// markdown show them: doctorSubject, and where two rows would read the
// same (check, status, reason, subject and message: two entries of one
// config file or pull secret with the same user, each accepted) the
// config entry each row is (evidence credentialKey: the registry key the
// entry is filed under, never its secret).
func doctorSubjects(results []report.Result) []string {
	type row struct {
		check, subject, message string
		status                  report.Status
		reason                  report.Reason
	}
	rowOf := func(r report.Result, subject string) row {
		return row{DoctorCheck(r), subject, r.Message, r.Status, r.Reason}
	}
	subjects := make([]string, len(results))
	rows := map[row]int{}
	for i, r := range results {
		subjects[i] = doctorSubject(r)
		rows[rowOf(r, subjects[i])]++
	}
	for i, r := range results {
		if key, ok := r.Evidence["credentialKey"].(string); ok && key != "" && rows[rowOf(r, subjects[i])] > 1 {
			subjects[i] += " (entry " + key + ")"
		}
	}
	return subjects
}

// doctorSubject names what a result is about.
func doctorSubject(r report.Result) string {
	var parts []string
	for _, p := range []string{r.Namespace, r.Workload, r.Container} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.Join(parts, "/")
	switch {
	case r.Image != "" && s != "":
		return s + " " + r.Image
	case r.Image != "":
		return r.Image
	case s != "":
		return s
	}
	return r.Registry
}

// doctorPullFailures is the incident report's "Pull failures" section: every
// container the kubelet cannot pull for, what it says, and what
// regcheck's own pull met.
func doctorPullFailures(w io.Writer, results []report.Result) {
	first := true
	for _, res := range results {
		p := res.Pull
		if res.Check != report.CheckWorkloadPull || p == nil {
			continue
		}
		if first {
			fmt.Fprintln(w, "\n## Pull failures")
			fmt.Fprintln(w, "\n| namespace | workload | container | image | reason | pods | since | nodes | kubelet says | regcheck's pull |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
			first = false
		}
		replay := string(p.Replay)
		if replay == "" {
			replay = "not replayed"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | `%s` | %d | %s | %s | %s: %s | %s |\n",
			cell(res.Namespace), cell(res.Workload), cell(res.Container), cell(res.Image), res.Reason, p.Pods, cell(p.Since),
			cell(strings.Join(p.Nodes, ", ")), cell(p.KubeletReason), cell(strings.ReplaceAll(p.KubeletMessage, "`", "'")), replay)
	}
}
