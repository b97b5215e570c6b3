package scan

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
)

// The fakes implement what production calls: pkg/registry's Client is
// the scan's Resolver, PullPrefetcher and TagLister, and the fakes are
// the same, so no unit test takes a path (no prefetch, no HEAD, no tags
// list) that production never takes.
var (
	_ Resolver       = (*registry.Client)(nil)
	_ PullPrefetcher = (*registry.Client)(nil)
	_ TagLister      = (*registry.Client)(nil)
	_ Resolver       = (*fakeResolver)(nil)
	_ PullPrefetcher = (*fakeResolver)(nil)
	_ TagLister      = (*fakeLister)(nil)
)

// A scan asks one token batch per registry and credential, naming each
// repository once, before its HEADs.
func TestScanPrefetchesOncePerRegistry(t *testing.T) {
	r := resolver()
	inv := &kube.Inventory{Workloads: []kube.Workload{
		deploy("a", appRef, corev1.PullAlways),
		deploy("b", appRef, corev1.PullAlways),
		deploy("c", multiRef, corev1.PullAlways),
	}}
	Check(context.Background(), inv, nil, Options{Resolver: r})
	want := "registry.example.com anonymous team/app,team/multi"
	if len(r.prefetched) != 1 || r.prefetched[0] != want {
		t.Errorf("prefetched %q, want [%q]", r.prefetched, want)
	}
	if r.calls.Load() != 2 {
		t.Errorf("%d HEADs, want one per reference (2)", r.calls.Load())
	}
}

// The keychain production hands the scan is pkg/credentials' Keyring.
var (
	_ Keychain = (*credentials.Keyring)(nil)
	_ Keychain = fakeKeychain(nil)
)
