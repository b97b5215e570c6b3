package printers

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// The JUnit XML schema as CI systems read it (Jenkins, GitLab, Azure, the
// test-report actions), in the shape gotestsum writes: written here with
// encoding/xml because no kept library exports its types (gotestsum's are
// internal), and the format is these few elements.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit writes r as JUnit XML: one testsuite for the command (its report
// kind), one testcase per result, a failure for each fail, skipped for
// each skip; a warn passes, its message and remedy in system-out.
func JUnit(w io.Writer, r report.Report) error {
	suite := junitSuite{Name: "regcheck " + r.Kind}
	for _, res := range r.Results {
		c := junitCase{Name: caseName(res), Classname: className(res), File: res.File, Line: res.Line}
		detail := res.Message
		if res.Remedy != "" {
			detail += "\nRemedy: " + res.Remedy
		}
		switch res.Status {
		case report.StatusFail:
			c.Failure = &junitFailure{Message: string(res.Reason) + ": " + oneLine(res.Message), Type: string(res.Reason), Text: detail}
			suite.Failures++
		case report.StatusSkip:
			c.Skipped = &junitSkipped{Message: string(res.Reason) + ": " + oneLine(res.Message)}
			suite.Skipped++
		case report.StatusWarn:
			c.SystemOut = "warn " + string(res.Reason) + ": " + detail
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding JUnit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// caseName is the check and what it is about: "registry.pull
// shop/Deployment/web/app (ghcr.io/acme/web:1.0)".
func caseName(r report.Result) string {
	name := string(r.Check)
	if s := logicalName(r); s != "" {
		name += " " + s
	}
	if r.Image != "" && r.Workload != "" {
		name += " (" + r.Image + ")"
	}
	return name
}

// className groups test cases as CI shows them: by file for verify, by
// namespace and workload for scan, by registry otherwise.
func className(r report.Result) string {
	switch {
	case r.File != "":
		return r.File
	case r.Workload != "":
		return strings.Trim(strings.Join([]string{r.Context, r.Namespace, r.Workload}, "/"), "/")
	case r.Registry != "":
		return r.Registry
	}
	return "regcheck"
}
