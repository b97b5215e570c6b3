package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// The API server half of issue 8: a slow API server, one gone mid-run,
// 403 on some kinds, 5xx on one kind, a namespace with thousands of pods.
// Partial results carry cluster.read skips that name what was not read and
// why; exit 2 only when nothing could be read.

// apiFaultsFixture is a namespace with a Deployment and a bare pod that
// both run the current digest of an image in an anonymous registry.
type apiFaultsFixture struct {
	c   *env.Cluster
	s   *env.Sandbox
	ns  string
	reg *env.Registry
}

func newAPIFaultsFixture(t *testing.T, ns string) *apiFaultsFixture {
	t.Helper()
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthNone})
	ctx := clusterContext(t)
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	img, err := env.PushRandomImage(reg, "apifaults/web", "1.0", "")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"app": img.DigestRef}
	if _, err := c.RunDeployment(ctx, ns, "web", 2, spec1(img.Ref), "", func(int) map[string]string { return ids }); err != nil {
		t.Fatal(err)
	}
	if err := c.RunPod(ctx, ns, "debug", spec1(img.Ref), "", ids); err != nil {
		t.Fatal(err)
	}
	return &apiFaultsFixture{c: c, s: s, ns: ns, reg: reg}
}

// proxy starts an API proxy that reads the cluster as the viewer.
func (f *apiFaultsFixture) proxy(t *testing.T, intercept func(p *env.APIProxy) func(http.ResponseWriter, *http.Request, http.Handler)) *env.APIProxy {
	t.Helper()
	p, err := f.c.StartAPIProxy(f.c.ViewerConfig, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if intercept != nil {
		p.SetIntercept(intercept(p))
	}
	return p
}

// scan runs kubectl regcheck against the namespace and times it.
// startMargin is what starting kubectl and the plugin, and their exit,
// may add to a run bounded by --timeout on a loaded 2-core machine (a 5s
// --timeout took 12.3s at load 28). The bounds it widens only tell an
// ended run from a hung one; the causes are checked by the messages.
const startMargin = 15 * time.Second

func (f *apiFaultsFixture) scan(t *testing.T, kubeconfig string, args ...string) (report.Report, env.Result, time.Duration) {
	t.Helper()
	start := time.Now()
	args = append([]string{"regcheck", "-n", f.ns, "--kubeconfig", kubeconfig, "--plain-http"}, args...)
	r, res := runJSON(t, f.s, "", "kubectl", args...)
	return r, res, time.Since(start)
}

// scanFails runs a scan that must fail to run, and times it.
func (f *apiFaultsFixture) scanFails(t *testing.T, kubeconfig string, args ...string) (env.Result, time.Duration) {
	t.Helper()
	start := time.Now()
	res := run(t, f.s, "", "kubectl", append([]string{"regcheck", "-n", f.ns, "--kubeconfig", kubeconfig, "--plain-http"}, args...)...)
	took := time.Since(start)
	if res.Code != 2 {
		t.Errorf("exit %d, want 2 (nothing could be read)\nstdout: %s\nstderr: %s", res.Code, res.Stdout, res.Stderr)
	}
	if strings.Contains(res.Stderr, "goroutine ") || strings.Contains(res.Stderr, "panic") {
		t.Errorf("stack trace on stderr:\n%s", res.Stderr)
	}
	return res, took
}

// skips returns the cluster.read skips by resource, checking each names
// its resource and namespace and carries a remedy.
func skips(t *testing.T, r report.Report) map[string]report.Result {
	t.Helper()
	out := map[string]report.Result{}
	for _, res := range r.Results {
		if res.Check != report.CheckClusterRead {
			continue
		}
		resource := fmt.Sprint(res.Evidence["resource"])
		if res.Status != report.StatusSkip || res.Remedy == "" || !strings.HasPrefix(res.Message, resource) {
			t.Errorf("cluster.read result %+v: want a skip that starts with its resource and has a remedy", res)
		}
		if resource != "nodes" && !strings.Contains(res.Message, "in namespace "+res.Namespace) {
			t.Errorf("cluster.read message %q does not name namespace %s", res.Message, res.Namespace)
		}
		out[resource] = res
	}
	return out
}

// expectSkips asserts exactly these resources were skipped with reason.
func expectSkips(t *testing.T, r report.Report, reason report.Reason, why string, resources ...string) map[string]report.Result {
	t.Helper()
	got := skips(t, r)
	var names []string
	for name, res := range got {
		names = append(names, name)
		if res.Reason != reason || !strings.Contains(res.Message, why) {
			t.Errorf("%s skipped as %s: %q; want %s and %q", name, res.Reason, res.Message, reason, why)
		}
	}
	slices.Sort(names)
	slices.Sort(resources)
	if !slices.Equal(names, resources) {
		t.Errorf("skipped %v, want %v\n%s", names, resources, dump(r))
	}
	return got
}

// expectCurrent asserts the workload's digest check passed.
func expectCurrent(t *testing.T, r report.Report, workload string) {
	t.Helper()
	for _, res := range r.Results {
		if res.Check == report.CheckWorkloadDigest && res.Workload == workload {
			if res.Status != report.StatusPass || res.Reason != report.ReasonCurrent {
				t.Errorf("%s: %s/%s, want pass/Current: %s", workload, res.Status, res.Reason, res.Message)
			}
			return
		}
	}
	t.Errorf("no workload.digest result for %s in\n%s", workload, dump(r))
}

func isList(r *http.Request, resource string) bool {
	return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+resource)
}

func TestAPIFaults(t *testing.T) {
	f := newAPIFaultsFixture(t, "e2e-apifaults")
	ctx := clusterContext(t)

	t.Run("403 on some kinds: partial, skips name the kinds", func(t *testing.T) {
		// Real RBAC: a user who may list pods, replicasets and deployments
		// in the namespace, nothing else (no nodes, no secrets).
		const user = "e2e-apifaults-partial"
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: f.ns},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
				{APIGroups: []string{"apps"}, Resources: []string{"replicasets", "deployments"}, Verbs: []string{"get", "list"}},
			},
		}
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: f.ns},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if _, err := f.c.Admin.RbacV1().Roles(f.ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.Admin.RbacV1().RoleBindings(f.ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r, res, took := f.scan(t, f.c.Kubeconfig, "--as", user)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0 (skips and warnings only)\nstderr: %s", res.Code, res.Stderr)
		}
		got := expectSkips(t, r, report.ReasonForbidden, "may not be listed (forbidden)",
			"statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers", "nodes")
		if rem := got["daemonsets"].Remedy; !strings.Contains(rem, "kubectl auth can-i list daemonsets -n "+f.ns) {
			t.Errorf("remedy %q does not say how to check the permission", rem)
		}
		expectCurrent(t, r, "Deployment/web")
		expectCurrent(t, r, "Pod/debug")
		if !strings.Contains(res.Stderr, "warning: daemonsets in namespace "+f.ns+" may not be listed (forbidden)") {
			t.Errorf("stderr does not warn about daemonsets:\n%s", res.Stderr)
		}
		t.Logf("403 on some kinds: exit %d in %s, %d skips", res.Code, took.Round(time.Millisecond), r.Summary.Skip)

		// A skip is not a failure, but the secrets the user may not read
		// are a warning: --fail-on warn makes the run fail, still not 2.
		_, res, _ = f.scan(t, f.c.Kubeconfig, "--as", user, "--fail-on", "warn")
		if res.Code != 1 {
			t.Errorf("--fail-on warn: exit %d, want 1", res.Code)
		}
	})

	t.Run("one kind answers 503, another 500: partial", func(t *testing.T) {
		p := f.proxy(t, func(*env.APIProxy) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				switch {
				case isList(r, "daemonsets"):
					env.WriteAPIStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the server is currently unable to handle the request")
				case isList(r, "jobs"):
					env.WriteAPIStatus(w, http.StatusInternalServerError, "InternalError", "Internal error occurred: etcdserver: request timed out")
				default:
					next.ServeHTTP(w, r)
				}
			}
		})
		r, res, took := f.scan(t, p.Kubeconfig)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s", res.Code, res.Stderr)
		}
		got := expectSkips(t, r, report.ReasonServerError, "could not be listed: the API server answered 5", "daemonsets", "jobs")
		if ev := got["daemonsets"].Evidence["httpStatus"]; ev != float64(503) {
			t.Errorf("daemonsets httpStatus = %v, want 503", ev)
		}
		if msg := got["jobs"].Message; !strings.Contains(msg, "answered 500 (InternalError): Internal error occurred: etcdserver: request timed out") {
			t.Errorf("jobs message %q does not carry the API server's answer", msg)
		}
		expectCurrent(t, r, "Deployment/web")
		t.Logf("503 on one kind: exit %d in %s", res.Code, took.Round(time.Millisecond))
	})

	t.Run("gone mid-run: partial", func(t *testing.T) {
		p := f.proxy(t, func(p *env.APIProxy) func(http.ResponseWriter, *http.Request, http.Handler) {
			var once sync.Once
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if isList(r, "pods") {
					next.ServeHTTP(w, r)
					// Once this answer is out, the API server goes away.
					once.Do(func() { time.AfterFunc(300*time.Millisecond, p.Go) })
					return
				}
				// Every other request waits for the end, then loses its
				// connection.
				select {
				case <-p.Gone():
				case <-r.Context().Done():
				}
				panic(http.ErrAbortHandler)
			}
		})
		r, res, took := f.scan(t, p.Kubeconfig, "--timeout", "30s")
		if res.Code == 2 {
			t.Errorf("exit 2, want partial results\nstderr: %s", res.Stderr)
		}
		expectSkips(t, r, report.ReasonUnreachable, "could not be listed: the API server",
			"replicasets", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers", "nodes")
		// The pods alone still name their Deployment, by pod-template-hash.
		expectCurrent(t, r, "Deployment/web")
		expectCurrent(t, r, "Pod/debug")
		sec := find(t, r, report.CheckCredentialsSecret)
		if sec.Reason != report.ReasonCredentialsUnreadable || !strings.Contains(sec.Message, "is not answering (connection refused)") {
			t.Errorf("credentials: %s %q, want CredentialsUnreadable saying the API server is gone", sec.Reason, sec.Message)
		}
		// Not a wait for --timeout: client-go's one retry after the cut
		// connection, then refused.
		if took > 20*time.Second {
			t.Errorf("took %s, want well under --timeout 30s", took)
		}
		t.Logf("gone mid-run: exit %d in %s", res.Code, took.Round(time.Millisecond))
	})

	t.Run("gone from the start: exit 2, fast, named", func(t *testing.T) {
		p := f.proxy(t, nil)
		p.Go()
		res, took := f.scanFails(t, p.Kubeconfig, "--timeout", "60s")
		for _, want := range []string{
			"error: reading the cluster: Unreachable: no workload could be read in namespace " + f.ns + ": pods, replicasets, deployments,",
			"(connection refused)",
			"hint: check that the API server is up",
		} {
			if !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr does not contain %q:\n%s", want, res.Stderr)
			}
		}
		if res.Stdout != "" {
			t.Errorf("stdout = %q, want nothing", res.Stdout)
		}
		if took > 15*time.Second {
			t.Errorf("took %s, want far under --timeout 60s: a refused connection is final", took)
		}
		t.Logf("gone from the start: exit %d in %s", res.Code, took.Round(time.Millisecond))
	})

	t.Run("never answers: ends within --timeout, named", func(t *testing.T) {
		p := f.proxy(t, func(*env.APIProxy) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) { <-r.Context().Done() }
		})
		res, took := f.scanFails(t, p.Kubeconfig, "--timeout", "5s")
		for _, want := range []string{"error: reading the cluster: Unreachable:", "could not be listed: the API server did not answer within", "hint:", "--timeout"} {
			if !strings.Contains(res.Stderr, want) {
				t.Errorf("stderr does not contain %q:\n%s", want, res.Stderr)
			}
		}
		// A run that ignored --timeout would wait for the test's own
		// deadline; startMargin keeps a loaded machine from failing it.
		if took > 5*time.Second+startMargin {
			t.Errorf("took %s, want within --timeout 5s (and %s to start and exit)", took, startMargin)
		}
		t.Logf("never answers: exit %d in %s", res.Code, took.Round(time.Millisecond))
	})

	t.Run("one kind too slow: skipped within its share of --timeout", func(t *testing.T) {
		p := f.proxy(t, func(*env.APIProxy) func(http.ResponseWriter, *http.Request, http.Handler) {
			return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if isList(r, "statefulsets") {
					<-r.Context().Done()
					return
				}
				next.ServeHTTP(w, r)
			}
		})
		r, res, took := f.scan(t, p.Kubeconfig, "--timeout", "15s")
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s", res.Code, res.Stderr)
		}
		expectSkips(t, r, report.ReasonUnreachable, "could not be listed: the API server did not answer within 5", "statefulsets")
		expectCurrent(t, r, "Deployment/web")
		if took > 15*time.Second+startMargin {
			t.Errorf("took %s, want within --timeout 15s (and %s to start and exit)", took, startMargin)
		}
		t.Logf("one kind too slow: exit %d in %s", res.Code, took.Round(time.Millisecond))
	})
}

// TestAPIFaultsThousandsOfPods scans a namespace of 3,000 pods through the
// proxy: every pod is reported, and the pods LIST came in pages of 500.
func TestAPIFaultsThousandsOfPods(t *testing.T) {
	const (
		ns    = "e2e-apifaults-big"
		total = 3000
	)
	c := sharedCluster(t)
	s := newSandbox(t)
	ctx := clusterContext(t)
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	// Created directly, 16 at a time, without client-go's rate limit; the
	// pods share two references of an unreachable registry, never pulled.
	cfg := rest.CopyConfig(c.AdminConfig)
	cfg.QPS = -1
	admin, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sem := make(chan struct{}, 16)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	for i := range total {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%04d", i), Namespace: ns},
				Spec: corev1.PodSpec{
					Containers:                   []corev1.Container{{Name: "app", Image: fmt.Sprintf("127.0.0.1:1/apifaults/big:%d", i%2)}},
					AutomountServiceAccountToken: ptr.To(false),
				},
			}
			if _, err := admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("creating pods: %v", err)
	}
	t.Logf("%d pods created in %s", total, time.Since(start).Round(time.Millisecond))

	p, err := c.StartAPIProxy(c.ViewerConfig, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	start = time.Now()
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", p.Kubeconfig, "--plain-http", "--timeout", "60s")
	took := time.Since(start)
	if res.Code == 2 {
		t.Fatalf("exit 2\nstderr: %s", res.Stderr)
	}
	pods := map[string]bool{}
	for _, res := range r.Results {
		if res.Check == report.CheckWorkloadDigest && strings.HasPrefix(res.Workload, "Pod/") {
			pods[res.Workload] = true
		}
		if res.Check == report.CheckClusterRead {
			t.Errorf("unexpected skip: %s", res.Message)
		}
	}
	if len(pods) != total {
		t.Errorf("%d pods reported, want %d", len(pods), total)
	}
	var pages, continued int
	for _, req := range p.Requests() {
		if req.Path != "/api/v1/namespaces/"+ns+"/pods" {
			continue
		}
		pages++
		if req.Query.Get("limit") != "500" {
			t.Errorf("pods LIST %v without limit=500", req.Query)
		}
		if req.Query.Get("continue") != "" {
			continued++
		}
	}
	if pages != total/500 || continued != total/500-1 {
		t.Errorf("pods LIST in %d pages (%d continued), want %d pages of 500", pages, continued, total/500)
	}
	t.Logf("%d pods scanned in %s (exit %d), pods LIST in %d pages", len(pods), took.Round(time.Millisecond), res.Code, pages)
}
