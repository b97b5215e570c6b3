package scan

import (
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/remedy"
)

// audience is who fixes what a scan finds about w: its pods, in its
// namespace, with its ServiceAccount and pull secrets.
func audience(w *kube.Workload) remedy.Workload {
	pods := make([]string, 0, len(w.Pods))
	for _, p := range w.Pods {
		pods = append(pods, p.Name)
	}
	return remedy.Workload{
		Kind: w.Kind, Restarts: kube.RestartStyleOf(w.Kind), Name: w.Name, Context: w.Context, Namespace: w.Namespace,
		ServiceAccount: w.ServiceAccountName, PullSecrets: w.ImagePullSecrets, Pods: pods,
		Undeployed: w.Undeployed,
	}
}

// restart says how to get fresh pods for w, in the words its kind needs.
func restart(w *kube.Workload) string { return audience(w).Restart() }
