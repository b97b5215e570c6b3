package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// These tests prove the environment other e2e tests stand on: real
// authorization, real controllers, the real kubectl, and the simulated
// kubelet's status being what clients read.

func clusterContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// clusterNamespace creates a namespace for one test.
func clusterNamespace(t *testing.T, c *env.Cluster, name string) string {
	t.Helper()
	if err := c.CreateNamespace(clusterContext(t), name); err != nil {
		t.Fatal(err)
	}
	return name
}

func clusterSecret(t *testing.T, c *env.Cluster, ns, name string) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		StringData: map[string]string{"token": "not-for-viewers"},
	}
	if _, err := c.Admin.CoreV1().Secrets(ns).Create(clusterContext(t), s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating secret %s/%s: %v", ns, name, err)
	}
}

func TestClusterViewerRBAC(t *testing.T) {
	c := sharedCluster(t)
	ctx := clusterContext(t)
	ns := clusterNamespace(t, c, "e2e-cluster-rbac")
	clusterSecret(t, c, ns, "pull")

	if _, err := c.Viewer.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("viewer listing pods: %v", err)
	}
	if _, err := c.Viewer.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("viewer listing deployments in all namespaces: %v", err)
	}
	_, err := c.Viewer.CoreV1().Secrets(ns).Get(ctx, "pull", metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("viewer getting a secret: got %v, want Forbidden", err)
	}
	_, err = c.Viewer.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("viewer getting a service account: got %v, want Forbidden", err)
	}
	if _, err := c.Admin.CoreV1().Secrets(ns).Get(ctx, "pull", metav1.GetOptions{}); err != nil {
		t.Errorf("admin getting the secret: %v", err)
	}

	// The audit log, which later tests use to prove what regcheck did,
	// records the viewer's refused read.
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, err := c.AuditEvents(env.ViewerUser)
		if err != nil {
			t.Fatal(err)
		}
		if clusterHasRefusedSecretGet(events, ns) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit event for the viewer's refused get of secret %s/pull among %d viewer events", ns, len(events))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func clusterHasRefusedSecretGet(events []env.AuditEvent, ns string) bool {
	for _, ev := range events {
		if ev.Verb == "get" && ev.ObjectRef != nil && ev.ObjectRef.Resource == "secrets" &&
			ev.ObjectRef.Namespace == ns && ev.ObjectRef.Name == "pull" &&
			ev.ResponseStatus != nil && ev.ResponseStatus.Code == 403 {
			return true
		}
	}
	return false
}

func TestClusterDeploymentGetsPods(t *testing.T) {
	c := sharedCluster(t)
	ctx := clusterContext(t)
	ns := clusterNamespace(t, c, "e2e-cluster-deploy")

	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(2)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{{Name: "init", Image: "registry.example/init:1"}},
					Containers:     []corev1.Container{{Name: "web", Image: "registry.example/web:1"}},
				},
			},
		},
	}
	if _, err := c.Admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating deployment: %v", err)
	}
	pods, err := c.WaitForPods(ctx, ns, "app=web", 2)
	if err != nil {
		t.Fatal(err)
	}
	rss, err := c.Viewer.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatalf("viewer listing replicasets: %v", err)
	}
	if len(rss.Items) != 1 {
		t.Fatalf("got %d replicasets, want 1", len(rss.Items))
	}
	rs := rss.Items[0]
	if owner := metav1.GetControllerOf(&rs); owner == nil || owner.Kind != "Deployment" || owner.Name != "web" {
		t.Errorf("replicaset %s is controlled by %v, want Deployment web", rs.Name, owner)
	}
	for _, p := range pods {
		if owner := metav1.GetControllerOf(&p); owner == nil || owner.Kind != "ReplicaSet" || owner.Name != rs.Name {
			t.Errorf("pod %s is controlled by %v, want ReplicaSet %s", p.Name, owner, rs.Name)
		}
		if p.Spec.ServiceAccountName != "default" {
			t.Errorf("pod %s runs as service account %q, want default", p.Name, p.Spec.ServiceAccountName)
		}
	}
}

func TestClusterKubectlViewerForbidden(t *testing.T) {
	c := sharedCluster(t)
	ctx := clusterContext(t)
	ns := clusterNamespace(t, c, "e2e-cluster-kubectl")
	clusterSecret(t, c, ns, "pull")

	_, stderr, err := c.Kubectl(ctx, env.ViewerContext, "get", "secrets", "-n", ns)
	if err == nil {
		t.Fatal("kubectl --context viewer get secrets succeeded, want Forbidden")
	}
	if !strings.Contains(stderr, "Forbidden") || !strings.Contains(stderr, env.ViewerUser) {
		t.Errorf("kubectl stderr does not name Forbidden and the viewer:\n%s", stderr)
	}
	if _, _, err := c.Kubectl(ctx, env.ViewerContext, "get", "pods", "-n", ns); err != nil {
		t.Errorf("viewer listing pods with kubectl: %v", err)
	}
	out, _, err := c.Kubectl(ctx, "", "get", "secrets", "-n", ns, "-o", "name")
	if err != nil {
		t.Fatalf("admin (current context) listing secrets with kubectl: %v", err)
	}
	if strings.TrimSpace(out) != "secret/pull" {
		t.Errorf("admin kubectl get secrets -o name = %q, want secret/pull", out)
	}
}

func TestClusterSetPodRunning(t *testing.T) {
	c := sharedCluster(t)
	ctx := clusterContext(t)
	ns := clusterNamespace(t, c, "e2e-cluster-running")

	if err := c.CreateNode(ctx, "e2e-cluster-node", "linux", "arm64"); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "app"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "setup", Image: "registry.example/setup:v1"}},
			Containers:     []corev1.Container{{Name: "app", Image: "registry.example/app:v1"}},
		},
	}
	if _, err := c.Admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod: %v", err)
	}
	if err := c.BindPod(ctx, ns, "app", "e2e-cluster-node"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{
		"setup": "registry.example/setup@sha256:" + strings.Repeat("1", 64),
		"app":   "registry.example/app@sha256:" + strings.Repeat("2", 64),
	}
	if err := c.SetPodRunning(ctx, ns, "app", ids); err != nil {
		t.Fatal(err)
	}

	got, err := c.Viewer.CoreV1().Pods(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("viewer getting the pod: %v", err)
	}
	if got.Status.Phase != corev1.PodRunning || got.Spec.NodeName != "e2e-cluster-node" || got.Status.StartTime == nil {
		t.Errorf("pod phase %s on node %q started %v, want Running on e2e-cluster-node with a start time",
			got.Status.Phase, got.Spec.NodeName, got.Status.StartTime)
	}
	statuses := map[string]corev1.ContainerStatus{}
	for _, s := range append(got.Status.InitContainerStatuses, got.Status.ContainerStatuses...) {
		statuses[s.Name] = s
	}
	for name, want := range ids {
		s, ok := statuses[name]
		switch {
		case !ok:
			t.Errorf("no status for container %s", name)
		case s.ImageID != want:
			t.Errorf("container %s imageID = %q, want %q", name, s.ImageID, want)
		case !s.Ready:
			t.Errorf("container %s not ready", name)
		}
	}
	if s := statuses["app"]; s.State.Running == nil || s.Image != "registry.example/app:v1" {
		t.Errorf("container app: image %q, state %+v; want the spec image, running", s.Image, s.State)
	}

	// What kubectl users and regcheck read: the same field through the
	// real kubectl as the viewer, and the node's platform.
	out, _, err := c.Kubectl(ctx, env.ViewerContext, "get", "pod", "app", "-n", ns,
		"-o", "jsonpath={.status.containerStatuses[*].imageID}")
	if err != nil {
		t.Fatal(err)
	}
	if out != ids["app"] {
		t.Errorf("kubectl jsonpath imageID = %q, want %q", out, ids["app"])
	}
	node, err := c.Viewer.CoreV1().Nodes().Get(ctx, "e2e-cluster-node", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("viewer getting the node: %v", err)
	}
	if node.Status.NodeInfo.Architecture != "arm64" || node.Labels[corev1.LabelArchStable] != "arm64" ||
		node.Status.NodeInfo.OperatingSystem != "linux" {
		t.Errorf("node platform: nodeInfo %s/%s, labels %v", node.Status.NodeInfo.OperatingSystem, node.Status.NodeInfo.Architecture, node.Labels)
	}
}
