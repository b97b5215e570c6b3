package serve

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/regcheck/regcheck/pkg/report"
)

func TestCollectorBeforeFirstScan(t *testing.T) {
	c := NewCollector()
	if c.Ready() {
		t.Error("ready before any scan")
	}
	c.ScanFailed()
	want := `# HELP regcheck_scan_errors_total Scans that failed; the results of the last completed scan are kept.
# TYPE regcheck_scan_errors_total counter
regcheck_scan_errors_total 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if c.Ready() {
		t.Error("ready after a failed scan only")
	}
}

func TestCollectorSnapshot(t *testing.T) {
	c := NewCollector()
	results := []report.Result{
		{Check: report.CheckWorkloadDigest, Status: report.StatusPass, Reason: "Current", Namespace: "shop", Workload: "deployment/web", Container: "app", Image: "r.io/web:1.0"},
		{Check: report.CheckWorkloadDigest, Status: report.StatusWarn, Reason: "Stale", Namespace: "shop", Workload: "deployment/api", Container: "app", Image: "r.io/api:latest"},
		// The same series twice (two findings on one container): one series.
		{Check: report.CheckCredentialsSecret, Status: report.StatusWarn, Reason: "SecretNotFound", Namespace: "shop", Workload: "deployment/api", Container: "app", Image: "r.io/api:latest", Message: "first"},
		{Check: report.CheckCredentialsSecret, Status: report.StatusWarn, Reason: "SecretNotFound", Namespace: "shop", Workload: "deployment/api", Container: "app", Image: "r.io/api:latest", Message: "second"},
		// A namespace that could not be read: no workload, no image.
		{Check: report.CheckClusterRead, Status: report.StatusSkip, Reason: "Forbidden", Namespace: "locked", Message: "secret-looking words never become labels"},
	}
	end := time.Unix(1700000000, 500_000_000)
	c.Update(results, end, 1500*time.Millisecond)
	if !c.Ready() {
		t.Fatal("not ready after a completed scan")
	}
	c.ScanFailed()
	want := `# HELP regcheck_last_scan_timestamp_seconds When the last completed scan ended, in seconds since the Unix epoch.
# TYPE regcheck_last_scan_timestamp_seconds gauge
regcheck_last_scan_timestamp_seconds 1.7000000005e+09
# HELP regcheck_result 1 for each result of the last completed scan (one per check, workload, container and image).
# TYPE regcheck_result gauge
regcheck_result{check="cluster.read",container="",image="",namespace="locked",reason="Forbidden",status="skip",workload=""} 1
regcheck_result{check="credentials.secret",container="app",image="r.io/api:latest",namespace="shop",reason="SecretNotFound",status="warn",workload="deployment/api"} 1
regcheck_result{check="workload.digest",container="app",image="r.io/api:latest",namespace="shop",reason="Stale",status="warn",workload="deployment/api"} 1
regcheck_result{check="workload.digest",container="app",image="r.io/web:1.0",namespace="shop",reason="Current",status="pass",workload="deployment/web"} 1
# HELP regcheck_results Results of the last completed scan by status and reason.
# TYPE regcheck_results gauge
regcheck_results{reason="Current",status="pass"} 1
regcheck_results{reason="Forbidden",status="skip"} 1
regcheck_results{reason="SecretNotFound",status="warn"} 2
regcheck_results{reason="Stale",status="warn"} 1
# HELP regcheck_scan_duration_seconds How long the last completed scan took.
# TYPE regcheck_scan_duration_seconds gauge
regcheck_scan_duration_seconds 1.5
# HELP regcheck_scan_errors_total Scans that failed; the results of the last completed scan are kept.
# TYPE regcheck_scan_errors_total counter
regcheck_scan_errors_total 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// promtool's linter, in-process: names, units and help text.
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	// The next scan replaces the snapshot whole: gone results leave.
	c.Update(results[:1], end.Add(time.Minute), time.Second)
	if n := testutil.CollectAndCount(c, "regcheck_result"); n != 1 {
		t.Errorf("regcheck_result series after a smaller scan = %d, want 1", n)
	}
}

func TestCollectorCountsRegistryRequests(t *testing.T) {
	c := NewCollector()
	c.CountRequest("r.io", "manifest_head", "200")
	c.CountRequest("r.io", "manifest_head", "200")
	c.CountRequest("auth.r.io", "token", "200")
	c.CountRequest("r.io", "ping", "")
	want := `# HELP regcheck_registry_requests_total Requests sent to registries, by registry host, kind (ping, token, manifest_head, manifest_get, tags, blob, upload, catalog, other) and HTTP status code (empty without an answer).
# TYPE regcheck_registry_requests_total counter
regcheck_registry_requests_total{code="",kind="ping",registry="r.io"} 1
regcheck_registry_requests_total{code="200",kind="manifest_head",registry="r.io"} 2
regcheck_registry_requests_total{code="200",kind="token",registry="auth.r.io"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "regcheck_registry_requests_total"); err != nil {
		t.Error(err)
	}
}
