package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleReport() report.Report {
	return report.New(report.KindScan, []report.Result{
		{
			Check: report.CheckWorkloadDigest, Status: report.StatusPass, Reason: report.ReasonCurrent,
			Message: "2/2 pods run the current digest", Namespace: "shop", Workload: "Deployment/web", Container: "web",
			Image: "registry.example.com/shop/web:1.4", CredentialSource: "secret/shop/regcred",
			Evidence: report.Evidence{"current": "sha256:aaaa"},
		},
		{
			Check: report.CheckWorkloadDigest, Status: report.StatusFail, Reason: report.ReasonStale,
			Message: "no pod runs the digest latest points to now (1 pod on an older digest)", Namespace: "shop", Workload: "Deployment/api", Container: "api",
			Image: "registry.example.com/shop/api:latest", CredentialSource: "anonymous",
			Remedy:   "kubectl rollout restart deployment/api -n shop",
			Evidence: report.Evidence{"running": "sha256:bbbb", "current": "sha256:cccc"},
		},
		{
			Check: report.CheckWorkloadPullPolicy, Status: report.StatusWarn, Reason: report.ReasonMutableTagIfNotPresent,
			Message: "mutable tag latest with imagePullPolicy IfNotPresent | nodes keep their cached copy", Namespace: "shop", Workload: "Deployment/api", Container: "api",
			Image:  "registry.example.com/shop/api:latest",
			Remedy: "set imagePullPolicy: Always, or better, push a unique tag per build and pin image@sha256:…",
		},
	})
}

func TestPrintGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Print(&buf, format, sampleReport()); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "scan."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/printers -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, buf.String())
			}
		})
	}
}

func TestValidateFormat(t *testing.T) {
	for _, tc := range []struct {
		format string
		ok     bool
	}{{"table", true}, {"json", true}, {"markdown", true}, {"xml", false}, {"", false}} {
		if err := ValidateFormat(tc.format); (err == nil) != tc.ok {
			t.Errorf("ValidateFormat(%q) = %v, want ok=%v", tc.format, err, tc.ok)
		}
	}
}

func TestEmptyReportIsValidJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := Print(&buf, "json", report.New(report.KindAuth, nil)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"results": []`)) {
		t.Errorf("empty results must be [], got:\n%s", buf.String())
	}
}
