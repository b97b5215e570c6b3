package printers

import (
	"bytes"
	"encoding/xml"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/regcheck/regcheck/pkg/report"
)

// verifyReport is a verify report: results with file and line.
func verifyReport() report.Report {
	return report.New(report.KindVerify, []report.Result{
		{Check: report.CheckRegistryPull, Status: report.StatusFail, Reason: report.ReasonTagNotFound, Message: "no 9.9", Remedy: "push it",
			Image: "r/web:9.9", Namespace: "shop", Workload: "Deployment/web", Container: "app", File: "k8s/web.yaml", Line: 18},
		{Check: report.CheckWorkloadPullPolicy, Status: report.StatusWarn, Reason: report.ReasonMutableTagIfNotPresent, Message: "mutable",
			Image: "r/api:latest", Namespace: "shop", Workload: "Deployment/web", Container: "api", File: "k8s/web.yaml", Line: 21},
		{Check: report.CheckImageReference, Status: report.StatusPass, Reason: report.ReasonOk, Message: "fine",
			Image: "r/api:latest", File: "k8s/web.yaml", Line: 21},
		{Check: report.CheckRegistryPull, Status: report.StatusSkip, Reason: report.ReasonNodeCredentials, Message: "node's",
			Image: "x.dkr.ecr.us-east-1.amazonaws.com/a:1", File: "k8s/job.yaml", Line: 9},
	})
}

// TestSARIFValidates checks the SARIF of a scan and of a verify report
// against the published SARIF 2.1.0 JSON schema (the one go-sarif ships),
// and that each reason is one rule and each located result points at its
// file and line.
func TestSARIFValidates(t *testing.T) {
	for name, r := range map[string]report.Report{"scan": scanReport(t), "verify": verifyReport()} {
		var buf bytes.Buffer
		if err := SARIF(&buf, r); err != nil {
			t.Fatal(err)
		}
		log, err := sarif.FromBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := log.Validate(); err != nil {
			t.Errorf("%s: not valid SARIF 2.1.0: %v", name, err)
		}
		rules := map[string]int{}
		for _, rule := range log.Runs[0].Tool.Driver.Rules {
			rules[*rule.ID]++
		}
		for id, n := range rules {
			if n != 1 {
				t.Errorf("%s: rule %s listed %d times", name, id, n)
			}
		}
		if name != "verify" {
			continue
		}
		res := log.Runs[0].Results
		if len(res) != 3 {
			t.Fatalf("verify: %d SARIF results, want 3 (passes are no alerts)", len(res))
		}
		loc := res[0].Locations[0].PhysicalLocation
		if *res[0].RuleID != "TagNotFound" || res[0].Level != "error" || *loc.ArtifactLocation.URI != "k8s/web.yaml" || *loc.Region.StartLine != 18 {
			t.Errorf("first result: rule %s level %s at %s:%d", *res[0].RuleID, res[0].Level, *loc.ArtifactLocation.URI, *loc.Region.StartLine)
		}
	}
}

// TestJUnitParses parses the JUnit back: one testsuite, one testcase per
// result, a failure per fail and skipped per skip.
func TestJUnitParses(t *testing.T) {
	var buf bytes.Buffer
	if err := JUnit(&buf, verifyReport()); err != nil {
		t.Fatal(err)
	}
	var got junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got.Suites) != 1 || got.Suites[0].Name != "regcheck VerifyReport" {
		t.Fatalf("suites: %+v", got.Suites)
	}
	s := got.Suites[0]
	if s.Tests != 4 || len(s.Cases) != 4 || s.Failures != 1 || s.Skipped != 1 || got.Failures != 1 {
		t.Errorf("tests %d cases %d failures %d skipped %d", s.Tests, len(s.Cases), s.Failures, s.Skipped)
	}
	c := s.Cases[0]
	if c.Failure == nil || c.Failure.Type != "TagNotFound" || c.File != "k8s/web.yaml" || c.Line != 18 || c.Classname != "k8s/web.yaml" {
		t.Errorf("first case: %+v", c)
	}
}
