package kube

import (
	"context"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/regcheck/regcheck/pkg/report"
)

// WorkloadKind is one kind of workload regcheck reads: the names kubectl
// takes for it, the resource and API group it is listed from, and where an
// object of it keeps its pod template. The one table below drives argument
// parsing, not-found errors, listing, shell completion and reading
// manifests, so a kind is added (or fixed) in one place.
type WorkloadKind struct {
	Kind     string // "Deployment"
	Resource string // "deployments"
	Group    string // "apps"; "" for the core group
	// ManifestGroups are the API groups a manifest may name the kind in:
	// Group, plus the retired extensions/v1beta1 for the kinds it served.
	// A custom resource that happens to be called "Deployment" in another
	// group is not one.
	ManifestGroups []string
	// Aliases are the names kubectl takes besides the resource: the
	// singular and the short name.
	Aliases []string
	// Restart is how an object of the kind gets fresh pods.
	Restart report.RestartStyle
	// PodSpec is the pod template of a typed object of this kind; nil for
	// another type, or a ReplicationController without one.
	PodSpec func(runtime.Object) *corev1.PodSpec
	// list is one page of a LIST of the kind in a namespace.
	list func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error)
}

// WorkloadKinds are the kinds regcheck scans, in kubectl's usual order.
var WorkloadKinds = []WorkloadKind{
	{
		Kind: KindDeployment, Resource: "deployments", Group: "apps", ManifestGroups: []string{"apps", "extensions"},
		Aliases: []string{"deploy", "deployment"},
		Restart: report.RestartRollout,
		PodSpec: specOf(func(o *appsv1.Deployment) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().Deployments(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindStatefulSet, Resource: "statefulsets", Group: "apps", ManifestGroups: []string{"apps"},
		Aliases: []string{"sts", "statefulset"},
		Restart: report.RestartRollout,
		PodSpec: specOf(func(o *appsv1.StatefulSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().StatefulSets(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindDaemonSet, Resource: "daemonsets", Group: "apps", ManifestGroups: []string{"apps", "extensions"},
		Aliases: []string{"ds", "daemonset"},
		Restart: report.RestartRollout,
		PodSpec: specOf(func(o *appsv1.DaemonSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().DaemonSets(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindReplicaSet, Resource: "replicasets", Group: "apps", ManifestGroups: []string{"apps", "extensions"},
		Aliases: []string{"rs", "replicaset"},
		Restart: report.RestartDeletePods,
		PodSpec: specOf(func(o *appsv1.ReplicaSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.AppsV1().ReplicaSets(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindJob, Resource: "jobs", Group: "batch", ManifestGroups: []string{"batch"},
		Aliases: []string{"job"},
		Restart: report.RestartReplace,
		PodSpec: specOf(func(o *batchv1.Job) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.BatchV1().Jobs(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindCronJob, Resource: "cronjobs", Group: "batch", ManifestGroups: []string{"batch"},
		Aliases: []string{"cj", "cronjob"},
		Restart: report.RestartScheduled,
		PodSpec: specOf(func(o *batchv1.CronJob) *corev1.PodSpec { return &o.Spec.JobTemplate.Spec.Template.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.BatchV1().CronJobs(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindReplicationController, Resource: "replicationcontrollers", Group: "", ManifestGroups: []string{""},
		Aliases: []string{"rc", "replicationcontroller"},
		Restart: report.RestartDeletePods,
		PodSpec: specOf(func(o *corev1.ReplicationController) *corev1.PodSpec {
			if o.Spec.Template == nil {
				return nil
			}
			return &o.Spec.Template.Spec
		}),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ReplicationControllers(ns).List(ctx, opts)
		},
	},
	{
		Kind: KindPod, Resource: "pods", Group: "", ManifestGroups: []string{""},
		Aliases: []string{"po", "pod"},
		Restart: report.RestartReplace,
		PodSpec: specOf(func(o *corev1.Pod) *corev1.PodSpec { return &o.Spec }),
		list: func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Pods(ns).List(ctx, opts)
		},
	},
}

// specOf adapts a typed template reader to any object: nil for another
// type, never a panic.
func specOf[T runtime.Object](get func(T) *corev1.PodSpec) func(runtime.Object) *corev1.PodSpec {
	return func(obj runtime.Object) *corev1.PodSpec {
		if o, ok := obj.(T); ok {
			return get(o)
		}
		return nil
	}
}

// kindsByName indexes WorkloadKinds by kind, resource and alias, each
// lower-case, the way kubectl matches a TYPE argument.
var kindsByName = func() map[string]*WorkloadKind {
	m := map[string]*WorkloadKind{}
	for i := range WorkloadKinds {
		k := &WorkloadKinds[i]
		m[k.Resource] = k
		for _, a := range k.Aliases {
			m[a] = k
		}
	}
	return m
}()

// LookupKind finds a kind by its Kind name ("Deployment").
func LookupKind(kind string) (*WorkloadKind, bool) {
	for i := range WorkloadKinds {
		if WorkloadKinds[i].Kind == kind {
			return &WorkloadKinds[i], true
		}
	}
	return nil, false
}

// Lister is a paginated-capable LIST of the kind in ns, with the client
// bound, in the shape client-go's pager takes.
func (k *WorkloadKind) Lister(c kubernetes.Interface, ns string) func(context.Context, metav1.ListOptions) (runtime.Object, error) {
	return func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return k.list(ctx, c, ns, opts)
	}
}

// InManifestGroup reports whether a manifest's API group names this kind.
func (k *WorkloadKind) InManifestGroup(group string) bool {
	return slices.Contains(k.ManifestGroups, group)
}

// Names lists the names of the kind's objects in ns, sorted, a page at a
// time: what shell completion offers after TYPE/.
func (k *WorkloadKind) Names(ctx context.Context, c kubernetes.Interface, ns string) ([]string, error) {
	obj, _, err := newPager(k.Lister(c, ns)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	err = apimeta.EachListItem(obj, func(o runtime.Object) error {
		m, err := apimeta.Accessor(o)
		if err != nil {
			return err
		}
		names = append(names, m.GetName())
		return nil
	})
	slices.Sort(names)
	return names, err
}

// RestartStyleOf is how a workload of kind gets fresh pods; a kind not in
// the table (a custom controller's) gets its pods deleted.
func RestartStyleOf(kind string) report.RestartStyle {
	if k, ok := LookupKind(kind); ok {
		return k.Restart
	}
	return report.RestartDeletePods
}
