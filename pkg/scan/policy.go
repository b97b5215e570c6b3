package scan

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

// pullPolicy warns about a mutable tag the kubelet will not pull again:
// nodes that cached it keep running the old image (SEEDS §2). It returns
// false when there is nothing to say.
func pullPolicy(base report.Result, w *kube.Workload, c kube.Container, ref imageref.Reference) (report.Result, bool) {
	if !ref.Mutable() || c.PullPolicy == corev1.PullAlways {
		return report.Result{}, false
	}
	base.Check = report.CheckWorkloadPullPolicy
	base.Status = report.StatusWarn
	base.Reason = report.ReasonMutableTagIfNotPresent
	what := "pulls it only when the node lacks it"
	if c.PullPolicy == corev1.PullNever {
		what = "never pulls it"
	}
	base.Message = fmt.Sprintf("%s is a mutable tag with imagePullPolicy %s: the kubelet %s, so nodes that cached an older push keep running it%s",
		ref.Short(), c.PullPolicy, what, cacheSharing(c.PullPolicy))
	base.Remedy = fmt.Sprintf("set imagePullPolicy: Always, push a unique tag per build and pin digests (%s/%s@sha256:…) in production", ref.Registry, ref.Repository)
	if r := restart(w); r != "" {
		base.Remedy += "; with an unchanged pod template even Always does not recreate pods: " + r
	}
	base.Evidence = report.Evidence{"imagePullPolicy": string(c.PullPolicy), "tag": ref.Tag}
	return base, true
}

// cacheSharing says which kubelets share a cached image with which pods.
// KubeletEnsureSecretPulledImages (alpha in 1.33, on by default from 1.35)
// makes the kubelet check that a pod may use an image first pulled with
// credentials: a pod presenting other credentials, or none, pulls again
// (and gets the tag's current digest, or fails to pull). Seen on a real
// kubelet v1.37.2: a pod without a secret failed with 401 on the node where
// a pod with one had pulled the same image.
func cacheSharing(policy corev1.PullPolicy) string {
	if policy == corev1.PullNever {
		return ""
	}
	return " (kubelets before 1.35 reuse a cached image for every pod on the node; from 1.35, where KubeletEnsureSecretPulledImages is on by default, " +
		"an image pulled with a pull secret is reused only by pods presenting the same credentials, and other pods pull again)"
}

// PullPolicy is the workload.pull-policy result for container c of w
// (false when there is nothing to say): verify checks manifests with the
// scan's own rule.
func PullPolicy(base report.Result, w *kube.Workload, c kube.Container, ref imageref.Reference) (report.Result, bool) {
	return pullPolicy(base, w, c, ref)
}
