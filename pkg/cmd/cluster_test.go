package cmd

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// kubeconfigFor writes a kubeconfig whose cluster is server.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
users:
- name: u
  user:
    token: not-a-secret
contexts:
- name: c
  context: {cluster: c, user: u, namespace: shop}
current-context: c
`, server)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// apiStatus answers as the API server does when it fails.
func apiStatus(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected","reason":%q,"code":%d}`, reason, code)
}

func TestScanClusterFaults(t *testing.T) {
	closed := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}
	serve := func(h http.HandlerFunc) func(t *testing.T) string {
		return func(t *testing.T) string {
			s := httptest.NewServer(h)
			t.Cleanup(s.Close)
			return s.URL
		}
	}
	hang := serve(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	// Pods answer (none); every other LIST fails with 503.
	partial := serve(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/pods") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`)
			return
		}
		apiStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable")
	})
	unauthorized := serve(func(w http.ResponseWriter, r *http.Request) { apiStatus(w, http.StatusUnauthorized, "Unauthorized") })

	for _, tc := range []struct {
		name    string
		server  func(*testing.T) string
		timeout string
		code    int
		stderr  []string
		within  time.Duration
	}{
		{"API server gone", closed, "10s", 2, []string{"error: reading the cluster: Unreachable: no workload could be read in namespace shop: pods, replicasets,", "(connection refused)", "hint: check that the API server is up"}, 5 * time.Second},
		{"API server never answers", hang, "1500ms", 2, []string{"error: reading the cluster: Unreachable:", "did not answer within", "hint:", "--timeout"}, 4 * time.Second},
		{"credentials rejected", unauthorized, "10s", 2, []string{"InvalidCredentials", "(401 Unauthorized)", "hint: renew"}, 5 * time.Second},
		{"503 on all but pods", partial, "10s", 0, []string{"warning: deployments in namespace shop could not be listed: the API server answered 503 (ServiceUnavailable)"}, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc := kubeconfigFor(t, tc.server(t))
			start := time.Now()
			stdout, stderr, code := runCmd(t, map[string]string{"HOME": t.TempDir()}, "", "scan", "--kubeconfig", kc, "--timeout", tc.timeout, "-o", "json")
			if took := time.Since(start); took > tc.within {
				t.Errorf("took %s, want under %s", took, tc.within)
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "not-a-secret") || strings.Contains(stdout, "not-a-secret") {
				t.Error("the kubeconfig token reached the output")
			}
			if tc.code != 0 {
				return
			}
			var r report.Report
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatalf("not a report: %v\n%s", err, stdout)
			}
			skipped := map[string]bool{}
			for _, res := range r.Results {
				if res.Check == report.CheckClusterRead && res.Status == report.StatusSkip && res.Reason == report.ReasonServerError && res.Remedy != "" {
					skipped[fmt.Sprint(res.Evidence["resource"])] = res.Evidence["httpStatus"] == float64(503)
				}
			}
			for _, res := range []string{"replicasets", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers"} {
				if !skipped[res] {
					t.Errorf("no cluster.read skip (ServerError, 503) for %s in %s", res, stdout)
				}
			}
		})
	}
}

// TestScanNothingFound is a cluster with no workloads: a namespace with
// none says so in kubectl's words, and a workload named that does not exist
// is not found, as kubectl get says it, and not "No results." with exit 0.
func TestScanNothingFound(t *testing.T) {
	lists := map[string]string{
		"pods": "PodList", "replicasets": "ReplicaSetList", "deployments": "DeploymentList", "statefulsets": "StatefulSetList",
		"daemonsets": "DaemonSetList", "jobs": "JobList", "cronjobs": "CronJobList", "replicationcontrollers": "ReplicationControllerList", "nodes": "NodeList",
	}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		apiVersion := "v1"
		if parts[0] == "apis" {
			apiVersion = parts[1] + "/" + parts[2]
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":%q,"apiVersion":%q,"metadata":{},"items":[]}`, lists[parts[len(parts)-1]], apiVersion)
	}))
	t.Cleanup(s.Close)
	kc := kubeconfigFor(t, s.URL)
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"-n", "shop"}, 0, "", "No resources found in shop namespace.\n"},
		{[]string{"-A"}, 0, "", "No resources found\n"},
		{[]string{"deploy/nope", "-n", "shop"}, 2, "", "Error from server (NotFound): deployments.apps \"nope\" not found\n"},
		{[]string{"deploy/nope", "po/gone", "-n", "shop", "-o", "json"}, 2, `"results": []`, "Error from server (NotFound): deployments.apps \"nope\" not found\nError from server (NotFound): pods \"gone\" not found\n"},
	} {
		stdout, stderr, code := runCmd(t, map[string]string{"HOME": t.TempDir()}, "", append([]string{"scan", "--kubeconfig", kc}, tc.args...)...)
		if code != tc.code || stderr != tc.stderr || (tc.stdout == "" && stdout != "") || !strings.Contains(stdout, tc.stdout) {
			t.Errorf("scan %v: exit %d, want %d\nstdout: %q, want %q\nstderr: %q, want %q", tc.args, code, tc.code, stdout, tc.stdout, stderr, tc.stderr)
		}
	}
}
