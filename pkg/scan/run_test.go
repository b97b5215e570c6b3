package scan

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// lockedClient serves shop's pod and forbids every LIST in "locked".
func lockedClient() *fake.Clientset {
	client := fake.NewClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{ProviderID: "aws:///eu-west-1a/i-1"}},
	)
	client.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "locked" {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", errors.New("RBAC"))
		}
		return false, nil, nil
	})
	return client
}

// A release across namespaces reads what it can: a namespace where
// nothing could be read is a note, not the end of the run.
func TestCollectAllPartial(t *testing.T) {
	client := lockedClient()
	sels := []kube.Selection{{Namespace: "locked"}, {Namespace: "shop"}}
	inv, err := collectAll(context.Background(), kube.Direct(client), sels)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Workloads) != 1 || len(inv.Notes) != 1 || inv.Notes[0].Namespace != "locked" || inv.Notes[0].Reason != report.ReasonForbidden {
		t.Errorf("workloads = %v, notes = %+v; want shop's pod and a Forbidden note for locked", inv.Workloads, inv.Notes)
	}
	if inv.NodeProviderIDs["n1"] == "" {
		t.Errorf("node providerIDs = %v: the nodes read must reach the node-credential chain", inv.NodeProviderIDs)
	}
	if _, err := collectAll(context.Background(), kube.Direct(client), sels[:1]); !apierrors.IsForbidden(err) {
		t.Errorf("only the locked namespace: err = %v, want Forbidden", err)
	}
}

// TestRunConfig is the engine as a command calls it: one Config in, the
// inventory and results out, what could not be read leading as a
// cluster.read skip, and the nodes' cloud turning on its provider.
func TestRunConfig(t *testing.T) {
	for _, sels := range [][]kube.Selection{
		{{Namespace: "shop"}},
		{{Namespace: "locked"}, {Namespace: "shop"}},
	} {
		out, err := Run(context.Background(), Config{Source: kube.Direct(lockedClient()), Selections: sels})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Inventory.Workloads) != 1 || len(out.Results) != len(sels)-1 {
			t.Fatalf("%d selections: inventory %+v, results %+v", len(sels), out.Inventory, out.Results)
		}
		if len(sels) == 2 && (out.Results[0].Check != report.CheckClusterRead || out.Results[0].Namespace != "locked") {
			t.Errorf("first result %+v, want the cluster.read skip for locked", out.Results[0])
		}
		if nc := (Config{}).NodeCredentials(out.Inventory); nc == nil || len(nc.Providers.Providers()) != 1 {
			t.Errorf("an aws:// node turns on the ECR provider; got %+v", nc)
		}
	}
	if _, err := Run(context.Background(), Config{Source: kube.Direct(lockedClient()), Selections: []kube.Selection{{Namespace: "locked"}}}); !apierrors.IsForbidden(err) {
		t.Errorf("nothing readable: err = %v, want Forbidden", err)
	}
}

// TestRunClusters is a fleet's run: every result names its context, one
// context that gave no client and one whose cluster refuses every LIST are
// each one cluster.read skip, and the readable one is scanned in full.
func TestRunClusters(t *testing.T) {
	out := RunClusters(context.Background(), []Cluster{
		{Context: "eu", Config: Config{Source: kube.Direct(lockedClient()), Selections: []kube.Selection{{Namespace: "shop"}}}},
		{Context: "broken", Err: errors.New("no server in its kubeconfig entry")},
		{Context: "locked", Config: Config{Source: kube.Direct(lockedClient()), Selections: []kube.Selection{{Namespace: "locked"}}}},
	})
	byContext := map[string][]report.Result{}
	for _, r := range out.Results {
		byContext[r.Context] = append(byContext[r.Context], r)
	}
	if len(byContext[""]) > 0 {
		t.Errorf("results without a context: %+v", byContext[""])
	}
	if len(out.Inventory.Workloads) != 1 || out.Inventory.Workloads[0].Context != "eu" {
		t.Errorf("eu: workloads %+v; want shop's pod, named eu", out.Inventory.Workloads)
	}
	for name, reason := range map[string]report.Reason{"broken": report.ReasonUnreachable, "locked": report.ReasonForbidden} {
		got := byContext[name]
		if len(got) != 1 || got[0].Check != report.CheckClusterRead || got[0].Status != report.StatusSkip || got[0].Reason != reason {
			t.Errorf("%s: %+v, want one cluster.read skip %s", name, got, reason)
		}
	}
}

// secretsFirst is a Source whose Deployments LIST answers only once the
// Secrets of every namespace are being listed (or after a guard).
type secretsFirst struct {
	kube.Source
	listing chan struct{}
	once    sync.Once
	late    atomic.Bool
}

func (s *secretsFirst) List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	switch {
	case resource == "secrets" && ns == metav1.NamespaceAll:
		s.once.Do(func() { close(s.listing) })
	case resource == "deployments":
		select {
		case <-s.listing:
		case <-time.After(10 * time.Second): // a guard, not a timing: the LIST starts first or not at all
			s.late.Store(true)
		}
	}
	return s.Source.List(ctx, resource, ns, opts)
}

// TestRunReadsSecretsAhead: a scan of all namespaces starts its one LIST
// of the Secrets across namespaces beside the workloads' LISTs, not once
// the templates are in (it needs nothing from them); the scan is the same.
func TestRunReadsSecretsAhead(t *testing.T) {
	src := &secretsFirst{Source: kube.Direct(lockedClient()), listing: make(chan struct{})}
	out, err := Run(t.Context(), Config{Source: src, Selections: []kube.Selection{{AllNamespaces: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if src.late.Load() {
		t.Error("the Secrets were listed only after the Deployments")
	}
	want, err := Run(t.Context(), Config{Source: kube.Direct(lockedClient()), Selections: []kube.Selection{{AllNamespaces: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != len(want.Results) || len(out.Inventory.Workloads) != len(want.Inventory.Workloads) {
		t.Errorf("%d results over %d workloads, want %d over %d", len(out.Results), len(out.Inventory.Workloads), len(want.Results), len(want.Inventory.Workloads))
	}
}

// TestFindingsSortKeepsGroups: the scan's results are sorted as
// report.SortStable sorts them and each keeps the group it was made in,
// so Outcome.Of gives a caller (the doctor) its groups without matching
// a result's Check.
func TestFindingsSortKeepsGroups(t *testing.T) {
	var f findings
	f.add(GroupSecrets, report.Result{Namespace: "b", Check: report.CheckCredentialsSecret})
	f.add(GroupStaleness, report.Result{Namespace: "a", Workload: "w", Check: report.CheckWorkloadDigest})
	f.add(GroupPulls, report.Result{Namespace: "a", Workload: "w", Check: report.CheckRegistryPull})
	f.add(GroupReferences, report.Result{Namespace: "a", Workload: "v", Check: report.CheckImageReference})
	want := append([]report.Result(nil), f.results...)
	report.SortStable(want)
	f.sort()
	o := &Outcome{Results: f.results, groups: f.groups}
	if !reflect.DeepEqual(o.Results, want) {
		t.Fatalf("order %v, want %v", o.Results, want)
	}
	for g, c := range map[Group]report.Check{GroupSecrets: report.CheckCredentialsSecret, GroupStaleness: report.CheckWorkloadDigest,
		GroupPulls: report.CheckRegistryPull, GroupReferences: report.CheckImageReference} {
		if rs := o.Of(g); len(rs) != 1 || rs[0].Check != c {
			t.Errorf("group %d: %v, want one %s", g, rs, c)
		}
	}
}
