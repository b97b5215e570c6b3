package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/regcheck/regcheck/test/e2e/env"
)

const (
	pullSecret = "regcred"
	// kcmBinding is the ClusterRoleBinding env.StartCluster creates to give
	// kube-controller-manager cluster-admin (test/e2e/env/cluster.go).
	kcmBinding  = "regcheck-e2e:kube-controller-manager"
	kcmUser     = "system:kube-controller-manager"
	podsPerNode = 100
)

// silenceControllers takes cluster-admin away from kube-controller-manager,
// leaving it the bootstrap system:kube-controller-manager role: list and
// watch everything, create service accounts and secrets, but not create,
// patch or delete pods, ReplicaSets or Deployments.
//
// Why: the bench writes Deployment → ReplicaSet → Pod chains itself (5000
// pods through the controller manager's own 20 QPS client would take
// minutes). With cluster-admin the ReplicaSet controller would race the
// bench: a ReplicaSet that exists before its pods gets pods of its own, and
// the excess is then deleted, possibly the bench's. Without the binding it
// can only fail and back off, so the objects stay exactly as written. The
// service account controller keeps working, so new namespaces still get
// their default service account (pods are refused until it exists).
//
// The objects look as the controllers would have made them: the ReplicaSet
// is named NAME-HASH with the pod-template-hash label and a revision
// annotation, and both it and its pods carry controller ownerReferences.
func silenceControllers(ctx context.Context, admin kubernetes.Interface) error {
	err := admin.RbacV1().ClusterRoleBindings().Delete(ctx, kcmBinding, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting ClusterRoleBinding %s: %w", kcmBinding, err)
	}
	// RBAC changes reach the authorizer through an informer: wait until the
	// apiserver itself says the controller manager may not create pods.
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               kcmUser,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"},
		}}
		res, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			return false, err
		}
		return !res.Status.Allowed, nil
	})
}

// image is one unique reference with the digest its tag points to now
// and the one it pointed to before (what stale pods run).
type image struct {
	Repo, Tag string
	Ref       string // PROXYHOST/repo:tag, what pods and crane use
	Current   string // sha256:...
	Old       string // sha256:...
}

// pushImages pushes every image twice (the old build, then the current
// one) straight to the registry, workers at a time.
func pushImages(reg *env.Registry, proxyHost, user string, n, repos, workers int) ([]image, error) {
	imgs := make([]image, n)
	for i := range imgs {
		imgs[i].Repo = fmt.Sprintf("bench/app-%03d", i%repos)
		imgs[i].Tag = fmt.Sprintf("v%d", i/repos)
		imgs[i].Ref = proxyHost + "/" + imgs[i].Repo + ":" + imgs[i].Tag
	}
	err := parallel(n, workers, func(i int) error {
		old, err := env.PushRandomImage(reg, imgs[i].Repo, imgs[i].Tag, user)
		if err != nil {
			return err
		}
		cur, err := env.PushRandomImage(reg, imgs[i].Repo, imgs[i].Tag, user)
		if err != nil {
			return err
		}
		imgs[i].Old, imgs[i].Current = old.Digest, cur.Digest
		return nil
	})
	return imgs, err
}

// layout places the full-scale objects: deployment d lives in namespace
// d*N/D (blocks, so a prefix of the deployments fills a prefix of the
// namespaces) and has P/D pods, the first P%D deployments one more.
type layout struct {
	pods, deployments, namespaces int
}

func (l layout) namespaceOf(d int) string {
	return fmt.Sprintf("bench-%03d", d*l.namespaces/l.deployments)
}

func (l layout) podsOf(d int) int {
	n := l.pods / l.deployments
	if d < l.pods%l.deployments {
		n++
	}
	return n
}

// firstPod is the global index of deployment d's first pod.
func (l layout) firstPod(d int) int {
	base := l.pods / l.deployments
	return d*base + min(d, l.pods%l.deployments)
}

// deploymentsFor is the number of leading deployments holding at least
// pods pods.
func (l layout) deploymentsFor(pods int) int {
	for d := 1; d <= l.deployments; d++ {
		if l.firstPod(d) >= pods {
			return d
		}
	}
	return l.deployments
}

// populator creates the bench's objects with a fast admin client.
type populator struct {
	client    kubernetes.Interface
	cluster   *env.Cluster
	l         layout
	workers   int
	proxyHost string
	auth      string // base64 user:password
	namespace map[string]bool
	nodes     int
	stale     func(d int) bool
	// failing deployments run a tag that was never pushed: their pods
	// wait in ImagePullBackOff with the kubelet's Events.
	failing func(d int) bool
	// imageIndex is the image each written deployment runs.
	imageIndex map[int]int
}

func newPopulator(cluster *env.Cluster, l layout, workers int, proxyHost, user, password string, failingPercent int) (*populator, error) {
	cfg := *cluster.AdminConfig
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.UserAgent = "regcheck-bench"
	client, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		return nil, err
	}
	return &populator{
		client:     client,
		cluster:    cluster,
		l:          l,
		workers:    workers,
		proxyHost:  proxyHost,
		auth:       base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
		namespace:  map[string]bool{},
		imageIndex: map[int]int{},
		// One deployment in five runs the previous build: 20% of the pods
		// are stale, and those deployments get the Stale verdict.
		stale: func(d int) bool { return d%5 == 0 },
		// One deployment in 100/failingPercent (none of the stale ones)
		// cannot pull: failingPercent% of the pods in ImagePullBackOff.
		failing: func(d int) bool { return failingPercent > 0 && d%(100/failingPercent) == 3 },
	}, nil
}

// create writes deployments [from, to) with their ReplicaSets, pods,
// namespaces, pull secrets and nodes; deployment d runs imgs[imageOf(d)].
func (p *populator) create(ctx context.Context, from, to int, imgs []image, imageOf func(d int) int) error {
	var namespaces []string
	for d := from; d < to; d++ {
		if ns := p.l.namespaceOf(d); !p.namespace[ns] {
			p.namespace[ns] = true
			namespaces = append(namespaces, ns)
		}
	}
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{p.proxyHost: map[string]string{"auth": p.auth}}})
	if err := parallel(len(namespaces), p.workers, func(i int) error {
		ns := namespaces[i]
		if err := p.cluster.CreateNamespace(ctx, ns); err != nil {
			return err
		}
		_, err := p.client.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, pullSecret, cfg), metav1.CreateOptions{})
		return err
	}); err != nil {
		return err
	}
	needNodes := (p.l.firstPod(to) + podsPerNode - 1) / podsPerNode
	if err := parallel(needNodes-p.nodes, p.workers, func(i int) error {
		return p.cluster.CreateNode(ctx, nodeName(p.nodes+i), "linux", "amd64")
	}); err != nil {
		return err
	}
	p.nodes = max(p.nodes, needNodes)

	for d := from; d < to; d++ {
		p.imageIndex[d] = imageOf(d)
	}
	var done atomic.Int64
	return parallel(to-from, p.workers, func(i int) error {
		d := from + i
		img := imgs[p.imageIndex[d]]
		digest := img.Current
		if p.stale(d) {
			digest = img.Old
		}
		if p.failing(d) {
			img.Tag = "never-pushed"
			img.Ref = p.proxyHost + "/" + img.Repo + ":" + img.Tag
		}
		if err := p.deployment(ctx, d, img, digest, p.failing(d)); err != nil {
			return err
		}
		if n := done.Add(1); n%200 == 0 {
			logf("  %d/%d deployments written", n, to-from)
		}
		return nil
	})
}

func nodeName(i int) string { return fmt.Sprintf("node-%03d", i) }

// deployment writes one Deployment, its ReplicaSet and its running pods.
func (p *populator) deployment(ctx context.Context, d int, img image, digest string, failing bool) error {
	ns := p.l.namespaceOf(d)
	name := fmt.Sprintf("app-%04d", d)
	spec := corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:  "app",
			Image: img.Ref,
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
		}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: pullSecret}},
	}
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(p.l.podsOf(d))),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	dep, err := p.client.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating deployment %s/%s: %w", ns, name, err)
	}

	h := fnv.New32a()
	h.Write([]byte(ns + "/" + name + "/" + img.Ref))
	hash := utilrand.SafeEncodeString(fmt.Sprint(h.Sum32()))
	rsLabels := map[string]string{"app": name, appsv1.DefaultDeploymentUniqueLabelKey: hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name + "-" + hash, Namespace: ns, Labels: rsLabels,
			Annotations: map[string]string{
				"deployment.kubernetes.io/revision":         "1",
				"deployment.kubernetes.io/desired-replicas": fmt.Sprint(p.l.podsOf(d)),
			},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: dep.Spec.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: rsLabels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: rsLabels}, Spec: spec},
		},
	}
	rs, err = p.client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating replicaset %s/%s: %w", ns, name, err)
	}

	imageID := p.proxyHost + "/" + img.Repo + "@" + digest
	first := p.l.firstPod(d)
	for j := range p.l.podsOf(d) {
		podSpec := *spec.DeepCopy()
		// Bound at creation, as the scheduler's binding would leave it.
		podSpec.NodeName = nodeName((first + j) / podsPerNode)
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				GenerateName:    rs.Name + "-",
				Namespace:       ns,
				Labels:          rsLabels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(rs, appsv1.SchemeGroupVersion.WithKind("ReplicaSet"))},
			},
			Spec: podSpec,
		}
		created, err := p.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating a pod of %s/%s: %w", ns, rs.Name, err)
		}
		if failing {
			if err := p.failPull(ctx, created, img.Ref); err != nil {
				return err
			}
			continue
		}
		setRunning(created, imageID)
		if _, err := p.client.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("setting pod %s/%s running: %w", ns, created.Name, err)
		}
	}
	return nil
}

// failPull writes what a kubelet with containerd writes for a tag that
// does not exist (../shared/KUBELET.md): the waiting state and the Failed
// and BackOff Events.
func (p *populator) failPull(ctx context.Context, pod *corev1.Pod, ref string) error {
	m := fmt.Sprintf("rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found", ref, ref, ref)
	now := metav1.Now()
	pod.Status.Phase = corev1.PodPending
	pod.Status.StartTime = &now
	pod.Status.HostIP = "127.0.0.1"
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Started: ptr.To(false),
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", ref, m),
			}},
		})
	}
	if _, err := p.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting pod %s/%s pull-failing: %w", pod.Namespace, pod.Name, err)
	}
	for i, e := range []struct{ typ, reason, msg string }{
		{corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", ref, m)},
		{corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", ref)},
	} {
		ev := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%d", pod.Name, i), Namespace: pod.Namespace},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
				FieldPath: "spec.containers{" + pod.Spec.Containers[0].Name + "}"},
			Reason: e.reason, Message: e.msg, Type: e.typ, Count: 3,
			Source:         corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
			FirstTimestamp: now, LastTimestamp: now,
		}
		if _, err := p.client.CoreV1().Events(pod.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("recording event on pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// setRunning fills in the status a kubelet reports for a started pod.
func setRunning(p *corev1.Pod, imageID string) {
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	p.Status.StartTime = &now
	p.Status.HostIP = "127.0.0.1"
	p.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	p.Status.Conditions = nil
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		sum := sha256.Sum256([]byte(p.Namespace + "/" + p.Name + "/" + c.Name))
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name:        c.Name,
			Image:       c.Image,
			ImageID:     imageID,
			ContainerID: "containerd://" + hex.EncodeToString(sum[:]),
			Ready:       true,
			Started:     ptr.To(true),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first
// error; after an error no new item starts.
func parallel(n, workers int, fn func(i int) error) error {
	if n <= 0 {
		return nil
	}
	var (
		next     atomic.Int64
		failed   atomic.Bool
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// countPods counts the pods in the cluster and how many of them run, to
// check nothing (a controller) added or removed any.
func (p *populator) countPods(ctx context.Context) (total, running int, err error) {
	opts := metav1.ListOptions{Limit: 1000}
	for {
		list, err := p.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			return 0, 0, fmt.Errorf("listing pods: %w", err)
		}
		for _, pod := range list.Items {
			total++
			if pod.Status.Phase == corev1.PodRunning && pod.DeletionTimestamp == nil {
				running++
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return total, running, nil
		}
	}
}
