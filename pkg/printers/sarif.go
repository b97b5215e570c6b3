package printers

import (
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/pkg/version"
)

// informationURI is where regcheck is documented, for SARIF viewers.
const informationURI = "https://github.com/regcheck/regcheck"

// sarifLevels map statuses to SARIF levels; a pass is not an alert.
var sarifLevels = map[report.Status]string{
	report.StatusFail: "error",
	report.StatusWarn: "warning",
	report.StatusSkip: "note",
}

// SARIF writes r as a SARIF 2.1.0 log (go-sarif, as Trivy writes it) for
// GitHub code scanning and other viewers: one rule per reason, one result
// per finding that did not pass, located at the file and line of its image
// when the result has one (verify), else by a logical location naming the
// namespace, workload and container (scan).
func SARIF(w io.Writer, r report.Report) error {
	log, err := sarifLog(r)
	if err != nil {
		return err
	}
	return log.PrettyWrite(w)
}

func sarifLog(r report.Report) (*sarif.Report, error) {
	run := sarif.NewRunWithInformationURI("regcheck", informationURI)
	run.Tool.Driver.WithVersion(version.Version)
	for _, res := range r.Results {
		level, ok := sarifLevels[res.Status]
		if !ok {
			continue
		}
		rule := string(res.Reason)
		run.AddRule(rule).
			WithName(rule).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(ruleText(res.Reason))).
			WithHelpURI(informationURI + "#what-it-says")
		text := res.Message
		if res.Remedy != "" {
			text += "\nRemedy: " + res.Remedy
		}
		out := run.CreateResultForRule(rule).
			WithLevel(level).
			WithMessage(sarif.NewTextMessage(text))
		if res.File != "" {
			region := sarif.NewRegion()
			if res.Line > 0 {
				region = sarif.NewSimpleRegion(res.Line, res.Line)
			}
			out.AddLocation(sarif.NewLocationWithPhysicalLocation(
				sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(res.File)).
					WithRegion(region)))
			run.AddDistinctArtifact(res.File)
		} else if name := logicalName(res); name != "" {
			out.AddLocation(sarif.NewLocation().WithLogicalLocations([]*sarif.LogicalLocation{
				sarif.NewLogicalLocation().WithFullyQualifiedName(name).WithKind("resource"),
			}))
		}
		props := sarif.NewPropertyBag()
		props.Add("check", string(res.Check))
		props.Add("status", string(res.Status))
		for k, v := range map[string]string{
			"image": res.Image, "context": res.Context, "namespace": res.Namespace, "workload": res.Workload,
			"container": res.Container, "credentialSource": res.CredentialSource, "registry": res.Registry,
		} {
			if v != "" {
				props.Add(k, v)
			}
		}
		out.WithProperties(props)
	}
	log := sarif.NewReport()
	log.AddRun(run)
	return log, nil
}

// logicalName is [context/]namespace/Kind/name/container, or the image or registry
// a result without a workload is about.
func logicalName(r report.Result) string {
	var parts []string
	for _, p := range []string{r.Context, r.Namespace, r.Workload, r.Container} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, "/")
	}
	if r.Image != "" {
		return r.Image
	}
	return r.Registry
}

// ruleText is a rule's one-line description: the reason as SPEC words it.
func ruleText(reason report.Reason) string {
	return fmt.Sprintf("regcheck reason %s", reason)
}
