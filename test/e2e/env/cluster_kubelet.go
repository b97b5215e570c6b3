package env

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

// The cluster has no kubelet and no scheduler. These helpers write, with the
// admin identity, the objects and status those components would write, so
// regcheck sees what it sees in a real cluster: nodes with an OS and
// architecture, pods bound to them, and container statuses with imageIDs.

// podWaitTimeout bounds the polling helpers when ctx has no deadline.
const podWaitTimeout = time.Minute

// CreateNode registers a Ready node with the given OS and architecture in
// its labels and status.nodeInfo, as a kubelet does on start.
func (c *Cluster) CreateNode(ctx context.Context, name, os, arch string) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				corev1.LabelHostname:   name,
				corev1.LabelOSStable:   os,
				corev1.LabelArchStable: arch,
			},
		},
	}
	created, err := c.Admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating node %s: %w", name, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	// Status is ignored on create; only the status subresource sets it.
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Conditions: []corev1.NodeCondition{{
			Type:               corev1.NodeReady,
			Status:             corev1.ConditionTrue,
			Reason:             "KubeletReady",
			Message:            "kubelet is posting ready status (simulated by regcheck e2e)",
			LastHeartbeatTime:  now,
			LastTransitionTime: now,
		}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: corev1.NodeHostName, Address: name},
		},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem:         os,
			Architecture:            arch,
			KubeletVersion:          "v1.37.2",
			ContainerRuntimeVersion: "containerd://2.1.0",
			OSImage:                 "regcheck e2e",
		},
	}
	if _, err := c.Admin.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("setting status of node %s: %w", name, err)
	}
	return nil
}

// BindPod assigns a pod to a node the way the scheduler does: by POSTing a
// Binding to the pod's binding subresource.
func (c *Cluster) BindPod(ctx context.Context, ns, pod, node string) error {
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pod},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := c.Admin.CoreV1().Pods(ns).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("binding pod %s/%s to node %s: %w", ns, pod, node, err)
	}
	return nil
}

// SetPodRunning writes through the status subresource what a kubelet would
// after starting the pod: phase Running, start time, ready conditions and a
// status per container (init containers included) carrying the spec image
// and the imageID given for the container's name. A container missing from
// imageIDs gets an empty imageID, as when a runtime has not reported it.
func (c *Cluster) SetPodRunning(ctx context.Context, ns, pod string, imageIDs map[string]string) error {
	pods := c.Admin.CoreV1().Pods(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := pods.Get(ctx, pod, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		if p.Status.StartTime == nil {
			p.Status.StartTime = &now
		}
		if p.Spec.NodeName != "" {
			p.Status.HostIP = "127.0.0.1"
			p.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
		}
		p.Status.InitContainerStatuses = nil
		for _, ctr := range p.Spec.InitContainers {
			st := fakeContainerStatus(ns, pod, ctr, imageIDs[ctr.Name])
			if ctr.RestartPolicy == nil || *ctr.RestartPolicy != corev1.ContainerRestartPolicyAlways {
				// A plain init container has run to completion.
				st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: st.ContainerID,
				}}
				st.Started = ptr.To(false)
			}
			p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, st)
		}
		p.Status.ContainerStatuses = nil
		for _, ctr := range p.Spec.Containers {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, fakeContainerStatus(ns, pod, ctr, imageIDs[ctr.Name]))
		}
		p.Status.Conditions = nil
		for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
		}
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("setting pod %s/%s running: %w", ns, pod, err)
	}
	return nil
}

func fakeContainerStatus(ns, pod string, ctr corev1.Container, imageID string) corev1.ContainerStatus {
	// A stable fake container ID: some clients expect one whenever a
	// container is running.
	sum := sha256.Sum256([]byte(ns + "/" + pod + "/" + ctr.Name))
	id := "containerd://" + hex.EncodeToString(sum[:])
	return corev1.ContainerStatus{
		Name:        ctr.Name,
		Image:       ctr.Image,
		ImageID:     imageID,
		ContainerID: id,
		Ready:       true,
		Started:     ptr.To(true),
		State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}},
	}
}

// WaitForPods polls until exactly n pods matching the label selector, not
// counting pods being deleted, exist in ns, and returns them. Without a
// deadline on ctx it gives up after a minute.
func (c *Cluster) WaitForPods(ctx context.Context, ns, selector string, n int) ([]corev1.Pod, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, podWaitTimeout)
		defer cancel()
	}
	var found []corev1.Pod
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := c.Admin.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			lastErr = err // transient errors are retried until the deadline
			return false, nil
		}
		found = found[:0]
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				found = append(found, p)
			}
		}
		return len(found) == n, nil
	})
	if err != nil {
		return found, fmt.Errorf("waiting for %d pods in %s matching %q (have %d, last error %v): %w", n, ns, selector, len(found), lastErr, err)
	}
	return found, nil
}

// CreateNamespace creates a namespace and waits for the controller manager
// to give it its default service account: until then the apiserver refuses
// pods there, and controllers creating pods back off for seconds.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.Admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, podWaitTimeout)
		defer cancel()
	}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := c.Admin.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the default service account in namespace %s: %w", name, err)
	}
	return nil
}
