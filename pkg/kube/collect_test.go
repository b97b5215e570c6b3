package kube

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// cluster is a namespace with every ownership chain Collect follows.
func cluster() []runtime.Object {
	evicted := pod("web-old-x", KindReplicaSet, "web-old", "n1", "example.com/app@sha256:"+hex64("0"))
	evicted.Status.Phase = corev1.PodFailed
	finished := pod("nightly-100-a", KindJob, "nightly-100", "n1", "example.com/app@sha256:"+hex64("1"))
	finished.Status.Phase = corev1.PodSucceeded
	oneoff := pod("migrate-a", KindJob, "migrate", "n1", "example.com/app@sha256:"+hex64("2"))
	oneoff.Status.Phase = corev1.PodSucceeded
	bare := pod("debug", "", "", "n2", "")
	bare.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
	mirror := pod("etcd-n1", "Node", "n1", "n1", "sha256:"+hex64("e"))

	return []runtime.Object{
		node("n1", "amd64"), node("n2", "arm64"),
		deployment("web", "example.com/app:2"),
		replicaSet("web-new", "web", "example.com/app:2", 2),
		replicaSet("web-old", "web", "example.com/app:1", 1),
		pod("web-new-a", KindReplicaSet, "web-new", "n1", "example.com/app@sha256:"+hex64("a")),
		pod("web-old-b", KindReplicaSet, "web-old", "n2", "example.com/app@sha256:"+hex64("9")),
		evicted,
		deployment("idle", "example.com/idle"),
		&batchv1.CronJob{ObjectMeta: meta("nightly"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template("example.com/batch:latest")}}}},
		job("nightly-200", "nightly", "example.com/batch:latest", false),
		job("nightly-100", "nightly", "example.com/batch:latest", true),
		pod("nightly-200-a", KindJob, "nightly-200", "n2", "example.com/batch@sha256:"+hex64("c")),
		finished,
		job("migrate", "", "example.com/migrate:3", true),
		oneoff,
		&appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Template: template("example.com/db:16")}},
		pod("db-0", KindStatefulSet, "db", "n1", "docker-pullable://example.com/db@sha256:"+hex64("d")),
		&appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{Template: template("example.com/agent:5")}},
		pod("agent-x", KindDaemonSet, "agent", "n2", "sha256:"+hex64("f")),
		&corev1.ReplicationController{ObjectMeta: meta("legacy"), Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{Spec: spec("example.com/legacy:1")}}},
		pod("legacy-x", KindReplicationController, "legacy", "n1", ""),
		bare, mirror,
	}
}

// summary is "Kind/name: pod,pod" per workload, to compare groupings.
func summary(inv *Inventory) []string {
	var out []string
	for _, w := range inv.Workloads {
		var names []string
		for _, p := range w.Pods {
			names = append(names, p.Name)
		}
		s := w.ID() + ": " + strings.Join(names, ",")
		if w.Inferred {
			s += " (inferred)"
		}
		out = append(out, s)
	}
	return out
}

func workload(t *testing.T, inv *Inventory, id string) *Workload {
	t.Helper()
	for i := range inv.Workloads {
		if inv.Workloads[i].ID() == id {
			return &inv.Workloads[i]
		}
	}
	t.Fatalf("workload %s not found in %v", id, summary(inv))
	return nil
}

func TestCollectOwnership(t *testing.T) {
	client := fake.NewClientset(cluster()...)
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CronJob/nightly: nightly-200-a",
		"DaemonSet/agent: agent-x",
		"Deployment/idle: ",
		"Deployment/web: web-new-a,web-old-b",
		"Job/migrate: migrate-a",
		"Pod/debug: debug",
		"Pod/etcd-n1: etcd-n1",
		"ReplicationController/legacy: legacy-x",
		"StatefulSet/db: db-0",
	}
	if got := summary(inv); !slices.Equal(got, want) {
		t.Errorf("workloads:\n got %q\nwant %q", got, want)
	}
	if len(inv.Notes) != 0 {
		t.Errorf("notes = %v, want none", inv.Notes)
	}

	web := workload(t, inv, "Deployment/web")
	wantContainers := []Container{
		{Name: "init", Image: "busybox:1.36", PullPolicy: corev1.PullIfNotPresent, Init: true},
		{Name: "app", Image: "example.com/app:2", PullPolicy: corev1.PullIfNotPresent},
	}
	if !reflect.DeepEqual(web.Containers, wantContainers) {
		t.Errorf("containers = %+v, want %+v (the Deployment's template, not a ReplicaSet's)", web.Containers, wantContainers)
	}
	if web.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName = %q, want default", web.ServiceAccountName)
	}
	if p := web.Pods[0]; p.Platform != (Platform{OS: "linux", Architecture: "amd64"}) || p.PlatformSource != "node" {
		t.Errorf("platform = %v from %q, want linux/amd64 from node", p.Platform, p.PlatformSource)
	}
	if st, ok := web.Pods[0].Status("init", true); !ok || !strings.HasPrefix(st.ImageID, "docker.io/library/busybox@") {
		t.Errorf("init status = %+v, %v", st, ok)
	}
	if idle := workload(t, inv, "Deployment/idle"); idle.Containers[1].PullPolicy != corev1.PullAlways {
		t.Errorf("untagged image policy = %s, want the API default Always", idle.Containers[1].PullPolicy)
	}
	if d := workload(t, inv, "Pod/debug"); !slices.Equal(d.ImagePullSecrets, []string{"regcred"}) {
		t.Errorf("pull secrets = %v", d.ImagePullSecrets)
	}

	// Read-only, one LIST per resource: no GET, no write.
	for _, a := range client.Actions() {
		if a.GetVerb() != "list" {
			t.Errorf("unexpected %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}
}

func TestCollectPaginates(t *testing.T) {
	var objs []runtime.Object
	for i := range 1200 {
		objs = append(objs, pod(fmt.Sprintf("p%04d", i), "", "", "", ""))
	}
	client := fake.NewClientset(objs...)
	calls := 0
	// The fake ignores Limit; serve pages the way the API server does.
	client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		opts := a.(k8stesting.ListActionImpl).ListOptions
		if opts.Limit != pageSize {
			t.Errorf("limit = %d, want %d", opts.Limit, pageSize)
		}
		start, _ := strconv.Atoi(opts.Continue)
		end := min(start+int(opts.Limit), len(objs))
		list := &corev1.PodList{}
		for _, o := range objs[start:end] {
			list.Items = append(list.Items, *o.(*corev1.Pod))
		}
		if end < len(objs) {
			list.Continue = strconv.Itoa(end)
		}
		return true, list, nil
	})
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Workloads) != 1200 {
		t.Errorf("workloads = %d, want 1200", len(inv.Workloads))
	}
	if calls != 3 {
		t.Errorf("pod LIST calls = %d, want 3 pages", calls)
	}
}

func forbid(client *fake.Clientset, resources ...string) {
	for _, r := range resources {
		client.PrependReactor("list", r, func(a k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: r}, "", errors.New("RBAC"))
		})
	}
}

func TestCollectPartial(t *testing.T) {
	tests := []struct {
		name      string
		forbidden []string
		want      []string
		unread    []string
	}{
		{
			name:      "deployments forbidden: inferred from the newest ReplicaSet",
			forbidden: []string{"deployments"},
			want:      []string{"Deployment/web: web-new-a,web-old-b (inferred)"},
			unread:    []string{"deployments"},
		},
		{
			name:      "replicasets and deployments forbidden: named by pod-template-hash",
			forbidden: []string{"deployments", "replicasets"},
			want:      []string{"Deployment/web: web-new-a (inferred)", "ReplicaSet/web-old: web-old-b (inferred)"},
			unread:    []string{"replicasets", "deployments"},
		},
		{
			name:      "pods and nodes forbidden: templates only",
			forbidden: []string{"pods", "nodes"},
			want:      []string{"Deployment/web: "},
			// nodes too: the nodes' credential providers are unknown
			unread: []string{"pods", "nodes"},
		},
		{
			name:      "nodes forbidden: nodeSelector hint",
			forbidden: []string{"nodes"},
			want:      []string{"Deployment/web: web-new-a,web-old-b"},
			unread:    []string{"nodes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := pod("web-new-a", KindReplicaSet, "web-7d9f", "n1", "")
			a.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "7d9f"
			a.Spec.NodeSelector = map[string]string{"kubernetes.io/arch": "arm64"}
			client := fake.NewClientset(
				node("n1", "amd64"),
				deployment("web", "example.com/app:3"),
				replicaSet("web-7d9f", "web", "example.com/app:2", 2),
				replicaSet("web-old", "web", "example.com/app:1", 1),
				a,
				pod("web-old-b", KindReplicaSet, "web-old", "n1", ""),
			)
			forbid(client, tt.forbidden...)
			inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(inv); !slices.Equal(got, tt.want) {
				t.Errorf("workloads = %q, want %q", got, tt.want)
			}
			if !slices.Equal(inv.Unread, tt.unread) || len(inv.Notes) != len(tt.unread) {
				t.Errorf("unread = %v, notes = %v, want %v", inv.Unread, inv.Notes, tt.unread)
			}
			w := inv.Workloads[0]
			if slices.Contains(tt.forbidden, "deployments") && !slices.Contains(tt.forbidden, "replicasets") && w.Containers[1].Image != "example.com/app:2" {
				t.Errorf("inferred template image = %s, want the newest ReplicaSet's", w.Containers[1].Image)
			}
			if slices.Contains(tt.forbidden, "nodes") && len(w.Pods) > 0 {
				if p := w.Pods[0]; p.Platform.Architecture != "arm64" || p.PlatformSource != "nodeSelector" {
					t.Errorf("platform = %v from %q, want the nodeSelector's arm64", p.Platform, p.PlatformSource)
				}
			}
		})
	}
}

func TestCollectFails(t *testing.T) {
	t.Run("everything forbidden", func(t *testing.T) {
		client := fake.NewClientset()
		forbid(client, "pods", "replicasets", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers")
		_, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
		if !apierrors.IsForbidden(err) {
			t.Errorf("err = %v, want a forbidden error", err)
		}
	})
	t.Run("server error on one resource is partial", func(t *testing.T) {
		client := fake.NewClientset(cluster()...)
		client.PrependReactor("list", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewInternalError(errors.New("etcd down"))
		})
		inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
		if err != nil {
			t.Fatalf("err = %v, want partial results", err)
		}
		if !slices.Equal(inv.Unread, []string{"jobs"}) {
			t.Errorf("unread = %v, want jobs", inv.Unread)
		}
	})
}

func TestCollectSelection(t *testing.T) {
	other := deployment("other", "example.com/other:1")
	other.Namespace = "staging"
	unlabelled := deployment("plain", "example.com/plain:1")
	unlabelled.Labels = nil

	tests := []struct {
		name      string
		sel       Selection
		want      []string
		resources []string // LISTed
		notFound  []string // named targets that do not exist, as kubectl says it
	}{
		{
			name: "all namespaces",
			sel:  Selection{AllNamespaces: true, Targets: []Target{{Kind: KindDeployment}}},
			want: []string{"prod/Deployment/idle", "prod/Deployment/plain", "prod/Deployment/web", "staging/Deployment/other"},
		},
		{
			name: "label selector",
			sel:  Selection{Namespace: ns, LabelSelector: labels.SelectorFromSet(labels.Set{"app": "demo"}), Targets: []Target{{Kind: KindDeployment}}},
			want: []string{"prod/Deployment/idle", "prod/Deployment/web"},
		},
		{
			name:      "one deployment reads only what it needs",
			sel:       Selection{Namespace: ns, Targets: []Target{{Kind: KindDeployment, Name: "web"}}},
			want:      []string{"prod/Deployment/web"},
			resources: []string{"deployments", "nodes", "pods", "replicasets"},
		},
		{
			name:     "a named workload that does not exist",
			sel:      Selection{Namespace: ns, Targets: []Target{{Kind: KindDeployment, Name: "web"}, {Kind: KindDeployment, Name: "nope"}, {Kind: KindPod, Name: "gone"}, {Kind: KindCronJob}}},
			want:     []string{"prod/CronJob/nightly", "prod/Deployment/web"},
			notFound: []string{`deployments.apps "nope" not found`, `pods "gone" not found`},
		},
		{
			name: "a pod target keeps only that pod",
			sel:  Selection{Namespace: ns, Targets: []Target{{Kind: KindPod, Name: "web-old-b"}}},
			want: []string{"prod/Deployment/web[web-old-b]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(append(cluster(), other, unlabelled)...)
			inv, err := Collect(context.Background(), Direct(client), tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range inv.Workloads {
				s := w.Namespace + "/" + w.ID()
				if tt.sel.Targets[0].Kind == KindPod {
					s += "[" + w.Pods[0].Name + "]"
					if len(w.Pods) != 1 {
						t.Errorf("pods = %d, want 1", len(w.Pods))
					}
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("workloads = %q, want %q", got, tt.want)
			}
			var missing []string
			for _, err := range inv.NotFound {
				if !apierrors.IsNotFound(err) {
					t.Errorf("%v is no NotFound", err)
				}
				missing = append(missing, err.Error())
			}
			if !slices.Equal(missing, tt.notFound) {
				t.Errorf("not found = %q, want %q", missing, tt.notFound)
			}
			if tt.resources != nil {
				var listed []string
				for _, a := range client.Actions() {
					listed = append(listed, a.GetResource().Resource)
				}
				slices.Sort(listed)
				if !slices.Equal(listed, tt.resources) {
					t.Errorf("listed %v, want %v", listed, tt.resources)
				}
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    Target
		wantErr bool
	}{
		{in: "deploy/web", want: Target{KindDeployment, "web"}},
		{in: "deployments.apps/web", want: Target{KindDeployment, "web"}},
		{in: "Deployment/web", want: Target{KindDeployment, "web"}},
		{in: "sts/db", want: Target{KindStatefulSet, "db"}},
		{in: "ds", want: Target{KindDaemonSet, ""}},
		{in: "job/x", want: Target{KindJob, "x"}},
		{in: "cronjobs.batch/x", want: Target{KindCronJob, "x"}},
		{in: "cj/x", want: Target{KindCronJob, "x"}},
		{in: "rc/x", want: Target{KindReplicationController, "x"}},
		{in: "rs/x", want: Target{KindReplicaSet, "x"}},
		{in: "po/x", want: Target{KindPod, "x"}},
		{in: "pods", want: Target{KindPod, ""}},
		{in: "svc/x", wantErr: true},
		{in: "deploy/", wantErr: true},
		{in: "deploy/a/b", wantErr: true},
		{in: "deployments.batch/x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %v, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	tests := map[string]corev1.PullPolicy{
		"nginx":                             corev1.PullAlways,
		"nginx:latest":                      corev1.PullAlways,
		"nginx:1.25":                        corev1.PullIfNotPresent,
		"example.com:5000/a/b":              corev1.PullAlways,
		"nginx@sha256:" + hex64("a"):        corev1.PullIfNotPresent,
		"nginx:latest@sha256:" + hex64("a"): corev1.PullAlways,
		"NOT VALID":                         corev1.PullIfNotPresent,
	}
	for image, want := range tests {
		if got := DefaultPullPolicy(image); got != want {
			t.Errorf("DefaultPullPolicy(%q) = %s, want %s", image, got, want)
		}
	}
}

// gatedPods is a clientset whose pods LIST waits for gate: outside the
// fake's own lock, which would hold every other LIST back too.
type gatedPods struct {
	kubernetes.Interface
	gate <-chan []Workload
	t    *testing.T
}

func (g gatedPods) CoreV1() corev1client.CoreV1Interface {
	return gatedCore{g.Interface.CoreV1(), g}
}

type gatedCore struct {
	corev1client.CoreV1Interface
	g gatedPods
}

func (c gatedCore) Pods(namespace string) corev1client.PodInterface {
	return gatedPodList{c.CoreV1Interface.Pods(namespace), c.g}
}

type gatedPodList struct {
	corev1client.PodInterface
	g gatedPods
}

func (p gatedPodList) List(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	select {
	case <-p.g.gate:
	case <-time.After(10 * time.Second):
		p.g.t.Error("the templates were not handed over while the pods were listed")
	}
	return p.PodInterface.List(ctx, opts)
}

// TestCollectEarly: the templates are handed over while the pods LIST is
// still running, and the inventory is the one Collect gives.
func TestCollectEarly(t *testing.T) {
	handed := make(chan []Workload, 1)
	client := gatedPods{Interface: fake.NewClientset(cluster()...), gate: handed, t: t}
	var templates []Workload
	inv, err := CollectEarly(context.Background(), Direct(client), Selection{Namespace: ns}, func(ws []Workload) {
		templates = ws
		handed <- ws
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Collect(context.Background(), Direct(fake.NewClientset(cluster()...)), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(inv), summary(want); !slices.Equal(got, want) {
		t.Errorf("inventory %v, want %v", got, want)
	}
	var ids []string
	for i := range templates {
		if len(templates[i].Pods) != 0 {
			t.Errorf("template %s has pods", templates[i].ID())
		}
		ids = append(ids, templates[i].ID())
	}
	for _, id := range []string{"Deployment/web", "DaemonSet/agent", "CronJob/nightly", "Job/migrate"} {
		if !slices.Contains(ids, id) {
			t.Errorf("templates %v lack %s", ids, id)
		}
	}
}

// orderSource records when each LIST starts and ends; the template
// resources' LISTs take 100 ms, so one begun beside them would be seen
// even on a loaded machine.
type orderSource struct {
	Source
	mu  sync.Mutex
	log []string
}

func (o *orderSource) record(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, s)
}

func (o *orderSource) List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	o.record("start " + resource)
	defer o.record("end " + resource)
	if resource != "pods" && resource != "replicasets" && resource != "nodes" {
		time.Sleep(100 * time.Millisecond)
	}
	return o.Source.List(ctx, resource, ns, opts)
}

// TestCollectEarlyListsPodsAfterTemplates: with an early consumer, the
// pods and ReplicaSets LISTs begin once every template LIST has ended;
// without one, all begin together.
func TestCollectEarlyListsPodsAfterTemplates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early func([]Workload)
		after bool
	}{
		{"early", func([]Workload) {}, true},
		{"no early consumer", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &orderSource{Source: Direct(fake.NewClientset(cluster()...))}
			if _, err := CollectEarly(context.Background(), src, Selection{Namespace: ns}, tc.early); err != nil {
				t.Fatal(err)
			}
			lastTemplateEnd, firstLate := -1, len(src.log)
			for i, e := range src.log {
				switch {
				case e == "start pods" || e == "start replicasets":
					firstLate = min(firstLate, i)
				case strings.HasPrefix(e, "end ") && e != "end pods" && e != "end replicasets" && e != "end nodes":
					lastTemplateEnd = i
				}
			}
			if after := firstLate > lastTemplateEnd; after != tc.after {
				t.Errorf("pods or ReplicaSets listed after the templates: %v, want %v (%v)", after, tc.after, src.log)
			}
		})
	}
}

// TestCollectNodesWithoutPods: a namespace whose workloads have no pods
// still learns the nodes' providerIDs, so node credentials apply to a
// Deployment scaled to zero.
func TestCollectNodesWithoutPods(t *testing.T) {
	n := node("n1", "amd64")
	n.Spec.ProviderID = "aws:///us-east-1a/i-0abc"
	client := fake.NewClientset(n, deployment("idle", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"))
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.NodeProviderIDs["n1"]; got != n.Spec.ProviderID {
		t.Errorf("NodeProviderIDs = %v, want n1's providerID", inv.NodeProviderIDs)
	}
}

// TestNodeProviderIDs: creds' nodes LIST is the scan's, and a refusal is a
// Note in the scan's words, never the client's raw error.
func TestNodeProviderIDs(t *testing.T) {
	n := node("n1", "amd64")
	n.Spec.ProviderID = "gce://p/z/n1"
	ids, note := NodeProviderIDs(context.Background(), fake.NewClientset(n), "providers unknown")
	if note != nil || ids["n1"] != n.Spec.ProviderID {
		t.Errorf("ids %v note %+v", ids, note)
	}
	client := fake.NewClientset()
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("RBAC: access denied"))
	})
	_, note = NodeProviderIDs(context.Background(), client, "providers unknown")
	if note == nil || note.Reason != report.ReasonForbidden || !strings.HasSuffix(note.Message, "; providers unknown") {
		t.Errorf("note = %+v", note)
	}
}
