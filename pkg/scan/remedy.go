package scan

import (
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/kube"
)

// restart says how to get fresh pods for w, in the words its kind needs.
func restart(w *kube.Workload) string {
	switch w.Kind {
	case kube.KindDeployment, kube.KindStatefulSet, kube.KindDaemonSet:
		return fmt.Sprintf("kubectl rollout restart %s/%s -n %s", strings.ToLower(w.Kind), w.Name, w.Namespace)
	case kube.KindCronJob:
		return fmt.Sprintf("the next scheduled Job pulls again; to run one now: kubectl create job --from=cronjob/%s %s-manual -n %s", w.Name, w.Name, w.Namespace)
	case kube.KindJob:
		return fmt.Sprintf("recreate the Job: kubectl get job %s -n %s -o yaml | kubectl replace --force -f -", w.Name, w.Namespace)
	case kube.KindPod:
		return fmt.Sprintf("delete and recreate the pod: kubectl get pod %s -n %s -o yaml | kubectl replace --force -f -", w.Name, w.Namespace)
	}
	// ReplicaSet, ReplicationController, or a custom controller: deleting
	// the pods makes it create new ones.
	names := make([]string, 0, len(w.Pods))
	for _, p := range w.Pods {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return fmt.Sprintf("restart the pods of %s so they pull again", w.ID())
	}
	return fmt.Sprintf("delete the pods so %s recreates them: kubectl delete pod -n %s %s", w.ID(), w.Namespace, strings.Join(names, " "))
}
