package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	events       map[types.UID][]PullEvent
}

// lister lists one resource into objects.
type lister struct {
	resource string
	kinds    []string // target kinds that need this resource
	run      func(ctx context.Context, src Source, ns string, opts metav1.ListOptions, o *objects) error
}

// into is a lister's run: resource listed as *T into the field of objects
// that field returns.
func into[T any](resource string, field func(*objects) *[]*T) func(context.Context, Source, string, metav1.ListOptions, *objects) error {
	return func(ctx context.Context, src Source, ns string, opts metav1.ListOptions, o *objects) error {
		items, err := listAll[T](ctx, src, resource, ns, opts)
		*field(o) = items
		return err
	}
}

// listers are the namespaced resources Collect reads, one LIST each.
var listers = []lister{
	{"pods", nil, into("pods", func(o *objects) *[]*corev1.Pod { return &o.pods })},
	{"replicasets", []string{KindDeployment, KindReplicaSet}, into("replicasets", func(o *objects) *[]*appsv1.ReplicaSet { return &o.replicaSets })},
	{"deployments", []string{KindDeployment}, into("deployments", func(o *objects) *[]*appsv1.Deployment { return &o.deployments })},
	{"statefulsets", []string{KindStatefulSet}, into("statefulsets", func(o *objects) *[]*appsv1.StatefulSet { return &o.statefulSets })},
	{"daemonsets", []string{KindDaemonSet}, into("daemonsets", func(o *objects) *[]*appsv1.DaemonSet { return &o.daemonSets })},
	{"jobs", []string{KindJob, KindCronJob}, into("jobs", func(o *objects) *[]*batchv1.Job { return &o.jobs })},
	{"cronjobs", []string{KindCronJob}, into("cronjobs", func(o *objects) *[]*batchv1.CronJob { return &o.cronJobs })},
	{"replicationcontrollers", []string{KindReplicationController}, into("replicationcontrollers", func(o *objects) *[]*corev1.ReplicationController { return &o.rcs })},
}

// Collect reads the selected workloads with one paginated LIST per
// resource (never a GET per object) and groups pods under their owners.
// A resource that cannot be listed — forbidden, not served, or the API
// server failing, too slow or gone mid-run — is skipped with a note that
// names it and why, and the results are partial. The error, an *Error,
// is returned only when no workload resource could be read or the API
// server rejected the credentials (401).
func Collect(ctx context.Context, src Source, sel Selection) (*Inventory, error) {
	return CollectEarly(ctx, src, sel, nil)
}

// CollectEarly is Collect that also hands early the selected workloads'
// templates — containers, pull secrets, service account, no pods — as soon
// as every resource but pods and ReplicaSets has been listed. The pods LIST, thousands of
// objects with their status, is the long one; a caller can start work that
// needs only the templates (the registry lookups) while it runs. early is
// called at most once, from another goroutine, before CollectEarly returns.
//
// With early, the pods and ReplicaSets LISTs start once the templates are
// listed, not beside them: the API server and regcheck (two cores on the
// bench) then serve and decode the templates alone, and the pods are
// listed while the registry answers. On the 5,000-pod bench the first
// registry request came 0.030 s sooner and a scan took 0.058 s less (10
// runs each, ABBA order), the registry span unchanged. A scan whose
// registry answers faster than the pods are listed pays up to the
// templates' LIST time more.
func CollectEarly(ctx context.Context, src Source, sel Selection, early func(templates []Workload)) (*Inventory, error) {
	ns := sel.Namespace
	switch {
	case sel.AllNamespaces:
		ns = metav1.NamespaceAll
	case ns == "":
		ns = metav1.NamespaceDefault
	}
	var opts metav1.ListOptions
	if sel.LabelSelector != nil && !sel.LabelSelector.Empty() {
		opts.LabelSelector = sel.LabelSelector.String()
	}
	wanted := wantedResources(sel.Targets)

	var (
		wg   sync.WaitGroup
		objs objects
		errs = make([]error, len(listers))
		took = make([]time.Duration, len(listers))
	)
	// The early templates wait for neither pods nor ReplicaSets: a
	// Deployment keeps up to ten old ReplicaSets, so theirs is often the
	// longest LIST but one, and only a ReplicaSet without a readable owner
	// has a template of its own (it is then resolved after the LISTs, as
	// without early).
	template := func(resource string) bool { return resource != "pods" && resource != "replicasets" }
	var templatesListed sync.WaitGroup
	for _, l := range listers {
		if wanted[l.resource] && template(l.resource) {
			templatesListed.Add(1)
		}
	}
	for i, l := range listers {
		if !wanted[l.resource] {
			continue
		}
		wg.Go(func() {
			switch {
			case template(l.resource):
				defer templatesListed.Done()
			case early != nil:
				templatesListed.Wait() // a failed LIST is done too
			}
			start := time.Now()
			errs[i] = l.run(ctx, src, ns, opts, &objs)
			took[i] = time.Since(start)
		})
	}
	earlyDone := make(chan struct{})
	go func() {
		defer close(earlyDone)
		if early == nil {
			return
		}
		templatesListed.Wait()
		// These fields are final now; the pods and ReplicaSet listers
		// write only their own.
		templates := objects{
			deployments: objs.deployments, statefulSets: objs.statefulSets,
			daemonSets: objs.daemonSets, jobs: objs.jobs, cronJobs: objs.cronJobs, rcs: objs.rcs,
		}
		early(filterTargets(group(&templates), sel.Targets))
	}()
	wg.Wait()
	<-earlyDone

	inv := &Inventory{}
	read := 0
	var failures []failure
	for i, l := range listers {
		if !wanted[l.resource] {
			continue
		}
		if errs[i] == nil {
			read++
			continue
		}
		f := failure{resource: l.resource, err: errs[i], cause: classify(ctx, errs[i], l.resource, ns, took[i]), took: took[i]}
		if f.cause.fatal {
			return nil, nothingRead(ns, []failure{f})
		}
		failures = append(failures, f)
	}
	if read == 0 {
		return nil, nothingRead(ns, failures)
	}
	for _, f := range failures {
		inv.skip(f.resource, ns, f.resource+inNamespace(ns), f.cause, "results are partial")
	}

	// Nodes give each pod its platform (without them, the nodeSelector
	// hints) and the cloud whose node credentials serve its images. They
	// are listed even when no pod is: a Deployment scaled to zero on an
	// ECR image is served by the nodes' credentials too, so a failed LIST
	// (a namespace-scoped user may not list nodes) is always a skip, and
	// Readable("nodes") tells the scan the cloud is unknown.
	{
		start := time.Now()
		nodes, providerIDs, err := listNodes(ctx, src)
		if err == nil {
			objs.nodes = nodes
			inv.NodeProviderIDs = providerIDs
		} else {
			c := classify(ctx, err, "nodes", "", time.Since(start))
			if c.fatal {
				return nil, nothingRead(ns, []failure{{resource: "nodes", err: err, cause: c}})
			}
			consequence := "the credential providers the nodes run are unknown (images on a cloud's registry are taken to be pulled with the nodes' identity)"
			if len(objs.pods) > 0 {
				consequence = "pod platforms come from nodeSelector hints, and " + consequence
			}
			inv.skip("nodes", "", "nodes", c, consequence)
		}
	}

	// The kubelet's Events say why a pull failed when the waiting state
	// does not: listed only where some pod waits on a pull.
	events, listed, eventFailures := pullEventsIn(ctx, src, objs.pods)
	objs.events, inv.EventLists = events, listed
	for _, f := range eventFailures {
		c := classify(ctx, f.err, "events", f.namespace, f.took)
		if c.fatal {
			return nil, nothingRead(ns, []failure{{resource: "events", err: f.err, cause: c}})
		}
		inv.skip("events", f.namespace, "events"+inNamespace(f.namespace), c, "pull failures show the kubelet's waiting reason alone, without the cause its Events give")
	}

	inv.Workloads = filterTargets(group(&objs), sel.Targets)
	inv.NotFound = missingTargets(sel.Targets, inv.Workloads, inv)
	return inv, nil
}

func listNodes(ctx context.Context, src Source) (map[string]Platform, map[string]string, error) {
	nodes := map[string]Platform{}
	providerIDs := map[string]string{}
	err := each(ctx, src, "nodes", "", metav1.ListOptions{}, func(n *corev1.Node) {
		nodes[n.Name] = nodePlatform(n)
		providerIDs[n.Name] = n.Spec.ProviderID
	})
	return nodes, providerIDs, err
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

// skip records a resource that could not be listed and what that costs.
func (inv *Inventory) skip(resource, ns, what string, c cause, consequence string) {
	inv.Unread = append(inv.Unread, resource)
	inv.Notes = append(inv.Notes, Note{
		Resource:   resource,
		Namespace:  ns,
		Reason:     c.reason,
		Message:    fmt.Sprintf("%s %s; %s", what, c.why, consequence),
		Remedy:     c.remedy,
		HTTPStatus: c.status,
	})
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in namespace " + ns
}

// NodeProviderIDs reads every node's spec.providerID (node name → ID) with
// the scan's own paginated LIST, for commands that read no workloads
// (creds). A LIST that fails is a Note in the scan's words, never the raw
// client error; consequence says what the caller loses without it.
func NodeProviderIDs(ctx context.Context, client kubernetes.Interface, consequence string) (map[string]string, *Note) {
	_, ids, note := Nodes(ctx, client, consequence)
	return ids, note
}

// Nodes reads every node's platform and spec.providerID with one
// paginated LIST; a LIST that fails is a Note in the scan's words, with
// consequence saying what is then unknown.
func Nodes(ctx context.Context, client kubernetes.Interface, consequence string) (map[string]Platform, map[string]string, *Note) {
	start := time.Now()
	platforms, ids, err := listNodes(ctx, Direct(client))
	if err == nil {
		return platforms, ids, nil
	}
	c := classify(ctx, err, "nodes", "", time.Since(start))
	return nil, nil, &Note{Resource: "nodes", Reason: c.reason, Message: "nodes " + c.why + "; " + consequence, Remedy: c.remedy, HTTPStatus: c.status}
}
