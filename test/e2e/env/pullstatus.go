package env

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// PullFailure is what a kubelet writes about one container whose image it
// cannot pull (../shared/KUBELET.md, from a real kubelet 1.37 with
// containerd): the waiting state and the Events. Message is the runtime's
// error M; the kubelet quotes it in both.
type PullFailure struct {
	Container string
	// Waiting is the container's waiting reason: ImagePullBackOff (after
	// the first retry), ErrImagePull, ErrImageNeverPull or
	// InvalidImageName.
	Waiting string
	Message string
	// MissingSecrets are pull secrets the pod names that do not exist:
	// the kubelet records FailedToRetrieveImagePullSecret, then pulls
	// without them.
	MissingSecrets []string
}

// FailPull writes, with the admin identity, the pod status and Events a
// kubelet on node writes for a pull that keeps failing, in the words and
// order a real kubelet uses (KUBELET.md): Pulling, Failed "Failed to pull
// image", Failed "Error: ErrImagePull", BackOff, Failed "Error:
// ImagePullBackOff". NeverPull and InvalidImageName have their own events.
func (c *Cluster) FailPull(ctx context.Context, ns, pod, node string, f PullFailure) error {
	pods := c.Admin.CoreV1().Pods(ns)
	var image string
	var uid types.UID
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := pods.Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		uid = p.UID
		now := metav1.Now()
		p.Status.Phase = corev1.PodPending
		if p.Status.StartTime == nil {
			p.Status.StartTime = &now
		}
		p.Status.HostIP = "127.0.0.1"
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now},
		}
		p.Status.ContainerStatuses = nil
		for _, ctr := range p.Spec.Containers {
			st := corev1.ContainerStatus{Name: ctr.Name, Image: ctr.Image, Started: ptr.To(false)}
			if ctr.Name == f.Container {
				image = ctr.Image
				st.State.Waiting = &corev1.ContainerStateWaiting{Reason: f.Waiting, Message: waitingMessage(f, ctr.Image)}
			} else {
				st.State.Waiting = &corev1.ContainerStateWaiting{Reason: "PodInitializing"}
			}
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
		}
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("setting pod %s/%s pull-failing: %w", ns, pod, err)
	}
	if image == "" {
		return fmt.Errorf("pod %s/%s has no container %q", ns, pod, f.Container)
	}

	type ev struct{ typ, reason, msg string }
	var evs []ev
	if len(f.MissingSecrets) > 0 {
		evs = append(evs, ev{corev1.EventTypeWarning, "FailedToRetrieveImagePullSecret",
			fmt.Sprintf("Unable to retrieve some image pull secrets (%s); attempting to pull the image may not succeed.", strings.Join(f.MissingSecrets, ", "))})
	}
	switch f.Waiting {
	case "ErrImageNeverPull":
		evs = append(evs, ev{corev1.EventTypeWarning, "ErrImageNeverPull", f.Message},
			ev{corev1.EventTypeWarning, "Failed", "Error: ErrImageNeverPull"})
	case "InvalidImageName":
		evs = append(evs, ev{corev1.EventTypeWarning, "InspectFailed", f.Message},
			ev{corev1.EventTypeWarning, "Failed", "Error: InvalidImageName"})
	default:
		evs = append(evs,
			ev{corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", image)},
			ev{corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to pull image %q: %s", image, f.Message)},
			ev{corev1.EventTypeWarning, "Failed", "Error: ErrImagePull"},
			ev{corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", image)},
			ev{corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff"})
	}
	// Written directly rather than through client-go's EventRecorder: the
	// recorder sends asynchronously and offers no flush, and a test must
	// know the events are there before it scans. The shape is the
	// recorder's (core/v1 Event, source kubelet on the node).
	start := time.Now().Add(-time.Duration(len(evs)) * time.Second)
	for i, e := range evs {
		at := metav1.NewTime(start.Add(time.Duration(i) * time.Second))
		event := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod, at.UnixNano()+int64(i)), Namespace: ns},
			InvolvedObject: corev1.ObjectReference{
				Kind: "Pod", APIVersion: "v1", Namespace: ns, Name: pod, UID: uid,
				FieldPath: "spec.containers{" + f.Container + "}",
			},
			Reason: e.reason, Message: e.msg, Type: e.typ, Count: 1,
			Source:         corev1.EventSource{Component: "kubelet", Host: node},
			FirstTimestamp: at, LastTimestamp: at,
			ReportingController: "kubelet", ReportingInstance: node,
		}
		if e.reason == "FailedToRetrieveImagePullSecret" {
			event.InvolvedObject.FieldPath = "" // about the pod, not one container
		}
		if _, err := c.Admin.CoreV1().Events(ns).Create(ctx, event, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("recording event %s on pod %s/%s: %w", e.reason, ns, pod, err)
		}
	}
	return nil
}

// waitingMessage is the waiting state's message as the kubelet writes it.
func waitingMessage(f PullFailure, image string) string {
	if f.Waiting == "ImagePullBackOff" {
		return fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", image, f.Message)
	}
	return f.Message
}
