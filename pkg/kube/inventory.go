// Package kube reads what runs in a cluster: workloads, their pod
// templates, their pods' running image digests, node platforms, and the
// pull secrets the kubelet would use. It only ever gets and lists.
package kube

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/report"
)

// Inventory is what Collect read.
type Inventory struct {
	// Workloads, sorted by namespace, kind and name.
	Workloads []Workload
	// Notes say what could not be read (partial results).
	Notes []Note
	// Unread lists the resources (e.g. "pods", "nodes") that could not be
	// listed; see Readable.
	Unread []string
	// EventLists is how many namespaces' Events were listed (one
	// paginated LIST each, only where some pod waits on an image pull).
	EventLists int
	// NotFound holds a NotFound API error (apierrors.IsNotFound) for each
	// named target (deploy/web) that does not exist where it was looked
	// for, in the order given; only for resources that were read.
	NotFound []error
	// NodeProviderIDs maps every node read to its spec.providerID ("" for
	// none): the cloud whose credential provider its kubelet runs. Nil
	// when nodes were not read (no pods, or not allowed).
	NodeProviderIDs map[string]string
}

// Readable reports whether resource (e.g. "pods") was listed, so callers
// can tell "no pods" from "pods could not be read".
func (inv *Inventory) Readable(resource string) bool {
	for _, r := range inv.Unread {
		if r == resource {
			return false
		}
	}
	return true
}

// Note explains a resource that was skipped.
type Note struct {
	// Context is the kubeconfig context it was read through, when a run
	// reads several.
	Context   string
	Resource  string // e.g. "deployments"
	Namespace string // empty for cluster-scoped or all namespaces
	// Reason names why: Forbidden, NotServed, Unreachable (no answer in
	// time, refused, reset), ServerError (5xx), RateLimited (429).
	Reason  report.Reason
	Message string
	Remedy  string
	// HTTPStatus is the API server's answer; 0 when there was none.
	HTTPStatus int
}

// SetContext records the kubeconfig context everything in inv was read
// through; "" leaves it as it is.
func (inv *Inventory) SetContext(name string) {
	if name == "" {
		return
	}
	for i := range inv.Workloads {
		inv.Workloads[i].Context = name
	}
	for i := range inv.Notes {
		inv.Notes[i].Context = name
	}
	for i, nf := range inv.NotFound {
		inv.NotFound[i] = inContext{context: name, err: nf}
	}
}

// inContext is an error met through one kubeconfig context of a run
// over several: kubectl's words, then the context, so a workload missing
// in one cluster of a fleet says which. It unwraps to the API error, so
// apierrors.IsNotFound and ReasonForError still see it.
type inContext struct {
	context string
	err     error
}

func (e inContext) Error() string { return e.err.Error() + " in context " + e.context }

func (e inContext) Unwrap() error { return e.err }

// Workload is a controller (or a bare pod) and the pods it owns.
type Workload struct {
	// Context is the kubeconfig context it was read through, when a run
	// reads several (--contexts).
	Context   string
	Kind      string // one of the Kind constants, or an owner's kind (e.g. "Rollout")
	Name      string
	Namespace string
	// Inferred is true when the owning object itself could not be read
	// (forbidden, filtered out by the label selector, or an unknown kind):
	// the template then comes from a ReplicaSet, Job or pod.
	Inferred bool
	// Undeployed is true for a workload read from a manifest (WorkloadOf)
	// rather than the cluster: it has no pods yet.
	Undeployed bool

	// Containers of the pod template: init containers first, in order.
	Containers []Container
	// ImagePullSecrets of the template, in order.
	ImagePullSecrets []string
	// ServiceAccountName of the template ("default" when empty).
	ServiceAccountName string
	// NodeSelector of the template (a platform hint).
	NodeSelector map[string]string

	// Pods that run (or ran, for Jobs) this workload.
	Pods []Pod
}

// ID is "Kind/name", as results show it.
func (w *Workload) ID() string { return w.Kind + "/" + w.Name }

// Container is one container of a pod template.
type Container struct {
	Name  string
	Image string
	// PullPolicy is the effective policy: the API default is applied when
	// the spec leaves it empty.
	PullPolicy corev1.PullPolicy
	Init       bool
	Ephemeral  bool
	// Env and EnvFrom are the template's, as written (never resolved, never
	// a Secret's values): the doctor reads image and registry settings
	// from them without a GET per workload.
	Env     []corev1.EnvVar
	EnvFrom []corev1.EnvFromSource
}

// Pod is one pod of a workload.
type Pod struct {
	Name      string
	NodeName  string
	Phase     corev1.PodPhase
	StartTime time.Time // zero when not started
	Created   time.Time
	// Platform is the node's, or the nodeSelector's hint when nodes
	// cannot be read; PlatformSource says which ("node", "nodeSelector",
	// or empty when unknown).
	Platform       Platform
	PlatformSource string
	// ImagePullSecrets the pod was admitted with (ServiceAccount ones
	// included): what the kubelet uses for this pod.
	ImagePullSecrets []string
	// Statuses of init, regular and ephemeral containers.
	Statuses []ContainerStatus
	// Ephemeral containers are listed, never checked.
	Ephemeral []Container
	// PullEvents are the kubelet's Events about this pod's image pulls,
	// oldest first; read only in namespaces where some pod waits on a
	// pull, and only when Events may be listed there.
	PullEvents []PullEvent
}

// Status returns the status of the named container, init or regular.
func (p *Pod) Status(name string, init bool) (ContainerStatus, bool) {
	for _, s := range p.Statuses {
		if s.Name == name && s.Init == init && !s.Ephemeral {
			return s, true
		}
	}
	return ContainerStatus{}, false
}

// ContainerStatus is what the kubelet reports for one container.
type ContainerStatus struct {
	Name      string
	Image     string
	ImageID   string // runtime-specific; see scan.NormalizeImageID
	Init      bool
	Ephemeral bool
	// Waiting is state.waiting.reason (e.g. ErrImagePull,
	// ImagePullBackOff), WaitingMessage its message; empty unless waiting.
	Waiting        string
	WaitingMessage string
}

// Platform is an OS/architecture pair.
type Platform struct {
	OS           string
	Architecture string
	Variant      string
}

// Known reports whether the architecture is known.
func (p Platform) Known() bool { return p.Architecture != "" }

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Result is the note as a cluster.read skip result: what was not read,
// why, and what to do about it.
func (n Note) Result() report.Result {
	ev := report.Evidence{"resource": n.Resource}
	if n.HTTPStatus != 0 {
		ev["httpStatus"] = n.HTTPStatus
	}
	return report.Result{
		Check:     report.CheckClusterRead,
		Status:    report.StatusSkip,
		Reason:    n.Reason,
		Message:   n.Message,
		Remedy:    n.Remedy,
		Evidence:  ev,
		Context:   n.Context,
		Namespace: n.Namespace,
	}
}
