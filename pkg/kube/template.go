package kube

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/imageref"
)

// Well-known node labels used as platform hints.
const (
	labelArch = "kubernetes.io/arch"
	labelOS   = "kubernetes.io/os"
)

// templateOf copies what regcheck needs from a pod spec into w.
func templateOf(w *Workload, spec *corev1.PodSpec) {
	w.Containers = w.Containers[:0]
	for _, c := range spec.InitContainers {
		w.Containers = append(w.Containers, containerOf(&c, true))
	}
	for _, c := range spec.Containers {
		w.Containers = append(w.Containers, containerOf(&c, false))
	}
	w.ImagePullSecrets = secretNames(spec.ImagePullSecrets)
	w.ServiceAccountName = spec.ServiceAccountName
	if w.ServiceAccountName == "" {
		w.ServiceAccountName = "default"
	}
	w.NodeSelector = spec.NodeSelector
}

func containerOf(c *corev1.Container, init bool) Container {
	policy := c.ImagePullPolicy
	if policy == "" {
		policy = DefaultPullPolicy(c.Image)
	}
	return Container{Name: c.Name, Image: c.Image, PullPolicy: policy, Init: init, Env: c.Env, EnvFrom: c.EnvFrom}
}

func secretNames(refs []corev1.LocalObjectReference) []string {
	if len(refs) == 0 {
		return nil
	}
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		names = append(names, r.Name)
	}
	return names
}

// DefaultPullPolicy is the imagePullPolicy the API server fills in when the
// spec leaves it empty: Always for ":latest" or no tag (and no digest),
// else IfNotPresent.
func DefaultPullPolicy(image string) corev1.PullPolicy {
	ref, err := imageref.Parse(image)
	switch {
	case err != nil:
		// The API server ignores parse errors here too.
		return corev1.PullIfNotPresent
	case ref.Tag == "latest":
		return corev1.PullAlways
	case ref.Written():
		return corev1.PullIfNotPresent
	}
	return corev1.PullAlways
}

// hintPlatform reads a platform hint from a nodeSelector.
func hintPlatform(selector map[string]string) Platform {
	return Platform{OS: selector[labelOS], Architecture: selector[labelArch]}
}

// nodePlatform reads a node's platform from its status, falling back to
// its well-known labels.
func nodePlatform(n *corev1.Node) Platform {
	p := Platform{OS: n.Status.NodeInfo.OperatingSystem, Architecture: n.Status.NodeInfo.Architecture}
	if p.OS == "" {
		p.OS = n.Labels[labelOS]
	}
	if p.Architecture == "" {
		p.Architecture = n.Labels[labelArch]
	}
	return p
}

// podOf copies what regcheck needs from a pod.
func podOf(p *corev1.Pod) Pod {
	out := Pod{
		Name:             p.Name,
		NodeName:         p.Spec.NodeName,
		Phase:            p.Status.Phase,
		ImagePullSecrets: secretNames(p.Spec.ImagePullSecrets),
	}
	if p.Status.StartTime != nil {
		out.StartTime = p.Status.StartTime.Time
	}
	out.Created = p.CreationTimestamp.Time
	if h := hintPlatform(p.Spec.NodeSelector); h.Known() {
		out.Platform, out.PlatformSource = h, "nodeSelector"
	}
	add := func(statuses []corev1.ContainerStatus, init, ephemeral bool) {
		for _, s := range statuses {
			cs := ContainerStatus{Name: s.Name, Image: s.Image, ImageID: s.ImageID, Init: init, Ephemeral: ephemeral}
			if w := s.State.Waiting; w != nil {
				cs.Waiting, cs.WaitingMessage = w.Reason, w.Message
			}
			out.Statuses = append(out.Statuses, cs)
		}
	}
	add(p.Status.InitContainerStatuses, true, false)
	add(p.Status.ContainerStatuses, false, false)
	add(p.Status.EphemeralContainerStatuses, false, true)
	for _, e := range p.Spec.EphemeralContainers {
		c := containerOf((*corev1.Container)(&e.EphemeralContainerCommon), false)
		c.Ephemeral = true
		out.Ephemeral = append(out.Ephemeral, c)
	}
	return out
}
