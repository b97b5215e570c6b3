package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// objects is what the LISTs returned, before grouping. Each lister writes
// only its own field, so they can run concurrently.
type objects struct {
	pods         []*corev1.Pod
	replicaSets  []*appsv1.ReplicaSet
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	daemonSets   []*appsv1.DaemonSet
	jobs         []*batchv1.Job
	cronJobs     []*batchv1.CronJob
	rcs          []*corev1.ReplicationController
	nodes        map[string]Platform // nil when nodes could not be read
}

// lister lists one resource into objects.
type lister struct {
	resource string
	kinds    []string // target kinds that need this resource
	run      func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error
}

// listers are the namespaced resources Collect reads, one LIST each.
var listers = []lister{
	{"pods", nil, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Pods(ns).List(ctx, opts)
		}, func(p *corev1.Pod) { o.pods = append(o.pods, p) })
	}},
	{"replicasets", []string{KindDeployment, KindReplicaSet}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().ReplicaSets(ns).List(ctx, opts)
		}, func(r *appsv1.ReplicaSet) { o.replicaSets = append(o.replicaSets, r) })
	}},
	{"deployments", []string{KindDeployment}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().Deployments(ns).List(ctx, opts)
		}, func(d *appsv1.Deployment) { o.deployments = append(o.deployments, d) })
	}},
	{"statefulsets", []string{KindStatefulSet}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().StatefulSets(ns).List(ctx, opts)
		}, func(s *appsv1.StatefulSet) { o.statefulSets = append(o.statefulSets, s) })
	}},
	{"daemonsets", []string{KindDaemonSet}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().DaemonSets(ns).List(ctx, opts)
		}, func(d *appsv1.DaemonSet) { o.daemonSets = append(o.daemonSets, d) })
	}},
	{"jobs", []string{KindJob, KindCronJob}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.BatchV1().Jobs(ns).List(ctx, opts)
		}, func(j *batchv1.Job) { o.jobs = append(o.jobs, j) })
	}},
	{"cronjobs", []string{KindCronJob}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.BatchV1().CronJobs(ns).List(ctx, opts)
		}, func(j *batchv1.CronJob) { o.cronJobs = append(o.cronJobs, j) })
	}},
	{"replicationcontrollers", []string{KindReplicationController}, func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions, o *objects) error {
		return each(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).List(ctx, opts)
		}, func(r *corev1.ReplicationController) { o.rcs = append(o.rcs, r) })
	}},
}

// Collect reads the selected workloads with one paginated LIST per
// resource (never a GET per object) and groups pods under their owners.
// A resource that is forbidden or not served is skipped with a note; the
// error is returned only when no workload resource could be read, or when
// the cluster fails in a way other than RBAC (unreachable, unauthorized).
func Collect(ctx context.Context, client kubernetes.Interface, sel Selection) (*Inventory, error) {
	ns := sel.Namespace
	switch {
	case sel.AllNamespaces:
		ns = metav1.NamespaceAll
	case ns == "":
		ns = metav1.NamespaceDefault
	}
	opts := metav1.ListOptions{LabelSelector: sel.LabelSelector}
	wanted := wantedResources(sel.Targets)

	var (
		wg   sync.WaitGroup
		objs objects
		errs = make([]error, len(listers))
	)
	for i, l := range listers {
		if !wanted[l.resource] {
			continue
		}
		wg.Go(func() { errs[i] = l.run(ctx, client, ns, opts, &objs) })
	}
	wg.Wait()

	inv := &Inventory{}
	read := 0
	var skipped error
	for i, l := range listers {
		if !wanted[l.resource] {
			continue
		}
		switch err := errs[i]; {
		case err == nil:
			read++
		case skippable(err):
			inv.skip(l.resource, ns, l.resource+inNamespace(ns), "results are partial", err)
			skipped = errors.Join(skipped, err)
		default:
			return nil, fmt.Errorf("listing %s%s: %w", l.resource, inNamespace(ns), err)
		}
	}
	if read == 0 {
		return nil, fmt.Errorf("no workload could be read%s: %w", inNamespace(ns), skipped)
	}

	// Nodes give each pod its platform; without them the nodeSelector hints.
	if len(objs.pods) > 0 {
		nodes, err := listNodes(ctx, client)
		switch {
		case err == nil:
			objs.nodes = nodes
		case skippable(err):
			inv.skip("nodes", "", "nodes", "pod platforms come from nodeSelector hints", err)
		default:
			return nil, fmt.Errorf("listing nodes: %w", err)
		}
	}

	inv.Workloads = filterTargets(group(&objs), sel.Targets)
	return inv, nil
}

// each runs a paginated LIST and calls fn with every item of type *T.
func each[T any](ctx context.Context, opts metav1.ListOptions, list func(context.Context, metav1.ListOptions) (runtime.Object, error), fn func(*T)) error {
	return newPager(list).EachListItem(ctx, opts, func(obj runtime.Object) error {
		item, ok := any(obj).(*T)
		if !ok {
			return fmt.Errorf("unexpected list item %T", obj)
		}
		fn(item)
		return nil
	})
}

func listNodes(ctx context.Context, c kubernetes.Interface) (map[string]Platform, error) {
	nodes := map[string]Platform{}
	err := each(ctx, metav1.ListOptions{}, func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return c.CoreV1().Nodes().List(ctx, opts)
	}, func(n *corev1.Node) { nodes[n.Name] = nodePlatform(n) })
	return nodes, err
}

// wantedResources is the set of resources needed for targets: all of them
// without targets or with a pod target (a pod names its workload only
// through its owners).
func wantedResources(targets []Target) map[string]bool {
	want := map[string]bool{"pods": true}
	all := len(targets) == 0
	for _, t := range targets {
		if t.Kind == KindPod {
			all = true
		}
	}
	for _, l := range listers {
		if all {
			want[l.resource] = true
			continue
		}
		for _, t := range targets {
			for _, k := range l.kinds {
				if k == t.Kind {
					want[l.resource] = true
				}
			}
		}
	}
	return want
}

// skippable errors mean "this resource is not for you": RBAC or an API the
// server does not serve. Anything else means the cluster is not usable.
func skippable(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err)
}

func (inv *Inventory) skip(resource, ns, what, consequence string, err error) {
	why := "are not served by this cluster"
	if apierrors.IsForbidden(err) {
		why = "may not be listed (forbidden)"
	}
	inv.Unread = append(inv.Unread, resource)
	inv.Notes = append(inv.Notes, Note{
		Resource:  resource,
		Namespace: ns,
		Message:   fmt.Sprintf("%s %s; %s", what, why, consequence),
	})
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in namespace " + ns
}
