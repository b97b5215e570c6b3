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
	base.Message = fmt.Sprintf("%s is a mutable tag with imagePullPolicy %s: the kubelet %s, so nodes that cached an older push keep running it",
		ref.Short(), c.PullPolicy, what)
	base.Remedy = fmt.Sprintf("set imagePullPolicy: Always, push a unique tag per build and pin digests (%s/%s@sha256:…) in production; with an unchanged pod template even Always does not recreate pods: %s",
		ref.Registry, ref.Repository, restart(w))
	base.Evidence = report.Evidence{"imagePullPolicy": string(c.PullPolicy), "tag": ref.Tag}
	return base, true
}
