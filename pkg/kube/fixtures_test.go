package kube

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Builders for test objects; names double as UIDs so owner references
// are easy to write.

const ns = "prod"

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(name), Labels: map[string]string{"app": "demo"}}
}

func ownedBy(m metav1.ObjectMeta, kind, name string) metav1.ObjectMeta {
	yes := true
	m.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID(name), Controller: &yes}}
	return m
}

func spec(image string) corev1.PodSpec {
	return corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Image: "busybox:1.36"}},
		Containers:     []corev1.Container{{Name: "app", Image: image}},
	}
}

func template(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: spec(image)}
}

func deployment(name, image string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: meta(name), Spec: appsv1.DeploymentSpec{Template: template(image)}}
}

func replicaSet(name, deploy, image string, rev int) *appsv1.ReplicaSet {
	m := ownedBy(meta(name), KindDeployment, deploy)
	m.Annotations = map[string]string{"deployment.kubernetes.io/revision": fmt.Sprint(rev)}
	return &appsv1.ReplicaSet{ObjectMeta: m, Spec: appsv1.ReplicaSetSpec{Template: template(image)}}
}

func job(name, cron, image string, done bool) *batchv1.Job {
	m := meta(name)
	if cron != "" {
		m = ownedBy(m, KindCronJob, cron)
	}
	j := &batchv1.Job{ObjectMeta: m, Spec: batchv1.JobSpec{Template: template(image)}}
	if done {
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	}
	return j
}

func pod(name, ownerKind, owner, node, imageID string) *corev1.Pod {
	m := meta(name)
	if ownerKind != "" {
		m = ownedBy(m, ownerKind, owner)
	}
	p := &corev1.Pod{ObjectMeta: m, Spec: spec("example.com/app:1")}
	p.Spec.NodeName = node
	p.Status.Phase = corev1.PodRunning
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", Image: "example.com/app:1", ImageID: imageID}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", Image: "busybox:1.36", ImageID: "docker.io/library/busybox@sha256:" + hex64("b")}}
	return p
}

func node(name, arch string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	n.Status.NodeInfo.OperatingSystem = "linux"
	n.Status.NodeInfo.Architecture = arch
	return n
}

func hex64(c string) string {
	s := ""
	for len(s) < 64 {
		s += c
	}
	return s
}
