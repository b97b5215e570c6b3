package kube

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// podSpecs is the pod spec of each built-in workload kind regcheck reads
// from a manifest, by group and kind (the served version of each: the one
// manifests are written in since 1.16). One row per kind; a kind not here
// has no pod template regcheck checks.
var podSpecs = map[schema.GroupKind]struct {
	kind string
	spec func(runtime.Object) (*corev1.PodSpec, bool)
}{
	{Group: "apps", Kind: KindDeployment}:  {KindDeployment, specOf(func(o *appsv1.Deployment) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Kind: KindStatefulSet}: {KindStatefulSet, specOf(func(o *appsv1.StatefulSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Kind: KindDaemonSet}:   {KindDaemonSet, specOf(func(o *appsv1.DaemonSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "apps", Kind: KindReplicaSet}:  {KindReplicaSet, specOf(func(o *appsv1.ReplicaSet) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "batch", Kind: KindJob}:        {KindJob, specOf(func(o *batchv1.Job) *corev1.PodSpec { return &o.Spec.Template.Spec })},
	{Group: "batch", Kind: KindCronJob}:    {KindCronJob, specOf(func(o *batchv1.CronJob) *corev1.PodSpec { return &o.Spec.JobTemplate.Spec.Template.Spec })},
	{Group: "", Kind: KindReplicationController}: {KindReplicationController, specOf(func(o *corev1.ReplicationController) *corev1.PodSpec {
		if o.Spec.Template == nil {
			return nil
		}
		return &o.Spec.Template.Spec
	})},
	{Group: "", Kind: KindPod}: {KindPod, specOf(func(o *corev1.Pod) *corev1.PodSpec { return &o.Spec })},
}

func specOf[T runtime.Object](get func(T) *corev1.PodSpec) func(runtime.Object) (*corev1.PodSpec, bool) {
	return func(obj runtime.Object) (*corev1.PodSpec, bool) {
		o, ok := obj.(T)
		if !ok {
			return nil, false
		}
		s := get(o)
		return s, s != nil
	}
}

// WorkloadKind reports whether gk is a built-in workload kind with a pod
// template (Deployment, ..., Pod), and its Kind constant.
func WorkloadKind(gk schema.GroupKind) (string, bool) {
	row, ok := podSpecs[gk]
	return row.kind, ok
}

// IsWorkloadKindName reports whether kind names a built-in workload kind
// in any group: a Deployment of extensions/v1beta1 is one, in a version
// no longer served.
func IsWorkloadKindName(kind string) bool {
	for gk := range podSpecs {
		if gk.Kind == kind {
			return true
		}
	}
	return false
}

// WorkloadOf reads the pod template of obj, a typed built-in workload
// object (as the client-go scheme decodes it), into a Workload: init
// containers first, then containers, then, for a Pod, its ephemeral
// containers (Ephemeral set). namespace is where it would run. It
// returns false for any other object.
func WorkloadOf(obj runtime.Object, name, namespace string) (Workload, bool) {
	row, ok := podSpecs[obj.GetObjectKind().GroupVersionKind().GroupKind()]
	if !ok {
		return Workload{}, false
	}
	spec, ok := row.spec(obj)
	if !ok {
		return Workload{}, false
	}
	w := Workload{Kind: row.kind, Name: name, Namespace: namespace}
	templateOf(&w, spec)
	for _, e := range spec.EphemeralContainers {
		c := containerOf(e.Name, e.Image, e.ImagePullPolicy, false)
		c.Ephemeral = true
		w.Containers = append(w.Containers, c)
	}
	return w, true
}
