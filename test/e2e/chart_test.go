package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// promOperator is the module whose CRDs (example/prometheus-operator-crd)
// the API server learns ServiceMonitor and PrometheusRule from, fetched
// through the Go module proxy and checked against go.sum's database.
const promOperator = "github.com/prometheus-operator/prometheus-operator@v0.85.0"

// chartDir is charts/regcheck in the checkout.
func chartDir(s *env.Sandbox) string { return filepath.Join(s.Root, "charts", "regcheck") }

// helmTemplate renders the chart as release r in namespace ns.
func helmTemplate(t *testing.T, s *env.Sandbox, ns string, args ...string) string {
	t.Helper()
	res := run(t, s, "", "helm", append([]string{"template", "r", chartDir(s), "--namespace", ns}, args...)...)
	if res.Code != 0 {
		t.Fatalf("helm template %s: exit %d\n%s", strings.Join(args, " "), res.Code, res.Stderr)
	}
	return res.Stdout
}

// chartRules renders the chart's PrometheusRule and returns its spec (the
// rule groups) as a Prometheus rule file.
func chartRules(t *testing.T, s *env.Sandbox, args ...string) string {
	t.Helper()
	out := helmTemplate(t, s, "mon", append([]string{"--set", "prometheusRule.enabled=true", "--show-only", "templates/prometheusrule.yaml"}, args...)...)
	var rule struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(out), &rule); err != nil {
		t.Fatalf("the PrometheusRule does not parse: %v\n%s", err, out)
	}
	y, err := yaml.JSONToYAML(rule.Spec)
	if err != nil {
		t.Fatal(err)
	}
	return string(y)
}

// dashboardExprs returns every PromQL expression of the chart's Grafana
// dashboard (panels and template variables), with the dashboard's own
// variables put to "everything".
func dashboardExprs(t *testing.T, s *env.Sandbox) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir(s), "dashboards", "regcheck.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q has a target without an expression", p.Title)
			}
			exprs = append(exprs, strings.ReplaceAll(tg.Expr, "$namespace", ".*"))
		}
	}
	if len(exprs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	return exprs
}

// TestChartRules proves the chart's alerts with the real promtool: the
// rendered PrometheusRule passes `promtool check rules`, and `promtool test
// rules` (testdata/chart-rules-test.yaml) shows each alert firing on a
// recorded unhealthy series after its delay and staying quiet on the
// healthy series beside it.
func TestChartRules(t *testing.T) {
	s := newSandbox(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(chartRules(t, s)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "chart-rules-test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules-test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yaml"}, {"test", "rules", "rules-test.yaml"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, s.Tools.Promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestChart proves charts/regcheck against the real API server and the real
// Prometheus: helm lint; the rendered chart (every option on, cluster-wide
// and namespaced) accepted by a server-side dry-run apply, with the
// Prometheus Operator's CRDs installed; then the chart's ServiceAccount and
// ClusterRole applied for real, and `regcheck serve` run with that
// ServiceAccount's token: it completes a scan with nothing denied, the
// audit log shows only get, list and watch from it, and a real Prometheus
// scraping it (with the chart's rules loaded) holds the Stale series, fires
// the Stale alert and answers every query of the dashboard. The namespaced
// mode's Role, installed in the workloads' namespace, suffices for a scan
// of it, again with only get, list and watch in the audit log.
func TestChart(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kubectl := func(args ...string) string {
		t.Helper()
		out, errOut, err := c.Kubectl(ctx, "", args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	all := []string{"--set", "serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboard.enabled=true"}

	// helm lint, in both RBAC modes.
	for _, mode := range []string{"true", "false"} {
		res := run(t, s, "", "helm", append([]string{"lint", "--strict", chartDir(s), "--set", "rbac.clusterWide=" + mode}, all...)...)
		if res.Code != 0 {
			t.Errorf("helm lint (clusterWide=%s): exit %d\n%s%s", mode, res.Code, res.Stdout, res.Stderr)
		}
	}

	// The ServiceMonitor and PrometheusRule CRDs, from the Prometheus
	// Operator's module on the module proxy.
	dl := exec.CommandContext(ctx, "go", "mod", "download", "-json", promOperator)
	dl.Dir = t.TempDir()
	out, err := dl.Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v\n%s", promOperator, err, out)
	}
	var mod struct{ Dir string }
	must(t, json.Unmarshal(out, &mod))
	crds := filepath.Join(mod.Dir, "example", "prometheus-operator-crd")
	for _, crd := range []string{"servicemonitors", "prometheusrules"} {
		kubectl("apply", "--server-side", "--force-conflicts", "-f", filepath.Join(crds, "monitoring.coreos.com_"+crd+".yaml"))
		kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/"+crd+".monitoring.coreos.com")
	}

	const ns = "regcheck-chart"
	must(t, c.CreateNamespace(ctx, ns))
	dir := t.TempDir()
	for _, mode := range []string{"true", "false"} {
		f := filepath.Join(dir, "chart-"+mode+".yaml")
		must(t, os.WriteFile(f, []byte(helmTemplate(t, s, ns, append(all, "--set", "rbac.clusterWide="+mode)...)), 0o644))
		applied := kubectl("apply", "--server-side", "--dry-run=server", "-f", f)
		for _, kind := range []string{"deployment.apps/r-regcheck", "service/r-regcheck", "serviceaccount/r-regcheck", "servicemonitor.monitoring.coreos.com/r-regcheck", "prometheusrule.monitoring.coreos.com/r-regcheck", "configmap/r-regcheck-dashboard"} {
			if !strings.Contains(applied, kind+" serverside-applied (server dry run)") {
				t.Errorf("clusterWide=%s: the dry-run apply did not take %s:\n%s", mode, kind, applied)
			}
		}
	}

	// The ServiceAccount and its ClusterRole, for real.
	rbac := filepath.Join(dir, "rbac.yaml")
	must(t, os.WriteFile(rbac, []byte(helmTemplate(t, s, ns, "--show-only", "templates/serviceaccount.yaml", "--show-only", "templates/rbac.yaml")), 0o644))
	kubectl("apply", "--server-side", "-f", rbac)
	saKubeconfig := filepath.Join(dir, "sa-kubeconfig")
	must(t, c.ServiceAccountKubeconfig(ctx, ns, "r-regcheck", saKubeconfig))

	// A workload whose :latest moved on (Stale) and one that is current.
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	const app = "chart-e2e"
	must(t, c.CreateNamespace(ctx, app))
	must(t, c.CreateNode(ctx, "chart-node", "linux", "amd64"))
	_, err = c.Admin.CoreV1().Secrets(app).Create(ctx, env.DockerConfigSecret(app, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	web, err := env.PushRandomImage(reg, "chart/web", "1.0", "admin")
	must(t, err)
	apiOld, err := env.PushRandomImage(reg, "chart/api", "latest", "admin")
	must(t, err)
	running := func(id string) func(int) map[string]string {
		return func(int) map[string]string { return map[string]string{"app": id} }
	}
	_, err = c.RunDeployment(ctx, app, "web", 1, spec1(web.Ref, "regcred"), "chart-node", running(web.DigestRef))
	must(t, err)
	_, err = c.RunDeployment(ctx, app, "api", 1, spec1(apiOld.Ref, "regcred"), "chart-node", running(apiOld.DigestRef))
	must(t, err)
	_, err = env.PushRandomImage(reg, "chart/api", "latest", "admin")
	must(t, err)

	// serve as the chart's ServiceAccount, over every namespace, as the
	// chart's Deployment runs it.
	cmd := exec.Command(s.Tools.Kubectl, "regcheck", "serve", "--listen", "127.0.0.1:0", "--interval", "2s",
		"--kubeconfig", saKubeconfig, "--plain-http", "--timeout", "60s")
	cmd.Dir, cmd.Env = s.Dir, s.Env()
	stderr, err := cmd.StderrPipe()
	must(t, err)
	must(t, cmd.Start())
	log := newLogWatch(stderr)
	defer func() {
		_ = cmd.Process.Kill()
		<-log.closed
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("serve's stderr:\n%s", log.text())
		}
	}()
	line, err := log.await(ctx, regexp.MustCompile(`on http://(127\.0\.0\.1:\d+)`))
	must(t, err)
	target := line[1]
	_, err = log.await(ctx, regexp.MustCompile(`scan: \d+ results`))
	must(t, err)

	// Sufficient: the scan read everything it wanted (no cluster.read skip
	// says RBAC kept something from it).
	metrics := httpGet(ctx, t, "http://"+target+"/metrics")
	if strings.Contains(metrics, `check="cluster.read"`) {
		t.Errorf("serve as the chart's ServiceAccount could not read everything:\n%s", grepLines(metrics, "cluster.read"))
	}
	if !strings.Contains(metrics, `reason="Stale",status="fail",workload="Deployment/api"`) {
		t.Errorf("serve as the chart's ServiceAccount lacks the Stale result:\n%s", grepLines(metrics, "regcheck_result{"))
	}

	// The real Prometheus scrapes it, with the chart's rules (the Stale
	// alert's delay set to nothing, so it fires within the test).
	pdir := t.TempDir()
	prom, err := env.StartPrometheus(ctx, pdir, s.Tools.Prometheus, fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yaml]
scrape_configs:
  - job_name: regcheck
    honor_labels: true
    static_configs:
      - targets: [%q]
`, target), map[string]string{"rules.yaml": chartRules(t, s, "--set", "prometheusRule.rules.stale.for=0s")})
	must(t, err)
	defer func() {
		_ = prom.Stop()
		if t.Failed() {
			t.Logf("prometheus's log:\n%s", prom.Proc.Tail(30))
		}
	}()
	stale := promAwait(ctx, t, prom, `regcheck_result{reason="Stale",namespace="`+app+`"}`)
	if got := stale[0].Metric; got["workload"] != "Deployment/api" || got["image"] != apiOld.Ref || got["check"] != "workload.digest" {
		t.Errorf("the Stale series in Prometheus: %v", got)
	}
	promAwait(ctx, t, prom, `ALERTS{alertname="RegcheckImageStale",alertstate="firing",namespace="`+app+`",workload="Deployment/api"}`)
	for _, expr := range dashboardExprs(t, s) {
		promQuery(ctx, t, prom, expr) // fails the test on an error answer
	}

	// The namespace-scoped mode, installed in the workloads' namespace: its
	// Role (and the nodes' ClusterRole) suffice for a scan of that namespace
	// (a one-shot scan: the same reads serve's informers list and watch).
	nsRBAC := filepath.Join(dir, "rbac-namespaced.yaml")
	must(t, os.WriteFile(nsRBAC, []byte(helmTemplate(t, s, app, "--set", "rbac.clusterWide=false", "--show-only", "templates/serviceaccount.yaml", "--show-only", "templates/rbac.yaml")), 0o644))
	kubectl("apply", "--server-side", "-f", nsRBAC)
	nsKubeconfig := filepath.Join(dir, "sa-namespaced-kubeconfig")
	must(t, c.ServiceAccountKubeconfig(ctx, app, "r-regcheck", nsKubeconfig))
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", app, "--kubeconfig", nsKubeconfig, "--plain-http", "--timeout", "60s")
	stales := 0
	for _, x := range r.Results {
		if x.Check == report.CheckClusterRead {
			t.Errorf("namespaced mode: %s %s %s", x.Check, x.Reason, x.Message)
		}
		if x.Reason == report.ReasonStale && x.Workload == "Deployment/api" {
			stales++
		}
	}
	if stales != 1 {
		t.Errorf("namespaced mode: exit %d, %d Stale results for Deployment/api, want 1\n%s", res.Code, stales, dump(r))
	}

	// Minimal: each ServiceAccount only ever got, listed or watched, and
	// nothing was denied.
	for _, user := range []string{"system:serviceaccount:" + ns + ":r-regcheck", "system:serviceaccount:" + app + ":r-regcheck"} {
		events, err := c.AuditEvents(user)
		must(t, err)
		if len(events) == 0 {
			t.Fatalf("no request from %s in the audit log", user)
		}
		for _, e := range events {
			switch e.Verb {
			case "get", "list", "watch":
			default:
				t.Errorf("%s sent %s %s", user, e.Verb, e.RequestURI)
			}
			if e.ResponseStatus != nil && e.ResponseStatus.Code == http.StatusForbidden {
				t.Errorf("%s was denied %s %s", user, e.Verb, e.RequestURI)
			}
		}
		t.Logf("%d requests from %s, all get, list or watch, none denied", len(events), user)
	}
}

func httpGet(ctx context.Context, t *testing.T, u string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, b)
	}
	return string(b)
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

type promSample struct {
	Metric map[string]string `json:"metric"`
}

// promQuery runs an instant query through Prometheus' HTTP API and returns
// the vector it answers; an error answer fails the test.
func promQuery(ctx context.Context, t *testing.T, prom *env.Prometheus, q string) []promSample {
	t.Helper()
	body := httpGet(ctx, t, prom.URL+"/api/v1/query?query="+url.QueryEscape(q))
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s %s", q, err, r.Error, body)
	}
	var v []promSample
	if r.Data.ResultType == "vector" {
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// promAwait asks q until Prometheus answers a non-empty vector, bounded by
// ctx (scrapes and rule evaluations come every second).
func promAwait(ctx context.Context, t *testing.T, prom *env.Prometheus, q string) []promSample {
	t.Helper()
	for {
		if v := promQuery(ctx, t, prom, q); len(v) > 0 {
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus never answered %s", q)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
