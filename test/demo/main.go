// Command demo is `make demo`: it brings up the real local environment
// (etcd, kube-apiserver, kube-controller-manager, a token-auth OCI
// registry), pushes images, creates workloads — one current, one stale
// after a re-push of :latest, one half-rolled — and runs regcheck through
// the real kubectl and helm, printing what they say. Where a real node can
// run (root, containerd), a real kubelet then pulls deploy/cart, a re-push
// makes it Stale and a rollout restart Current. Then it tears everything
// down.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

const (
	ns       = "shop"
	user     = "ci-bot"
	password = "s3cret:demo" // the demo's own throwaway credential
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) {
	fmt.Printf("\n\033[1m==> %s\033[0m\n", fmt.Sprintf(format, args...))
}

func run(ctx context.Context) error {
	step("Building the real tools (cached after the first run) and starting a cluster")
	start := time.Now()
	cluster, err := env.StartCluster(ctx, env.ClusterOptions{})
	if err != nil {
		return err
	}
	defer func() {
		step("Tearing down")
		if err := cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the cluster: %v\n", err)
		}
	}()
	fmt.Printf("etcd, kube-apiserver and kube-controller-manager up at %s in %s\n", cluster.Server, time.Since(start).Round(time.Second))

	reg, err := env.StartRegistry(env.RegistryOptions{
		Auth:  env.AuthToken,
		Users: map[string]env.User{user: {Password: password, Push: []string{"shop/*", "charts/*"}}},
	})
	if err != nil {
		return err
	}
	defer reg.Close()
	fmt.Printf("OCI registry (distribution, token auth) at %s\n", reg.URL)

	dir, err := os.MkdirTemp("", "regcheck-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sandbox, err := env.NewSandbox(ctx, dir)
	if err != nil {
		return err
	}
	sandbox = sandbox.With("KUBECONFIG=" + cluster.Kubeconfig)

	step("Pushing images and creating workloads")
	push := func(repo, tag string) (env.Pushed, error) { return env.PushRandomImage(reg, repo, tag, user) }
	web, err := push("shop/web", "1.4.2")
	if err != nil {
		return err
	}
	// Newer releases of web are out: a patch and a major (--newer).
	for _, tag := range []string{"1.4.3", "2.0.0"} {
		if _, err := push("shop/web", tag); err != nil {
			return err
		}
	}
	apiOld, err := push("shop/api", "latest")
	if err != nil {
		return err
	}
	workerOld, err := push("shop/worker", "2.0")
	if err != nil {
		return err
	}
	if err := cluster.CreateNamespace(ctx, ns); err != nil {
		return err
	}
	if err := cluster.CreateNode(ctx, "node-1", "linux", "amd64"); err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.Host: map[string]string{"auth": auth}}})
	if _, err := cluster.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", cfg), metav1.CreateOptions{}); err != nil {
		return err
	}
	spec := func(image string, policy corev1.PullPolicy) corev1.PodSpec {
		return corev1.PodSpec{
			Containers:       []corev1.Container{{Name: "app", Image: image, ImagePullPolicy: policy}},
			ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
		}
	}
	runs := func(ids ...string) func(int) map[string]string {
		return func(i int) map[string]string { return map[string]string{"app": ids[i%len(ids)]} }
	}
	if _, err := cluster.RunDeployment(ctx, ns, "web", 2, spec(web.Ref, ""), "node-1", runs(web.DigestRef)); err != nil {
		return err
	}
	if _, err := cluster.RunDeployment(ctx, ns, "api", 2, spec(apiOld.Ref, corev1.PullIfNotPresent), "node-1", runs(apiOld.DigestRef)); err != nil {
		return err
	}
	if _, err := cluster.RunDeployment(ctx, ns, "worker", 2, spec(workerOld.Ref, ""), "node-1", nil); err != nil {
		return err
	}
	// A new build lands: :latest moves on (api keeps its cached image), and
	// worker:2.0 is re-pushed with only one pod restarted onto it.
	if _, err := push("shop/api", "latest"); err != nil {
		return err
	}
	workerNew, err := push("shop/worker", "2.0")
	if err != nil {
		return err
	}
	pods, err := cluster.WaitForPods(ctx, ns, "app=worker", 2)
	if err != nil {
		return err
	}
	if err := cluster.SetPodRunning(ctx, ns, pods[0].Name, map[string]string{"app": workerOld.DigestRef}); err != nil {
		return err
	}
	if err := cluster.SetPodRunning(ctx, ns, pods[1].Name, map[string]string{"app": workerNew.DigestRef}); err != nil {
		return err
	}
	fmt.Println("deploy/web runs shop/web:1.4.2 (current); deploy/api runs an old shop/api:latest; deploy/worker is half-rolled")

	loggedIn := filepath.Join(dir, "logged-in")
	if err := writeConfig(filepath.Join(loggedIn, "config.json"), reg.Host, auth); err != nil {
		return err
	}
	helmConfig := filepath.Join(dir, "helm-registry.json")
	if err := writeConfig(helmConfig, reg.Host, auth); err != nil {
		return err
	}

	show := func(s *env.Sandbox, name string, args ...string) {
		fmt.Printf("\n$ %s %s\n", name, strings.Join(args, " "))
		res := s.Run(ctx, "", name, args...)
		fmt.Print(res.Stdout)
		if res.Stderr != "" {
			fmt.Print(res.Stderr)
		}
		fmt.Printf("(exit %d)\n", res.Code)
	}
	step("Which workloads run what the registry serves now?")
	show(sandbox, "kubectl", "regcheck", "-A", "--plain-http")
	step("Is a newer release out than the one running? (--newer lists each repository's tags once)")
	show(sandbox, "kubectl", "regcheck", "scan", "deploy/web", "-n", ns, "--plain-http", "--newer")
	step("Before the deploy: verify a manifest with the pull secrets namespace " + ns + " would give")
	manifest := filepath.Join(dir, "next-release.yaml")
	if err := os.WriteFile(manifest, []byte(nextRelease(reg.Host)), 0o644); err != nil {
		return err
	}
	show(sandbox, "kubectl", "regcheck", "verify", "-f", manifest, "-n", ns, "--plain-http")
	step("Would a push work? Anonymous, then logged in")
	show(sandbox, "kubectl", "regcheck", "auth", "--push", reg.Host+"/shop/web:1.4.2", "--plain-http")
	show(sandbox, "kubectl", "regcheck", "auth", "--push", reg.Host+"/shop/web:1.4.2", "--plain-http", "--docker-config", loggedIn)
	step("helm push of a chart: anonymous (the seed-1 'unexpected EOF'), then logged in")
	// A user who never ran helm registry login: Helm's default config
	// path does not exist yet.
	show(sandbox, "helm", "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "shop", "--plain-http")
	show(sandbox.With("HELM_REGISTRY_CONFIG="+helmConfig), "helm", "regcheck", "push-auth", "oci://"+reg.Host+"/charts", "--chart", "shop", "--plain-http")
	return realNode(ctx, cluster, reg, sandbox, show)
}

// nextRelease is the manifest the demo verifies before it is deployed:
// web moves to a tag that was never pushed, and a new job names no pull
// secret in a namespace whose ServiceAccount has none.
func nextRelease(host string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      imagePullSecrets: [{name: regcred}]
      containers:
      - name: app
        image: ` + host + `/shop/web:1.4.4
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: ` + host + `/shop/api:latest
        imagePullPolicy: IfNotPresent
`
}

// realNode shows a real pull: a real kubelet and containerd run deploy/cart
// from the registry, a new build is pushed under the same tag (Stale), and
// kubectl rollout restart brings the new digest (Current). It needs root
// and containerd (env.NodeAvailable); elsewhere it says why and skips.
func realNode(ctx context.Context, cluster *env.Cluster, reg *env.Registry, sandbox *env.Sandbox, show func(*env.Sandbox, string, ...string)) error {
	step("A real node: pods really pull, a re-push makes them Stale, a rollout restart makes them Current")
	if err := env.NodeAvailable(); err != nil {
		fmt.Printf("skipped: no real node here: %v\n", err)
		return nil
	}
	dir, err := os.MkdirTemp("", "rcn-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	node, err := cluster.StartNode(ctx, env.NodeOptions{Dir: dir})
	if err != nil {
		return err
	}
	defer func() {
		if err := node.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the node: %v\n", err)
		}
		if left := node.Leftovers(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "the node left behind: %v\n", left)
		}
	}()
	if err := node.AddRegistry(reg, env.HostOptions{}); err != nil {
		return err
	}
	if n, err := cluster.Admin.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{}); err == nil {
		fmt.Printf("node %s Ready: kubelet %s, %s\n", node.Name, n.Status.NodeInfo.KubeletVersion, n.Status.NodeInfo.ContainerRuntimeVersion)
	}
	old, err := env.PushRunnableImage(reg, "shop/cart", "1.0", user)
	if err != nil {
		return err
	}
	labels := map[string]string{"app": "cart"}
	replicas := int32(2)
	spec := node.PodSpec(corev1.PodSpec{
		Containers:       []corev1.Container{{Name: "app", Image: old.Ref, ImagePullPolicy: corev1.PullAlways}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	})
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "cart", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	if _, err := cluster.Admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return err
	}
	// Deleted before the node stops, so no ReplicaSet replaces the pods
	// the node's Stop deletes.
	defer func() {
		_ = cluster.Admin.AppsV1().Deployments(ns).Delete(context.Background(), "cart", metav1.DeleteOptions{})
	}()
	if err := waitCart(ctx, cluster, old.DigestRef); err != nil {
		return err
	}
	fmt.Printf("deploy/cart: 2 pods pulled and run %s\n", old.DigestRef)
	show(sandbox, "kubectl", "regcheck", "deploy/cart", "-n", ns, "--plain-http")
	repushed, err := env.PushRunnableImage(reg, "shop/cart", "1.0", user)
	if err != nil {
		return err
	}
	fmt.Printf("\na new build is pushed as shop/cart:1.0: %s\n", repushed.Digest)
	show(sandbox, "kubectl", "regcheck", "deploy/cart", "-n", ns, "--plain-http")
	show(sandbox, "kubectl", "rollout", "restart", "deploy/cart", "-n", ns)
	if err := waitCart(ctx, cluster, repushed.DigestRef); err != nil {
		return err
	}
	fmt.Printf("deploy/cart: 2 new pods pulled and run %s\n", repushed.DigestRef)
	show(sandbox, "kubectl", "regcheck", "deploy/cart", "-n", ns, "--plain-http")
	return nil
}

// waitCart waits until deploy/cart has exactly two pods, both running
// imageID (the kubelet's word, not ours).
func waitCart(ctx context.Context, cluster *env.Cluster, imageID string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		pods, err := cluster.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=cart"})
		if err == nil && len(pods.Items) == 2 {
			ok := 0
			for _, p := range pods.Items {
				if p.DeletionTimestamp == nil && env.ContainersRunning(&p) && p.Status.ContainerStatuses[0].ImageID == imageID {
					ok++
				}
			}
			if ok == 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deploy/cart: pods not running %s: %w", imageID, ctx.Err())
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func writeConfig(path, host, auth string) error {
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
