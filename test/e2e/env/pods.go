package env

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// WaitPod polls pod ns/name until ok holds for it and returns it. Without a
// deadline on ctx it gives up after a minute; the error then shows the
// pod's last status.
func (c *Cluster) WaitPod(ctx context.Context, ns, name string, ok func(*corev1.Pod) bool) (*corev1.Pod, error) {
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, podWaitTimeout)
		defer cancel()
	}
	var last *corev1.Pod
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		p, err := c.Admin.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil // transient, or not created yet
		}
		last = p
		return ok(p), nil
	})
	if err != nil {
		status := "never seen"
		if last != nil {
			status = fmt.Sprintf("phase %s, containers %+v", last.Status.Phase, last.Status.ContainerStatuses)
		}
		return last, fmt.Errorf("waiting for pod %s/%s (%s): %w", ns, name, status, err)
	}
	return last, nil
}

// ContainersRunning holds once every container of the pod runs.
func ContainersRunning(p *corev1.Pod) bool {
	if len(p.Status.ContainerStatuses) != len(p.Spec.Containers) {
		return false
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.State.Running == nil {
			return false
		}
	}
	return true
}

// Waiting holds once the pod's first container waits with reason.
func Waiting(reason string) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool {
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Waiting != nil && st.State.Waiting.Reason == reason {
				return true
			}
		}
		return false
	}
}
