package kube

import (
	"context"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
)

// Source is what the cluster read lists from: every object of one
// resource the scan reads (pods, the workload kinds, nodes, Events,
// Secrets, ServiceAccounts) in ns (metav1.NamespaceAll: every namespace;
// nodes have none) that opts' label and field selectors match, each a
// typed pointer (*corev1.Pod, ...) the caller only reads. An error is the
// API server's, so a refused read classifies as in a one-shot scan.
//
// Direct answers with LISTs through the API server; a Watcher from its
// informers' caches.
type Source interface {
	List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error)
}

// pageList is one page of a LIST of a resource in ns.
type pageList func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error)

// pageLists are the resources Direct serves: the workload kinds from
// their table, and what the scan (and the doctor's ConfigMaps) read
// besides.
var pageLists = func() map[string]pageList {
	m := map[string]pageList{
		"nodes": func(ctx context.Context, c kubernetes.Interface, _ string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Nodes().List(ctx, opts)
		},
		"events": func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Events(ns).List(ctx, opts)
		},
		"secrets": func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().Secrets(ns).List(ctx, opts)
		},
		"configmaps": func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ConfigMaps(ns).List(ctx, opts)
		},
		"serviceaccounts": func(ctx context.Context, c kubernetes.Interface, ns string, opts metav1.ListOptions) (runtime.Object, error) {
			return c.CoreV1().ServiceAccounts(ns).List(ctx, opts)
		},
	}
	for i := range WorkloadKinds {
		m[WorkloadKinds[i].Resource] = WorkloadKinds[i].list
	}
	return m
}()

// Direct is the Source of a one-shot read: one paginated LIST per call
// through client (pageSize objects a page; an expired continue token is
// listed again in one request, as kubectl does). A LIST that fails on a
// later page returns no objects, never part of a resource as if it were
// all of it.
func Direct(client kubernetes.Interface) Source { return direct{client} }

type direct struct{ client kubernetes.Interface }

func (d direct) List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	page, ok := pageLists[resource]
	if !ok {
		return nil, fmt.Errorf("regcheck reads no %s", resource)
	}
	obj, _, err := newPager(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return page(ctx, d.client, ns, opts)
	}).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	return apimeta.ExtractList(obj)
}

// listAll lists resource from src and returns every object as a *T.
func listAll[T any](ctx context.Context, src Source, resource, ns string, opts metav1.ListOptions) ([]*T, error) {
	objs, err := src.List(ctx, resource, ns, opts)
	if err != nil {
		return nil, err
	}
	items := make([]*T, 0, len(objs))
	for _, obj := range objs {
		item, ok := any(obj).(*T)
		if !ok {
			return nil, fmt.Errorf("unexpected %s item %T", resource, obj)
		}
		items = append(items, item)
	}
	return items, nil
}

// each lists resource from src and calls fn with every object, only once
// the whole LIST succeeded.
func each[T any](ctx context.Context, src Source, resource, ns string, opts metav1.ListOptions, fn func(*T)) error {
	items, err := listAll[T](ctx, src, resource, ns, opts)
	for _, item := range items {
		fn(item)
	}
	return err
}
