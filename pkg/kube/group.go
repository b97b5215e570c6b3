package kube

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// key identifies a workload.
type key struct{ namespace, kind, name string }

// grouper turns listed objects into workloads, following ownerReferences:
// Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod →
// StatefulSet/DaemonSet/ReplicationController, else a bare Pod.
type grouper struct {
	workloads map[key]*Workload
	// rank of the object an inferred template came from, so the newest
	// ReplicaSet (or Job, or pod) wins.
	rank map[key]rank

	replicaSets map[types.UID]*appsv1.ReplicaSet
	jobs        map[types.UID]*batchv1.Job
	cronJobs    map[key]bool
	nodes       map[string]Platform
	events      map[types.UID][]PullEvent
}

// rank orders candidate templates for an inferred workload: revision
// first (a Deployment's ReplicaSet revision), then creation time.
type rank struct {
	revision int64
	created  metav1.Time
}

func (r rank) newer(o rank) bool {
	if r.revision != o.revision {
		return r.revision > o.revision
	}
	return o.created.Before(&r.created)
}

func group(o *objects) []Workload {
	g := &grouper{
		workloads:   map[key]*Workload{},
		rank:        map[key]rank{},
		replicaSets: map[types.UID]*appsv1.ReplicaSet{},
		jobs:        map[types.UID]*batchv1.Job{},
		cronJobs:    map[key]bool{},
		nodes:       o.nodes,
		events:      o.events,
	}
	for _, d := range o.deployments {
		g.add(key{d.Namespace, KindDeployment, d.Name}, &d.Spec.Template.Spec)
	}
	for _, s := range o.statefulSets {
		g.add(key{s.Namespace, KindStatefulSet, s.Name}, &s.Spec.Template.Spec)
	}
	for _, d := range o.daemonSets {
		g.add(key{d.Namespace, KindDaemonSet, d.Name}, &d.Spec.Template.Spec)
	}
	for _, r := range o.rcs {
		if r.Spec.Template != nil {
			g.add(key{r.Namespace, KindReplicationController, r.Name}, &r.Spec.Template.Spec)
		}
	}
	for _, c := range o.cronJobs {
		k := key{c.Namespace, KindCronJob, c.Name}
		g.cronJobs[k] = true
		g.add(k, &c.Spec.JobTemplate.Spec.Template.Spec)
	}
	for _, r := range o.replicaSets {
		g.replicaSets[r.UID] = r
		k := key{r.Namespace, KindReplicaSet, r.Name}
		if ctrl := metav1.GetControllerOf(r); ctrl != nil {
			k = key{r.Namespace, ctrl.Kind, ctrl.Name}
		}
		g.infer(k, &r.Spec.Template.Spec, rank{revision: revision(r.Annotations), created: r.CreationTimestamp}, k.kind == KindReplicaSet)
	}
	for _, j := range o.jobs {
		g.jobs[j.UID] = j
		k := key{j.Namespace, KindJob, j.Name}
		if ctrl := metav1.GetControllerOf(j); ctrl != nil {
			k = key{j.Namespace, ctrl.Kind, ctrl.Name}
		}
		g.infer(k, &j.Spec.Template.Spec, rank{created: j.CreationTimestamp}, k.kind == KindJob)
	}
	for _, p := range o.pods {
		k, counts := g.owner(p)
		if !counts {
			continue
		}
		g.infer(k, &p.Spec, rank{revision: -1, created: p.CreationTimestamp}, k.kind == KindPod)
		w := g.workloads[k]
		w.Pods = append(w.Pods, g.pod(p))
	}

	out := make([]Workload, 0, len(g.workloads))
	for _, w := range g.workloads {
		slices.SortFunc(w.Pods, func(a, b Pod) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b Workload) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// add records a workload read from its own object; its template is final.
func (g *grouper) add(k key, spec *corev1.PodSpec) {
	w := &Workload{Kind: k.kind, Name: k.name, Namespace: k.namespace}
	templateOf(w, spec)
	g.workloads[k] = w
}

// infer records a workload seen only through what it owns, unless its own
// object was read; self is true when the object is the workload itself
// (a bare ReplicaSet, Job or Pod), not a stand-in for an unread owner.
func (g *grouper) infer(k key, spec *corev1.PodSpec, r rank, self bool) {
	w, ok := g.workloads[k]
	if ok {
		old, inferred := g.rank[k]
		if !inferred || !r.newer(old) {
			return
		}
	} else {
		w = &Workload{Kind: k.kind, Name: k.name, Namespace: k.namespace, Inferred: !self}
		g.workloads[k] = w
	}
	if self {
		// The object itself: its template is final.
		delete(g.rank, k)
	} else {
		g.rank[k] = r
	}
	templateOf(w, spec)
}

// owner names the workload a pod belongs to, and whether the pod counts
// as running it: pods that ended (evicted, completed) count only for a
// Job or a bare Pod; a CronJob counts only pods of its unfinished Jobs.
func (g *grouper) owner(p *corev1.Pod) (key, bool) {
	ended := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	ctrl := metav1.GetControllerOf(p)
	if ctrl == nil || ctrl.Kind == "Node" { // Node: a static pod's mirror
		return key{p.Namespace, KindPod, p.Name}, true
	}
	switch ctrl.Kind {
	case KindReplicaSet:
		if rs, ok := g.replicaSets[ctrl.UID]; ok {
			if rc := metav1.GetControllerOf(rs); rc != nil {
				return key{p.Namespace, rc.Kind, rc.Name}, !ended
			}
			return key{p.Namespace, KindReplicaSet, rs.Name}, !ended
		}
		// ReplicaSet unread: a Deployment names its ReplicaSets NAME-HASH.
		if h := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]; h != "" && strings.HasSuffix(ctrl.Name, "-"+h) {
			return key{p.Namespace, KindDeployment, strings.TrimSuffix(ctrl.Name, "-"+h)}, !ended
		}
		return key{p.Namespace, KindReplicaSet, ctrl.Name}, !ended
	case KindJob:
		if j, ok := g.jobs[ctrl.UID]; ok {
			if jc := metav1.GetControllerOf(j); jc != nil {
				if jc.Kind == KindCronJob {
					return key{p.Namespace, KindCronJob, jc.Name}, !jobFinished(j)
				}
				return key{p.Namespace, jc.Kind, jc.Name}, true
			}
			return key{p.Namespace, KindJob, j.Name}, true
		}
		// Job unread: a CronJob names its Jobs NAME-SCHEDULEDTIME.
		if m := cronJobSuffix.FindStringSubmatch(ctrl.Name); m != nil && g.cronJobs[key{p.Namespace, KindCronJob, m[1]}] {
			return key{p.Namespace, KindCronJob, m[1]}, !ended
		}
		return key{p.Namespace, KindJob, ctrl.Name}, true
	}
	return key{p.Namespace, ctrl.Kind, ctrl.Name}, !ended
}

var cronJobSuffix = regexp.MustCompile(`^(.+)-[0-9]+$`)

func jobFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// pod copies a pod, with its node's platform when nodes were read.
func (g *grouper) pod(p *corev1.Pod) Pod {
	out := podOf(p)
	out.PullEvents = g.events[p.UID]
	if np, ok := g.nodes[p.Spec.NodeName]; ok && np.Known() {
		out.Platform, out.PlatformSource = np, "node"
	}
	return out
}

func revision(annotations map[string]string) int64 {
	n, err := strconv.ParseInt(annotations["deployment.kubernetes.io/revision"], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// filterTargets keeps the workloads the targets select; a pod target keeps
// only the named pod of its workload.
func filterTargets(ws []Workload, targets []Target) []Workload {
	if len(targets) == 0 {
		return ws
	}
	var out []Workload
	for _, w := range ws {
		var podNames map[string]bool
		selected := false
		for _, t := range targets {
			if !t.matches(&w) {
				continue
			}
			selected = true
			if t.Kind == KindPod && w.Kind != KindPod && t.Name != "" {
				if podNames == nil {
					podNames = map[string]bool{}
				}
				podNames[t.Name] = true
			} else {
				podNames = nil
				break // the whole workload is selected
			}
		}
		if !selected {
			continue
		}
		if podNames != nil {
			w.Pods = slices.DeleteFunc(slices.Clone(w.Pods), func(p Pod) bool { return !podNames[p.Name] })
		}
		out = append(out, w)
	}
	return out
}
