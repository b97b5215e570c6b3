package env

import (
	"context"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// RunDeployment creates a Deployment of replicas pods from spec, waits for
// the controller manager to create its pods, then plays scheduler and
// kubelet: binds each pod (sorted by name) to node and reports it running
// with the imageIDs ids(i) gives for pod i (container name → imageID).
func (c *Cluster) RunDeployment(ctx context.Context, ns, name string, replicas int32, spec corev1.PodSpec, node string, ids func(i int) map[string]string) ([]corev1.Pod, error) {
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
	if _, err := c.Admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating deployment %s/%s: %w", ns, name, err)
	}
	pods, err := c.WaitForPods(ctx, ns, "app="+name, int(replicas))
	if err != nil {
		return nil, err
	}
	if err := c.runPods(ctx, ns, pods, node, ids); err != nil {
		return nil, err
	}
	return pods, nil
}

// RunPod creates a bare pod and reports it running on node with ids.
func (c *Cluster) RunPod(ctx context.Context, ns, name string, spec corev1.PodSpec, node string, ids map[string]string) error {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": name}}, Spec: spec}
	created, err := c.Admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating pod %s/%s: %w", ns, name, err)
	}
	return c.runPods(ctx, ns, []corev1.Pod{*created}, node, func(int) map[string]string { return ids })
}

func (c *Cluster) runPods(ctx context.Context, ns string, pods []corev1.Pod, node string, ids func(i int) map[string]string) error {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	for i, p := range pods {
		if node != "" {
			if err := c.BindPod(ctx, ns, p.Name, node); err != nil {
				return err
			}
		}
		if ids == nil {
			continue
		}
		if err := c.SetPodRunning(ctx, ns, p.Name, ids(i)); err != nil {
			return err
		}
	}
	return nil
}

// DockerConfigSecret is a kubernetes.io/dockerconfigjson Secret holding
// configJSON, as `kubectl create secret docker-registry` makes.
func DockerConfigSecret(ns, name string, configJSON []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: configJSON},
	}
}
