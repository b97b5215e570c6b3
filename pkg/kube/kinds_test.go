package kube

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcheck/regcheck/pkg/report"
)

// TestWorkloadKinds checks every row of the kinds table the same way:
// kubectl's names for it parse to it, its pod template is found, and its
// objects are listed by name.
func TestWorkloadKinds(t *testing.T) {
	tmpl := template("example.com/app:1")
	objects := map[string]runtime.Object{
		KindDeployment:            &appsv1.Deployment{ObjectMeta: meta("b"), Spec: appsv1.DeploymentSpec{Template: tmpl}},
		KindStatefulSet:           &appsv1.StatefulSet{ObjectMeta: meta("b"), Spec: appsv1.StatefulSetSpec{Template: tmpl}},
		KindDaemonSet:             &appsv1.DaemonSet{ObjectMeta: meta("b"), Spec: appsv1.DaemonSetSpec{Template: tmpl}},
		KindReplicaSet:            &appsv1.ReplicaSet{ObjectMeta: meta("b"), Spec: appsv1.ReplicaSetSpec{Template: tmpl}},
		KindJob:                   &batchv1.Job{ObjectMeta: meta("b"), Spec: batchv1.JobSpec{Template: tmpl}},
		KindCronJob:               &batchv1.CronJob{ObjectMeta: meta("b"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}},
		KindReplicationController: &corev1.ReplicationController{ObjectMeta: meta("b"), Spec: corev1.ReplicationControllerSpec{Template: &tmpl}},
		KindPod:                   &corev1.Pod{ObjectMeta: meta("b"), Spec: tmpl.Spec},
	}
	if len(objects) != len(WorkloadKinds) {
		t.Fatalf("the test covers %d kinds, the table has %d", len(objects), len(WorkloadKinds))
	}
	for _, k := range WorkloadKinds {
		t.Run(k.Kind, func(t *testing.T) {
			for _, name := range append([]string{k.Resource, k.Resource + "." + k.Group}, k.Aliases...) {
				if name == k.Resource+"." {
					name = k.Resource + ".core"
				}
				got, err := ParseTarget(name + "/x")
				if err != nil || got.Kind != k.Kind {
					t.Errorf("ParseTarget(%q) = %v, %v; want %s", name+"/x", got, err, k.Kind)
				}
			}
			obj := objects[k.Kind]
			if spec := k.PodSpec(obj); spec == nil || spec.Containers[0].Image != "example.com/app:1" {
				t.Errorf("PodSpec = %+v, want the template with example.com/app:1", spec)
			}
			other := obj.DeepCopyObject()
			setName(t, other, "a")
			names, err := k.Names(context.Background(), fake.NewClientset(obj, other), ns)
			if err != nil || !slices.Equal(names, []string{"a", "b"}) {
				t.Errorf("Names = %v, %v; want [a b]", names, err)
			}
			if !k.InManifestGroup(k.Group) || k.InManifestGroup("example.com") {
				t.Errorf("manifest groups %v: want %q in, example.com out", k.ManifestGroups, k.Group)
			}
		})
	}
}

func setName(t *testing.T, o runtime.Object, name string) {
	t.Helper()
	m, ok := o.(interface{ SetName(string) })
	if !ok {
		t.Fatalf("%T has no name", o)
	}
	m.SetName(name)
}

// Each kind restarts the way kubectl can restart it; a kind regcheck does
// not know (a custom controller's) gets its pods deleted.
func TestRestartStyleOf(t *testing.T) {
	for kind, want := range map[string]report.RestartStyle{
		KindDeployment: report.RestartRollout, KindStatefulSet: report.RestartRollout, KindDaemonSet: report.RestartRollout,
		KindCronJob: report.RestartScheduled, KindJob: report.RestartReplace, KindPod: report.RestartReplace,
		KindReplicaSet: report.RestartDeletePods, KindReplicationController: report.RestartDeletePods,
		"Rollout": report.RestartDeletePods,
	} {
		if got := RestartStyleOf(kind); got != want {
			t.Errorf("RestartStyleOf(%q) = %d, want %d", kind, got, want)
		}
	}
}
