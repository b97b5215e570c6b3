package kube

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcheck/regcheck/pkg/report"
)

func pullEvent(name, pod, reason, fieldPath, msg string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod, Namespace: ns, UID: types.UID(pod), FieldPath: fieldPath},
		Reason:         reason, Message: msg, Type: corev1.EventTypeWarning,
		FirstTimestamp: metav1.NewTime(at), LastTimestamp: metav1.NewTime(at.Add(time.Minute)), Count: 3,
	}
}

func failingPod(name string) *corev1.Pod {
	p := pod(name, "", "", "n1", "")
	p.Status.Phase = corev1.PodPending
	p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{
		Reason: "ImagePullBackOff", Message: `Back-off pulling image "example.com/app:1"`,
	}
	return p
}

// countLists counts the Events LISTs and their field selectors.
func countLists(client *fake.Clientset, selectors *[]string) *int {
	n := 0
	client.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n++
		*selectors = append(*selectors, a.(k8stesting.ListAction).GetListRestrictions().Fields.String())
		return false, nil, nil
	})
	return &n
}

func TestCollectPullEvents(t *testing.T) {
	at := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	client := fake.NewClientset(
		node("n1", "amd64"),
		failingPod("bad"),
		pod("good", "", "", "n1", "example.com/app@sha256:"+hex64("a")),
		pullEvent("e1", "bad", "Failed", "spec.containers{app}", `Failed to pull image "example.com/app:1": failed to resolve reference "example.com/app:1": example.com/app:1: not found`, at),
		pullEvent("e2", "bad", "BackOff", "spec.containers{app}", `Back-off pulling image "example.com/app:1"`, at),
		pullEvent("e3", "bad", "FailedToRetrieveImagePullSecret", "", `Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.`, at),
		pullEvent("e4", "bad", "BackOff", "spec.containers{app}", `Back-off restarting failed container app in pod bad_prod`, at),
		pullEvent("e5", "bad", "Failed", "spec.containers{app}", `Error: failed to create containerd task`, at),
		pullEvent("e6", "good", "Pulled", "spec.containers{app}", `Successfully pulled image "example.com/app:1"`, at),
	)
	var selectors []string
	lists := countLists(client, &selectors)
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if *lists != 1 || inv.EventLists != 1 || selectors[0] != "involvedObject.kind=Pod" {
		t.Errorf("events LISTs = %d (inventory says %d), selectors %q; want one, of pod events", *lists, inv.EventLists, selectors)
	}
	var bad, good *Pod
	for i := range inv.Workloads {
		for j := range inv.Workloads[i].Pods {
			switch p := &inv.Workloads[i].Pods[j]; p.Name {
			case "bad":
				bad = p
			case "good":
				good = p
			}
		}
	}
	if bad == nil || good == nil {
		t.Fatalf("pods not found: %+v", inv.Workloads)
	}
	st, _ := bad.Status("app", false)
	if !st.PullWaiting() || st.Waiting != "ImagePullBackOff" || st.WaitingMessage == "" {
		t.Errorf("waiting = %q %q, want ImagePullBackOff with its message", st.Waiting, st.WaitingMessage)
	}
	evs := bad.PullEventsFor("app", false)
	if len(evs) != 3 {
		t.Fatalf("pull events = %+v, want Failed, BackOff (pulling) and FailedToRetrieveImagePullSecret", evs)
	}
	for _, e := range evs {
		if e.Count != 3 || !e.First.Equal(at) || !e.Last.Equal(at.Add(time.Minute)) {
			t.Errorf("event %+v: count or times lost", e)
		}
		if e.Reason == "FailedToRetrieveImagePullSecret" && e.Container != "" {
			t.Errorf("the secret event is about the pod, got container %q", e.Container)
		}
	}
	if len(bad.PullEventsFor("init", true)) != 1 {
		t.Errorf("the init container sees only the pod-level event")
	}
	if len(good.PullEvents) != 0 {
		t.Errorf("a pod pulling fine has pull events %+v", good.PullEvents)
	}
}

func TestCollectPullEventsOnlyWhereNeeded(t *testing.T) {
	client := fake.NewClientset(node("n1", "amd64"), pod("good", "", "", "n1", "example.com/app@sha256:"+hex64("a")))
	var selectors []string
	lists := countLists(client, &selectors)
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if *lists != 0 || inv.EventLists != 0 {
		t.Errorf("events listed %d times with no pod waiting on a pull", *lists)
	}
}

func TestCollectPullEventsForbidden(t *testing.T) {
	client := fake.NewClientset(node("n1", "amd64"), failingPod("bad"))
	forbid(client, "events")
	inv, err := Collect(context.Background(), Direct(client), Selection{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Notes) != 1 || inv.Notes[0].Resource != "events" || inv.Notes[0].Reason != report.ReasonForbidden || inv.Notes[0].Namespace != ns {
		t.Fatalf("notes = %+v, want one Forbidden skip for events in %s", inv.Notes, ns)
	}
	if len(inv.Workloads) != 1 || len(inv.Workloads[0].Pods) != 1 {
		t.Fatalf("workloads = %+v", inv.Workloads)
	}
	if st, _ := inv.Workloads[0].Pods[0].Status("app", false); !st.PullWaiting() {
		t.Errorf("the waiting reason is lost without events")
	}
}
