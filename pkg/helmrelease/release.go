// Package helmrelease reads a Helm release the way Helm does (its own
// action package and storage driver) and names the workloads of its
// rendered manifest, so regcheck can scan exactly those. It never prints
// what the storage driver decodes: release secrets hold values too.
package helmrelease

import (
	"context"
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/regcheck/regcheck/pkg/kube"
)

// Release is what regcheck needs of one release revision.
type Release struct {
	Name      string
	Namespace string
	Revision  int
	Status    string // Helm's: deployed, failed, pending-upgrade, ...
	Chart     string // name-version
	// Workloads of the rendered manifest; hooks are not part of it.
	Workloads []Resource
}

// Options tune Get.
type Options struct {
	// Driver is Helm's storage driver, as $HELM_DRIVER: secret (default),
	// configmap or sql.
	Driver string
	// Log receives Helm's debug lines (never release contents); nil drops them.
	Log func(format string, v ...any)
}

// NotFoundError says the release has no revision in the namespace.
type NotFoundError struct {
	Name, Namespace string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("release %s not found in namespace %s", e.Name, e.Namespace)
}

// Is lets errors.Is(err, driver.ErrReleaseNotFound) hold as well.
func (e *NotFoundError) Is(target error) bool { return target == driver.ErrReleaseNotFound }

// ForbiddenError says the caller may not read Helm's storage: releases are
// Secrets (or ConfigMaps) in the release's namespace.
type ForbiddenError struct {
	Name, Namespace string
	Resource        string // "secrets" or "configmaps"
	Err             error
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("reading release %s: you may not list %s in namespace %s, where Helm stores releases (%v)", e.Name, e.Resource, e.Namespace, e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// Get reads the latest revision of release name in namespace, as
// `helm get manifest` does, through getter's kubeconfig. Helm's API takes
// no context, so ctx bounds the wait rather than the requests.
func Get(ctx context.Context, getter genericclioptions.RESTClientGetter, namespace, name string, opts Options) (*Release, error) {
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cfg := new(action.Configuration)
	if err := cfg.Init(getter, namespace, opts.Driver, logf); err != nil {
		return nil, fmt.Errorf("helm storage driver %q: %w", opts.Driver, err)
	}

	type result struct {
		rel *Release
		err error
	}
	done := make(chan result, 1) // buffered: a late answer must not block
	go func() {
		rel, err := action.NewGet(cfg).Run(name)
		if err != nil {
			done <- result{err: classify(err, name, namespace, opts.Driver)}
			return
		}
		r := &Release{Name: rel.Name, Namespace: rel.Namespace, Revision: rel.Version}
		if rel.Info != nil {
			r.Status = rel.Info.Status.String()
		}
		if rel.Chart != nil && rel.Chart.Metadata != nil {
			r.Chart = rel.Chart.Metadata.Name + "-" + rel.Chart.Metadata.Version
		}
		if r.Namespace == "" {
			r.Namespace = namespace
		}
		r.Workloads, err = Workloads(rel.Manifest, r.Namespace)
		if err != nil {
			err = fmt.Errorf("release %s: %w", name, err)
		}
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		return res.rel, res.err
	case <-ctx.Done():
		return nil, fmt.Errorf("reading release %s: %w", name, ctx.Err())
	}
}

// classify turns Helm's errors into the typed ones callers branch on.
func classify(err error, name, namespace, driverName string) error {
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		return &NotFoundError{Name: name, Namespace: namespace}
	case apierrors.IsForbidden(err):
		resource := "secrets"
		if driverName == "configmap" || driverName == "configmaps" {
			resource = "configmaps"
		}
		return &ForbiddenError{Name: name, Namespace: namespace, Resource: resource, Err: err}
	}
	return fmt.Errorf("reading release %s: %w", name, err)
}

// Selections are what to collect: one per namespace the release's
// workloads are in (a chart may set metadata.namespace), in order. An
// empty release has none: an empty Targets list would select everything.
func (r *Release) Selections() []kube.Selection {
	var sels []kube.Selection
	for _, w := range r.Workloads {
		if n := len(sels); n == 0 || sels[n-1].Namespace != w.Namespace {
			sels = append(sels, kube.Selection{Namespace: w.Namespace})
		}
		sels[len(sels)-1].Targets = append(sels[len(sels)-1].Targets, w.Target())
	}
	return sels
}

// Missing returns the release's workloads that inv does not hold: deleted
// since the install, or never created.
func (r *Release) Missing(inv *kube.Inventory) []Resource {
	have := map[Resource]bool{}
	for _, w := range inv.Workloads {
		have[Resource{Kind: w.Kind, Name: w.Name, Namespace: w.Namespace}] = true
	}
	var out []Resource
	for _, w := range r.Workloads {
		if !have[w] {
			out = append(out, w)
		}
	}
	return out
}
