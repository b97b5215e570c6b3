package kube

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ConfigMapData lists the ConfigMaps of namespace (one paginated LIST) and
// returns each one's data by name: the doctor reads the image and registry
// settings workloads take from them. Never a Secret.
func ConfigMapData(ctx context.Context, c kubernetes.Interface, namespace string) (map[string]map[string]string, error) {
	items, err := listAll[corev1.ConfigMap](ctx, Direct(c), "configmaps", namespace, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]string, len(items))
	for _, cm := range items {
		out[cm.Name] = cm.Data
	}
	return out, nil
}
