package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestServeRefusedWatch runs serve as a ServiceAccount on the real API
// server and, as admin, removes the RoleBinding that lets it read pods
// mid-run, then puts it back. While the informer's WATCH and LIST are
// refused, each scan says so (a cluster.read skip for pods, as a one-shot
// scan's 403) instead of serving the pods it cached before; once the
// informer lists again, the skip is gone. regcheck itself writes nothing.
func TestServeRefusedWatch(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const ns, sa = "serve-refused", "watcher"
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, "refused-node", "linux", "amd64"))
	web, err := env.PushRandomImage(reg, "refused/web", "1.0", "")
	must(t, err)
	_, err = c.RunDeployment(ctx, ns, "web", 1, corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: web.Ref}}},
		"refused-node", func(int) map[string]string { return map[string]string{"app": web.DigestRef} })
	must(t, err)

	// The ServiceAccount reads pods through one RoleBinding and the rest
	// through another: only the first is taken away.
	_, err = c.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{})
	must(t, err)
	read := []string{"get", "list", "watch"}
	roles := map[string][]rbacv1.PolicyRule{
		"read-pods": {{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: read}},
		"read-rest": {
			{APIGroups: []string{""}, Resources: []string{"replicationcontrollers", "secrets", "serviceaccounts", "events"}, Verbs: read},
			{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"}, Verbs: read},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: read},
		},
	}
	binding := func(name string) *rbacv1.RoleBinding {
		return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}}
	}
	for name, rules := range roles {
		_, err = c.Admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
		must(t, err)
		_, err = c.Admin.RbacV1().RoleBindings(ns).Create(ctx, binding(name), metav1.CreateOptions{})
		must(t, err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, c.ServiceAccountKubeconfig(ctx, ns, sa, kubeconfig))

	// Each WATCH lasts 2s: the API server checks permissions when a
	// request starts, so a revoked one is seen at the next WATCH.
	srv := startServe(ctx, t, s, "--watch-timeout", "2s", "-n", ns, "--kubeconfig", kubeconfig, "--plain-http")
	log := srv.log
	metrics := func() string {
		t.Helper()
		_, body := srv.get("/metrics")
		return body
	}
	scanDone := regexp.MustCompile(`scan: \d+ results`)
	podsRefused := "warning: pods in namespace " + ns + " may not be listed (forbidden); results are partial"
	current := `reason="Current",status="pass",workload="Deployment/web"} 1`

	// lastScan waits for the next scan to complete and returns what it
	// logged.
	lastScan := func() string {
		t.Helper()
		n := countScans(log.text())
		_, err := log.awaitN(ctx, scanDone, n+1)
		must(t, err)
		lines := strings.Split(log.text(), "\n")
		var out []string
		seen := 0
		for _, l := range lines {
			if scanDone.MatchString(l) {
				if seen++; seen == n+1 {
					break
				}
				out = nil
				continue
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	// Nodes are cluster-wide, beyond the ServiceAccount's Roles: their
	// skip is there from the start.
	if got := lastScan(); strings.Contains(got, podsRefused) {
		t.Fatalf("the first scan could not read pods:\n%s", got)
	}
	if m := metrics(); !strings.Contains(m, current) {
		t.Fatalf("/metrics lacks web's Current result\n%s", m)
	}

	// Revoked: a scan soon says pods may not be listed, and no longer
	// reports the pod it had cached.
	must(t, c.Admin.RbacV1().RoleBindings(ns).Delete(ctx, "read-pods", metav1.DeleteOptions{}))
	for !strings.Contains(lastScan(), podsRefused) {
	}
	// Two Forbidden skips: the pods', and the nodes' (always there, as
	// the nodes' credential providers are unknown without them).
	podsSkip := `regcheck_result{check="cluster.read",container="",image="",namespace="` + ns + `",reason="Forbidden",status="skip",workload=""} 1`
	if m := metrics(); !strings.Contains(m, podsSkip) || !strings.Contains(m, `regcheck_results{reason="Forbidden",status="skip"} 2`) || strings.Contains(m, current) {
		t.Errorf("while pods are refused, /metrics lacks the pods' and nodes' cluster.read Forbidden skips or still reports web's pod as Current\n%s", m)
	}

	// Restored: once the informer lists again, the skip is gone.
	_, err = c.Admin.RbacV1().RoleBindings(ns).Create(ctx, binding("read-pods"), metav1.CreateOptions{})
	must(t, err)
	for strings.Contains(lastScan(), podsRefused) {
	}
	if got := lastScan(); strings.Contains(got, podsRefused) {
		t.Errorf("a scan after the RoleBinding came back still skips:\n%s", got)
	}
	if m := metrics(); !strings.Contains(m, current) {
		t.Errorf("/metrics lacks web's Current result after the RoleBinding came back\n%s", m)
	}

	// regcheck only read: every request it made was a get, list or watch.
	events, err := c.AuditEvents("system:serviceaccount:" + ns + ":" + sa)
	must(t, err)
	for _, e := range events {
		if e.Verb != "get" && e.Verb != "list" && e.Verb != "watch" {
			t.Errorf("serve sent %s %s", e.Verb, e.RequestURI)
		}
	}
	srv.stop()
}
