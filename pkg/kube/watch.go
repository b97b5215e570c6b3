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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
)

// Watcher keeps what a scan reads in client-go shared informers, for a
// process that scans again and again (serve): each resource is listed
// once, when a scan first asks for it, and watched from then on, so a
// rescan reads no object from the API server. It is the scan's Source:
// the informers' indexers answer what the scan lists (pods, workloads,
// nodes, pod Events, Secrets and ServiceAccounts), namespace-scoped when
// the Watcher is. The informers only ever list and watch.
//
// A transform drops what no scan reads before an object is cached
// (managedFields, kubectl's last-applied annotation, the payload of
// Secrets that are not pull secrets), so memory follows the cluster's
// workloads, not their history.
//
// The Secrets informer leaves Helm's release records on the API server,
// as the one-shot scan's LISTs do (notPullSecrets): they are most of a
// namespace's Secrets' bytes. A pull secret named and not in its cache is
// looked for among the releases' metadata (a metadata-only informer,
// started on the first such name), so a release named as a pull secret is
// still reported for its type, and a rescan still reads nothing.
type Watcher struct {
	client    kubernetes.Interface
	namespace string // metav1.NamespaceAll, or the one namespace watched
	stop      chan struct{}
	factory   informers.SharedInformerFactory
	events    informers.SharedInformerFactory
	secrets   informers.SharedInformerFactory
	meta      metadata.Interface
	tweak     func(selector string) func(*metav1.ListOptions)
	running   sync.WaitGroup // the releases informer, once started

	mu       sync.Mutex
	watching map[string]*watched
	closed   bool
}

// watched is one resource's informer and the last error its LIST or
// WATCH met, with the resource version the informer had read up to then.
type watched struct {
	informer cache.SharedIndexInformer
	mu       sync.Mutex
	err      error
	errAt    string
}

// refused is the API server's refusal (Forbidden or Unauthorized) of the
// informer's last LIST or WATCH, while the informer has read nothing
// since: its cache is then the cluster as it was, and the scan says so
// instead of reading it. Another error (a watch that ended, a connection
// reset) is the reflector's to retry, never a skip. The refusal ends
// when the informer reads again: a LIST that succeeds hands every object
// to the informer's handlers again (heard), or moves its resource
// version. (An empty resource listed at the same resource version gives
// neither: it stays a skip until something in it changes.)
func (wd *watched) refused() error {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.err == nil || !(apierrors.IsForbidden(wd.err) || apierrors.IsUnauthorized(wd.err)) {
		return nil
	}
	if wd.informer.LastSyncResourceVersion() != wd.errAt {
		wd.err = nil
		return nil
	}
	return wd.err
}

// heard is the informer's event handler: an object came from the API
// server, so the informer reads again.
func (wd *watched) heard() {
	wd.mu.Lock()
	wd.err = nil
	wd.mu.Unlock()
}

// podEvents is the field selector pullEventsIn lists Events with; the
// Events informer watches that and nothing more.
var podEvents = fields.OneTermEqualSelector("involvedObject.kind", "Pod").String()

// helmReleases selects Helm's release records: the releases informer
// watches their metadata and nothing more.
var helmReleases = fields.OneTermEqualSelector("type", helmReleaseType).String()

// releasesKey files the releases informer in Watcher.watching.
const releasesKey = "secrets:" + helmReleaseType

// NewWatcher returns a watcher over client for namespace (empty: all
// namespaces); meta, the metadata client of the same config, watches
// Helm's releases' metadata when a scan looks one up by name. Neither
// may time its requests out (rest.Config's Timeout): a watch is one long
// request. Nothing is listed until a scan asks; Close stops every watch.
//
// watchTimeout, when not zero, is how long each WATCH lasts before the
// informer opens the next (client-go's default: 5 to 10 minutes). The API
// server checks a client's permissions when a request starts, never
// during a watch, so a permission revoked is seen when the next WATCH is
// refused.
func NewWatcher(client kubernetes.Interface, meta metadata.Interface, namespace string, watchTimeout time.Duration) *Watcher {
	// Each factory's informers list with one field selector (a tweak
	// applies to every informer of its factory).
	tweak := func(selector string) func(*metav1.ListOptions) {
		return func(o *metav1.ListOptions) {
			o.FieldSelector = selector
			// The reflector sets a timeout on its WATCHes only.
			if watchTimeout > 0 && o.TimeoutSeconds != nil {
				secs := int64(watchTimeout.Seconds())
				o.TimeoutSeconds = &secs
			}
		}
	}
	typed := func(selector string) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
			informers.WithTransform(dropUnread), informers.WithTweakListOptions(tweak(selector)))
	}
	return &Watcher{
		client:    client,
		namespace: namespace,
		stop:      make(chan struct{}),
		factory:   typed(""),
		events:    typed(podEvents),
		secrets:   typed(notPullSecrets),
		meta:      meta,
		tweak:     tweak,
		watching:  map[string]*watched{},
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
	w.secrets.Shutdown()
	w.running.Wait()
}

// List is the Source a scan reads through: the informers' caches answer
// what they watch (a namespace the watcher does not cover, or a field
// selector other than the Events informer's or one on a Secret's type and
// name, is a LIST through the API server, as Direct makes it).
func (w *Watcher) List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	if !w.serves(resource, ns, opts) {
		return Direct(w.client).List(ctx, resource, ns, opts)
	}
	return w.list(ctx, resource, ns, opts)
}

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
// other than the one the Events informer watches or secretFields', goes to
// the API server.
func (w *Watcher) serves(resource, ns string, opts metav1.ListOptions) bool {
	if _, ok := watchedResources[resource]; !ok {
		return false
	}
	if !clusterScoped[resource] && w.namespace != metav1.NamespaceAll && ns != w.namespace {
		return false
	}
	if opts.FieldSelector != "" && !(resource == "events" && opts.FieldSelector == podEvents) {
		_, ok := secretFields(resource, opts.FieldSelector)
		return ok
	}
	return true
}

// secretFields parses a field selector of a Secrets LIST that the cache
// can answer: one on the fields the API server itself selects Secrets by
// (type, metadata.name, metadata.namespace), as PullSecretReader's are.
func secretFields(resource, selector string) (fields.Selector, bool) {
	if resource != "secrets" {
		return nil, false
	}
	sel, err := fields.ParseSelector(selector)
	if err != nil {
		return nil, false
	}
	for _, r := range sel.Requirements() {
		switch r.Field {
		case "type", "metadata.name", "metadata.namespace":
		default:
			return nil, false
		}
	}
	return sel, true
}

// informer returns resource's informer (or the releases' one, for
// releasesKey), started on first use.
func (w *Watcher) informer(resource string) (*watched, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errors.New("the cluster watch has stopped")
	}
	if wd, ok := w.watching[resource]; ok {
		return wd, nil
	}
	var gi informers.GenericInformer
	var start func()
	switch resource {
	case releasesKey:
		// One informer, not a factory: metadatainformer's factory takes
		// no tweak and transform together.
		gi = metadatainformer.NewFilteredMetadataInformer(w.meta, watchedResources["secrets"], w.namespace, 0,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, w.tweak(helmReleases))
		if err := gi.Informer().SetTransform(dropUnread); err != nil {
			return nil, err
		}
		start = func() { w.running.Go(func() { gi.Informer().Run(w.stop) }) }
	default:
		factory := w.factory
		switch resource {
		case "events":
			factory = w.events
		case "secrets":
			factory = w.secrets
		}
		var err error
		if gi, err = factory.ForResource(watchedResources[resource]); err != nil {
			return nil, err
		}
		start = func() { factory.Start(w.stop) }
	}
	wd := &watched{informer: gi.Informer()}
	// The reflector retries a failed LIST or WATCH with a backoff; the
	// scan meanwhile reports the error as the one-shot scan would have.
	if err := wd.informer.SetWatchErrorHandler(func(r *cache.Reflector, err error) {
		wd.mu.Lock()
		wd.err, wd.errAt = err, r.LastSyncResourceVersion()
		wd.mu.Unlock()
	}); err != nil {
		return nil, err
	}
	if _, err := wd.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { wd.heard() },
		UpdateFunc: func(any, any) { wd.heard() },
		DeleteFunc: func(any) { wd.heard() },
	}); err != nil {
		return nil, err
	}
	w.watching[resource] = wd
	start()
	return wd, nil
}

// syncPoll is how often a LIST waiting for an informer's first sync looks
// again (cache.WaitForCacheSync polls at 100ms).
const syncPoll = 50 * time.Millisecond

// list returns the cached objects of resource in ns that match opts'
// label selector, once its informer has synced: the cache's own, shared
// with the informer (a scan only reads them). Before that, the error
// its LIST met (so a forbidden resource is the same skip as in a
// one-shot scan), or ctx's.
func (w *Watcher) list(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	sel := labels.Everything()
	if opts.LabelSelector != "" {
		var err error
		if sel, err = labels.Parse(opts.LabelSelector); err != nil {
			return nil, err
		}
	}
	fieldSel, _ := secretFields(resource, opts.FieldSelector)
	var out []runtime.Object
	add := func(obj any) {
		if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
			// A release from the releases informer: its type is the
			// one that informer selects, its payload never read.
			obj = &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}, ObjectMeta: m.ObjectMeta, Type: helmReleaseType}
		}
		if s, ok := obj.(*corev1.Secret); ok && fieldSel != nil &&
			!fieldSel.Matches(fields.Set{"type": string(s.Type), "metadata.name": s.Name, "metadata.namespace": s.Namespace}) {
			return
		}
		if o, ok := obj.(runtime.Object); ok {
			out = append(out, o)
		}
	}
	keys := []string{resource}
	if resource == "secrets" && mayBeRelease(fieldSel) {
		keys = append(keys, releasesKey)
	}
	for _, key := range keys {
		wd, err := w.synced(ctx, key)
		if err != nil {
			return nil, err
		}
		if clusterScoped[resource] || ns == metav1.NamespaceAll {
			err = cache.ListAll(wd.informer.GetIndexer(), sel, add)
		} else {
			err = cache.ListAllByNamespace(wd.informer.GetIndexer(), ns, sel, add)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// synced is the informer of key once it has synced, or the error its
// LIST met (so a forbidden resource is the same skip as in a one-shot
// scan), or ctx's.
func (w *Watcher) synced(ctx context.Context, key string) (*watched, error) {
	wd, err := w.informer(key)
	if err != nil {
		return nil, err
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
			return nil, fmt.Errorf("waiting for the first LIST of %s: %w", key, ctx.Err())
		case <-tick.C:
		}
	}
	if err := wd.refused(); err != nil {
		return nil, err
	}
	return wd, nil
}

// mayBeRelease reports whether a Secrets field selector can select one of
// Helm's releases, which the Secrets informer does not hold: false when a
// requirement on the type rules them out (PullSecretReader's
// notPullSecrets), true for one by name (a release named as a pull secret).
func mayBeRelease(sel fields.Selector) bool {
	if sel == nil {
		return true
	}
	for _, r := range sel.Requirements() {
		if r.Field != "type" {
			continue
		}
		switch r.Operator {
		case selection.Equals, selection.DoubleEquals:
			if r.Value != helmReleaseType {
				return false
			}
		case selection.NotEquals:
			if r.Value == helmReleaseType {
				return false
			}
		}
	}
	return true
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
