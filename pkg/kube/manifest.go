package kube

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// KindOf finds the built-in workload kind a manifest's group and kind
// name, in the group it is served in now (a Deployment of the retired
// extensions/v1beta1 is not one a cluster would take).
func KindOf(gk schema.GroupKind) (*WorkloadKind, bool) {
	k, ok := LookupKind(gk.Kind)
	if !ok || gk.Group != k.Group {
		return nil, false
	}
	return k, true
}

// IsWorkloadKindName reports whether kind names a built-in workload kind
// in any group: a Deployment of extensions/v1beta1 is one, in a version
// no longer served.
func IsWorkloadKindName(kind string) bool {
	_, ok := LookupKind(kind)
	return ok
}

// WorkloadOf reads the pod template of obj, a typed built-in workload
// object (as the client-go scheme decodes it), into a Workload: init
// containers first, then containers, then, for a Pod, its ephemeral
// containers (Ephemeral set). namespace is where it would run. It
// returns false for any other object.
func WorkloadOf(obj runtime.Object, name, namespace string) (Workload, bool) {
	k, ok := KindOf(obj.GetObjectKind().GroupVersionKind().GroupKind())
	if !ok {
		return Workload{}, false
	}
	spec := k.PodSpec(obj)
	if spec == nil {
		return Workload{}, false
	}
	w := Workload{Kind: k.Kind, Name: name, Namespace: namespace, Undeployed: true}
	templateOf(&w, spec)
	for _, e := range spec.EphemeralContainers {
		c := containerOf((*corev1.Container)(&e.EphemeralContainerCommon), false)
		c.Ephemeral = true
		w.Containers = append(w.Containers, c)
	}
	return w, true
}
