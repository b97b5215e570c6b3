package kube

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/pullfailure"
)

// PullEvent is one Event the kubelet recorded about a pod's image pull:
// Failed ("Failed to pull image ..."), BackOff ("Back-off pulling image
// ..."), FailedToRetrieveImagePullSecret, ErrImageNeverPull.
type PullEvent struct {
	Reason  string
	Message string
	// Container the event is about (from involvedObject.fieldPath);
	// empty for the pod as a whole (FailedToRetrieveImagePullSecret).
	Container string
	Init      bool
	Ephemeral bool
	// First and Last seen, and how many times (Count ≥ 1).
	First, Last time.Time
	Count       int32
}

// eventsConcurrency bounds the namespaces whose Events are listed at once,
// as the pull secrets are read.
const eventsConcurrency = 8

// pullEventsIn lists the Events of every namespace where some pod waits on
// an image pull — one paginated LIST per such namespace, of pod Events
// only — and keeps the pull events by pod UID. Namespaces whose Events
// could not be listed are returned with why, so the caller records a
// cluster.read skip; their pods keep their waiting reason alone. listed
// is how many namespaces' Events were asked for.
func pullEventsIn(ctx context.Context, src Source, pods []*corev1.Pod) (_ map[types.UID][]PullEvent, listed int, _ []eventFailure) {
	var namespaces []string
	seen := map[string]bool{}
	for _, p := range pods {
		if !seen[p.Namespace] && waitsOnPull(p) {
			seen[p.Namespace] = true
			namespaces = append(namespaces, p.Namespace)
		}
	}
	slices.Sort(namespaces)
	if len(namespaces) == 0 {
		return nil, 0, nil
	}

	var (
		mu       sync.Mutex
		byPod    = map[types.UID][]PullEvent{}
		failures []eventFailure
	)
	opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("involvedObject.kind", "Pod").String()}
	bounded.ForEach(ctx, len(namespaces), eventsConcurrency, func(i int) {
		ns := namespaces[i]
		start := time.Now()
		var got []*corev1.Event
		err := each(ctx, src, "events", ns, opts, func(e *corev1.Event) { got = append(got, e) })
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, eventFailure{namespace: ns, err: err, took: time.Since(start)})
			return
		}
		for _, e := range got {
			if e.InvolvedObject.Kind != "Pod" {
				continue
			}
			if pe, ok := pullEventOf(e); ok {
				byPod[e.InvolvedObject.UID] = append(byPod[e.InvolvedObject.UID], pe)
			}
		}
	}, nil)
	for uid := range byPod {
		slices.SortStableFunc(byPod[uid], func(a, b PullEvent) int { return a.Last.Compare(b.Last) })
	}
	slices.SortFunc(failures, func(a, b eventFailure) int { return strings.Compare(a.namespace, b.namespace) })
	return byPod, len(namespaces), failures
}

// eventFailure is a namespace whose Events could not be listed.
type eventFailure struct {
	namespace string
	err       error
	took      time.Duration
}

// waitsOnPull reports whether some container of p waits on an image pull.
func waitsOnPull(p *corev1.Pod) bool {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses, p.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			if s.State.Waiting != nil && pullfailure.IsPullWaiting(s.State.Waiting.Reason) {
				return true
			}
		}
	}
	return false
}

// fieldPathRE reads the kubelet's involvedObject.fieldPath for a
// container: spec.containers{NAME}, spec.initContainers{NAME},
// spec.ephemeralContainers{NAME}.
var fieldPathRE = regexp.MustCompile(`^spec\.(containers|initContainers|ephemeralContainers)\{(.+)\}$`)

// pullEventOf keeps an Event when it is the kubelet's word on an image
// pull. Failed and BackOff are also the kubelet's words on crashing
// containers ("Back-off restarting failed container", "Error: ..."), so
// their message must be about pulling.
func pullEventOf(e *corev1.Event) (PullEvent, bool) {
	if !pullfailure.IsPullEvent(e.Reason) {
		return PullEvent{}, false
	}
	switch e.Reason {
	case pullfailure.EventFailed:
		if !strings.HasPrefix(e.Message, "Failed to pull image") && !isPullError(e.Message) {
			return PullEvent{}, false
		}
	case pullfailure.EventBackOff:
		if !strings.HasPrefix(e.Message, "Back-off pulling image") {
			return PullEvent{}, false
		}
	}
	pe := PullEvent{Reason: e.Reason, Message: e.Message, Count: max(e.Count, 1)}
	if m := fieldPathRE.FindStringSubmatch(e.InvolvedObject.FieldPath); m != nil {
		pe.Container = m[2]
		pe.Init = m[1] == "initContainers"
		pe.Ephemeral = m[1] == "ephemeralContainers"
	}
	pe.First, pe.Last = e.FirstTimestamp.Time, e.LastTimestamp.Time
	if !e.EventTime.IsZero() { // events.k8s.io/v1 writers set EventTime and Series
		if pe.First.IsZero() {
			pe.First = e.EventTime.Time
		}
		if pe.Last.IsZero() {
			pe.Last = e.EventTime.Time
		}
		if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
			pe.Last = e.Series.LastObservedTime.Time
			pe.Count = max(pe.Count, e.Series.Count)
		}
	}
	return pe, true
}

// isPullError is the kubelet's "Error: ErrImagePull" family of Failed
// events: the waiting reason, no cause.
func isPullError(msg string) bool {
	reason, ok := strings.CutPrefix(msg, "Error: ")
	return ok && pullfailure.IsPullWaiting(reason)
}

// PullWaiting reports whether the container waits on an image pull.
func (s ContainerStatus) PullWaiting() bool { return pullfailure.IsPullWaiting(s.Waiting) }

// PullEventsFor are the pod's pull events about the named container, and
// those about the pod as a whole, oldest first.
func (p *Pod) PullEventsFor(name string, init bool) []PullEvent {
	var out []PullEvent
	for _, e := range p.PullEvents {
		if e.Container == "" || e.Container == name && e.Init == init && !e.Ephemeral {
			out = append(out, e)
		}
	}
	return out
}
