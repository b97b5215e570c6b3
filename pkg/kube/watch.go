package kube

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Watcher keeps what a scan reads in client-go shared informers, for a
// process that scans again and again (serve): each resource is listed
// once, when a scan first asks for it, and watched from then on, so a
// rescan reads no object from the API server. Its Client answers the
// LISTs the scan makes (pods, workloads, nodes, pod Events, Secrets and
// ServiceAccounts) from the informers' caches and passes every other
// request to the real client. The informers only ever list and watch.
//
// A transform drops what no scan reads before an object is cached
// (managedFields, kubectl's last-applied annotation, the payload of
// Secrets that are not pull secrets), so memory follows the cluster's
// workloads, not their history.
type Watcher struct {
	client    kubernetes.Interface
	namespace string // metav1.NamespaceAll, or the one namespace watched
	stop      chan struct{}
	factory   informers.SharedInformerFactory
	events    informers.SharedInformerFactory

	mu       sync.Mutex
	watching map[string]*watched
	closed   bool
}

// watched is one resource's informer and the last error its LIST or
// WATCH met (nil once it lists again).
type watched struct {
	informer cache.SharedIndexInformer
	mu       sync.Mutex
	err      error
}

// podEvents is the field selector pullEventsIn lists Events with; the
// Events informer watches that and nothing more.
var podEvents = fields.OneTermEqualSelector("involvedObject.kind", "Pod").String()

// NewWatcher returns a watcher over client for namespace (empty: all
// namespaces). client must not time its requests out (rest.Config's
// Timeout): a watch is one long request. Nothing is listed until a scan
// asks; Close stops every watch.
func NewWatcher(client kubernetes.Interface, namespace string) *Watcher {
	opts := []informers.SharedInformerOption{informers.WithNamespace(namespace), informers.WithTransform(dropUnread)}
	return &Watcher{
		client:    client,
		namespace: namespace,
		stop:      make(chan struct{}),
		factory:   informers.NewSharedInformerFactoryWithOptions(client, 0, opts...),
		events: informers.NewSharedInformerFactoryWithOptions(client, 0, append(opts,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = podEvents }))...),
		watching: map[string]*watched{},
	}
}

// Close stops every informer and waits for them to end.
func (w *Watcher) Close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	close(w.stop)
	w.mu.Unlock()
	w.factory.Shutdown()
	w.events.Shutdown()
}

// Client is the client a scan reads through: its LISTs come from the
// informers.
func (w *Watcher) Client() kubernetes.Interface { return watchingClient{Interface: w.client, w: w} }

// watchedResources are the resources the informers serve, by the
// resource name the scan's LISTs use.
var watchedResources = map[string]schema.GroupVersionResource{
	"pods":                   corev1.SchemeGroupVersion.WithResource("pods"),
	"replicationcontrollers": corev1.SchemeGroupVersion.WithResource("replicationcontrollers"),
	"nodes":                  corev1.SchemeGroupVersion.WithResource("nodes"),
	"secrets":                corev1.SchemeGroupVersion.WithResource("secrets"),
	"serviceaccounts":        corev1.SchemeGroupVersion.WithResource("serviceaccounts"),
	"events":                 corev1.SchemeGroupVersion.WithResource("events"),
	"deployments":            appsv1.SchemeGroupVersion.WithResource("deployments"),
	"statefulsets":           appsv1.SchemeGroupVersion.WithResource("statefulsets"),
	"daemonsets":             appsv1.SchemeGroupVersion.WithResource("daemonsets"),
	"replicasets":            appsv1.SchemeGroupVersion.WithResource("replicasets"),
	"jobs":                   batchv1.SchemeGroupVersion.WithResource("jobs"),
	"cronjobs":               batchv1.SchemeGroupVersion.WithResource("cronjobs"),
}

// clusterScoped are the watched resources that have no namespace.
var clusterScoped = map[string]bool{"nodes": true}

// serves reports whether the informers answer a LIST of resource in ns
// with opts: a namespace the watcher does not cover, or a field selector
// other than the one the Events informer watches, goes to the API server.
func (w *Watcher) serves(resource, ns string, opts metav1.ListOptions) bool {
	if _, ok := watchedResources[resource]; !ok {
		return false
	}
	if !clusterScoped[resource] && w.namespace != metav1.NamespaceAll && ns != w.namespace {
		return false
	}
	if opts.FieldSelector != "" && !(resource == "events" && opts.FieldSelector == podEvents) {
		return false
	}
	return true
}

// informer returns resource's informer, started on first use.
func (w *Watcher) informer(resource string) (*watched, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("the cluster watch has stopped")
	}
	if wd, ok := w.watching[resource]; ok {
		return wd, nil
	}
	factory := w.factory
	if resource == "events" {
		factory = w.events
	}
	gi, err := factory.ForResource(watchedResources[resource])
	if err != nil {
		return nil, err
	}
	wd := &watched{informer: gi.Informer()}
	// The reflector retries a failed LIST or WATCH with a backoff; the
	// scan meanwhile reports the error as the one-shot scan would have.
	if err := wd.informer.SetWatchErrorHandler(func(_ *cache.Reflector, err error) {
		wd.mu.Lock()
		wd.err = err
		wd.mu.Unlock()
	}); err != nil {
		return nil, err
	}
	w.watching[resource] = wd
	factory.Start(w.stop)
	return wd, nil
}

// syncPoll is how often a LIST waiting for an informer's first sync looks
// again (cache.WaitForCacheSync polls at 100ms).
const syncPoll = 50 * time.Millisecond

// list returns the cached objects of resource in ns that match opts'
// label selector, once its informer has synced. Before that, the error
// its LIST met (so a forbidden resource is the same skip as in a
// one-shot scan), or ctx's.
func (w *Watcher) list(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]any, error) {
	wd, err := w.informer(resource)
	if err != nil {
		return nil, err
	}
	sel := labels.Everything()
	if opts.LabelSelector != "" {
		if sel, err = labels.Parse(opts.LabelSelector); err != nil {
			return nil, err
		}
	}
	tick := time.NewTicker(syncPoll)
	defer tick.Stop()
	for !wd.informer.HasSynced() {
		wd.mu.Lock()
		err := wd.err
		wd.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the first LIST of %s: %w", resource, ctx.Err())
		case <-tick.C:
		}
	}
	var out []any
	add := func(obj any) { out = append(out, obj) }
	if clusterScoped[resource] || ns == metav1.NamespaceAll {
		err = cache.ListAll(wd.informer.GetIndexer(), sel, add)
	} else {
		err = cache.ListAllByNamespace(wd.informer.GetIndexer(), ns, sel, add)
	}
	return out, err
}

// cachedList builds a typed LIST answer from the cache: a shallow copy of
// each object (the cache's own are shared; a scan only reads them), with
// no continue token, so client-go's pager takes it as the whole LIST.
func cachedList[T any](ctx context.Context, w *Watcher, resource, ns string, opts metav1.ListOptions) ([]T, error) {
	objs, err := w.list(ctx, resource, ns, opts)
	if err != nil {
		return nil, err
	}
	items := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(*T); ok {
			items = append(items, *t)
		}
	}
	return items, nil
}

// dropUnread is the informers' transform: it removes what no scan reads
// before an object is cached.
func dropUnread(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a[corev1.LastAppliedConfigAnnotation] != "" {
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
	if s, ok := obj.(*corev1.Secret); ok {
		// The scan reads a Secret's name and type, and the payload of a
		// pull secret only (PullSecretReader).
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
			key := dataKey(s.Type)
			if v, ok := s.Data[key]; ok {
				s.Data = map[string][]byte{key: v}
			} else {
				s.Data = nil
			}
		default:
			s.Data = nil
		}
		s.StringData = nil
	}
	return obj, nil
}

// The client a scan reads through: each group overrides the List of the
// resources the watcher serves and embeds the real client for the rest.
type watchingClient struct {
	kubernetes.Interface
	w *Watcher
}

func (c watchingClient) CoreV1() corev1client.CoreV1Interface {
	return watchingCore{CoreV1Interface: c.Interface.CoreV1(), w: c.w}
}

func (c watchingClient) AppsV1() appsv1client.AppsV1Interface {
	return watchingApps{AppsV1Interface: c.Interface.AppsV1(), w: c.w}
}

func (c watchingClient) BatchV1() batchv1client.BatchV1Interface {
	return watchingBatch{BatchV1Interface: c.Interface.BatchV1(), w: c.w}
}

type watchingCore struct {
	corev1client.CoreV1Interface
	w *Watcher
}

func (c watchingCore) Pods(ns string) corev1client.PodInterface {
	return pods{c.CoreV1Interface.Pods(ns), c.w, ns}
}

func (c watchingCore) ReplicationControllers(ns string) corev1client.ReplicationControllerInterface {
	return rcs{c.CoreV1Interface.ReplicationControllers(ns), c.w, ns}
}

func (c watchingCore) Nodes() corev1client.NodeInterface {
	return nodes{c.CoreV1Interface.Nodes(), c.w}
}

func (c watchingCore) Secrets(ns string) corev1client.SecretInterface {
	return secrets{c.CoreV1Interface.Secrets(ns), c.w, ns}
}

func (c watchingCore) ServiceAccounts(ns string) corev1client.ServiceAccountInterface {
	return serviceAccounts{c.CoreV1Interface.ServiceAccounts(ns), c.w, ns}
}

func (c watchingCore) Events(ns string) corev1client.EventInterface {
	return events{c.CoreV1Interface.Events(ns), c.w, ns}
}

type watchingApps struct {
	appsv1client.AppsV1Interface
	w *Watcher
}

func (c watchingApps) Deployments(ns string) appsv1client.DeploymentInterface {
	return deployments{c.AppsV1Interface.Deployments(ns), c.w, ns}
}

func (c watchingApps) StatefulSets(ns string) appsv1client.StatefulSetInterface {
	return statefulSets{c.AppsV1Interface.StatefulSets(ns), c.w, ns}
}

func (c watchingApps) DaemonSets(ns string) appsv1client.DaemonSetInterface {
	return daemonSets{c.AppsV1Interface.DaemonSets(ns), c.w, ns}
}

func (c watchingApps) ReplicaSets(ns string) appsv1client.ReplicaSetInterface {
	return replicaSets{c.AppsV1Interface.ReplicaSets(ns), c.w, ns}
}

type watchingBatch struct {
	batchv1client.BatchV1Interface
	w *Watcher
}

func (c watchingBatch) Jobs(ns string) batchv1client.JobInterface {
	return jobs{c.BatchV1Interface.Jobs(ns), c.w, ns}
}

func (c watchingBatch) CronJobs(ns string) batchv1client.CronJobInterface {
	return cronJobs{c.BatchV1Interface.CronJobs(ns), c.w, ns}
}

type pods struct {
	corev1client.PodInterface
	w  *Watcher
	ns string
}

func (r pods) List(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	if !r.w.serves("pods", r.ns, opts) {
		return r.PodInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.Pod](ctx, r.w, "pods", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &corev1.PodList{Items: items}, nil
}

type rcs struct {
	corev1client.ReplicationControllerInterface
	w  *Watcher
	ns string
}

func (r rcs) List(ctx context.Context, opts metav1.ListOptions) (*corev1.ReplicationControllerList, error) {
	if !r.w.serves("replicationcontrollers", r.ns, opts) {
		return r.ReplicationControllerInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.ReplicationController](ctx, r.w, "replicationcontrollers", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &corev1.ReplicationControllerList{Items: items}, nil
}

type nodes struct {
	corev1client.NodeInterface
	w *Watcher
}

func (r nodes) List(ctx context.Context, opts metav1.ListOptions) (*corev1.NodeList, error) {
	if !r.w.serves("nodes", "", opts) {
		return r.NodeInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.Node](ctx, r.w, "nodes", "", opts)
	if err != nil {
		return nil, err
	}
	return &corev1.NodeList{Items: items}, nil
}

type secrets struct {
	corev1client.SecretInterface
	w  *Watcher
	ns string
}

func (r secrets) List(ctx context.Context, opts metav1.ListOptions) (*corev1.SecretList, error) {
	if !r.w.serves("secrets", r.ns, opts) {
		return r.SecretInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.Secret](ctx, r.w, "secrets", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &corev1.SecretList{Items: items}, nil
}

type serviceAccounts struct {
	corev1client.ServiceAccountInterface
	w  *Watcher
	ns string
}

func (r serviceAccounts) List(ctx context.Context, opts metav1.ListOptions) (*corev1.ServiceAccountList, error) {
	if !r.w.serves("serviceaccounts", r.ns, opts) {
		return r.ServiceAccountInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.ServiceAccount](ctx, r.w, "serviceaccounts", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &corev1.ServiceAccountList{Items: items}, nil
}

type events struct {
	corev1client.EventInterface
	w  *Watcher
	ns string
}

func (r events) List(ctx context.Context, opts metav1.ListOptions) (*corev1.EventList, error) {
	if !r.w.serves("events", r.ns, opts) {
		return r.EventInterface.List(ctx, opts)
	}
	items, err := cachedList[corev1.Event](ctx, r.w, "events", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &corev1.EventList{Items: items}, nil
}

type deployments struct {
	appsv1client.DeploymentInterface
	w  *Watcher
	ns string
}

func (r deployments) List(ctx context.Context, opts metav1.ListOptions) (*appsv1.DeploymentList, error) {
	if !r.w.serves("deployments", r.ns, opts) {
		return r.DeploymentInterface.List(ctx, opts)
	}
	items, err := cachedList[appsv1.Deployment](ctx, r.w, "deployments", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &appsv1.DeploymentList{Items: items}, nil
}

type statefulSets struct {
	appsv1client.StatefulSetInterface
	w  *Watcher
	ns string
}

func (r statefulSets) List(ctx context.Context, opts metav1.ListOptions) (*appsv1.StatefulSetList, error) {
	if !r.w.serves("statefulsets", r.ns, opts) {
		return r.StatefulSetInterface.List(ctx, opts)
	}
	items, err := cachedList[appsv1.StatefulSet](ctx, r.w, "statefulsets", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &appsv1.StatefulSetList{Items: items}, nil
}

type daemonSets struct {
	appsv1client.DaemonSetInterface
	w  *Watcher
	ns string
}

func (r daemonSets) List(ctx context.Context, opts metav1.ListOptions) (*appsv1.DaemonSetList, error) {
	if !r.w.serves("daemonsets", r.ns, opts) {
		return r.DaemonSetInterface.List(ctx, opts)
	}
	items, err := cachedList[appsv1.DaemonSet](ctx, r.w, "daemonsets", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &appsv1.DaemonSetList{Items: items}, nil
}

type replicaSets struct {
	appsv1client.ReplicaSetInterface
	w  *Watcher
	ns string
}

func (r replicaSets) List(ctx context.Context, opts metav1.ListOptions) (*appsv1.ReplicaSetList, error) {
	if !r.w.serves("replicasets", r.ns, opts) {
		return r.ReplicaSetInterface.List(ctx, opts)
	}
	items, err := cachedList[appsv1.ReplicaSet](ctx, r.w, "replicasets", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &appsv1.ReplicaSetList{Items: items}, nil
}

type jobs struct {
	batchv1client.JobInterface
	w  *Watcher
	ns string
}

func (r jobs) List(ctx context.Context, opts metav1.ListOptions) (*batchv1.JobList, error) {
	if !r.w.serves("jobs", r.ns, opts) {
		return r.JobInterface.List(ctx, opts)
	}
	items, err := cachedList[batchv1.Job](ctx, r.w, "jobs", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &batchv1.JobList{Items: items}, nil
}

type cronJobs struct {
	batchv1client.CronJobInterface
	w  *Watcher
	ns string
}

func (r cronJobs) List(ctx context.Context, opts metav1.ListOptions) (*batchv1.CronJobList, error) {
	if !r.w.serves("cronjobs", r.ns, opts) {
		return r.CronJobInterface.List(ctx, opts)
	}
	items, err := cachedList[batchv1.CronJob](ctx, r.w, "cronjobs", r.ns, opts)
	if err != nil {
		return nil, err
	}
	return &batchv1.CronJobList{Items: items}, nil
}
