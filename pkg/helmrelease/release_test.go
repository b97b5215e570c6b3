package helmrelease

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"helm.sh/helm/v3/pkg/storage/driver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/regcheck/regcheck/pkg/kube"
)

const manifest = `---
# Source: demo/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: example.com/web:1.0
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
  namespace: ops
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
---
# A custom resource named like a workload is not one.
apiVersion: example.com/v1
kind: Deployment
metadata:
  name: custom
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
`

func TestWorkloads(t *testing.T) {
	got, err := Workloads(manifest, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := []Resource{
		{Kind: kube.KindCronJob, Name: "backup", Namespace: "ops"},
		{Kind: kube.KindDeployment, Name: "web", Namespace: "shop"},
		{Kind: kube.KindPod, Name: "debug", Namespace: "shop"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Workloads = %v, want %v", got, want)
	}
	if got, err := Workloads("", "shop"); err != nil || len(got) != 0 {
		t.Errorf("empty manifest: %v, %v", got, err)
	}
	if _, err := Workloads("kind: [unclosed", "shop"); err == nil {
		t.Error("a broken document parsed")
	}
}

func TestSelections(t *testing.T) {
	rel := &Release{Name: "demo", Namespace: "shop"}
	if s := rel.Selections(); len(s) != 0 {
		t.Fatalf("an empty release selects %v: that would scan the whole namespace", s)
	}
	rel.Workloads, _ = Workloads(manifest, "shop")
	want := []kube.Selection{
		{Namespace: "ops", Targets: []kube.Target{{Kind: kube.KindCronJob, Name: "backup"}}},
		{Namespace: "shop", Targets: []kube.Target{{Kind: kube.KindDeployment, Name: "web"}, {Kind: kube.KindPod, Name: "debug"}}},
	}
	if got := rel.Selections(); !reflect.DeepEqual(got, want) {
		t.Errorf("Selections = %+v, want %+v", got, want)
	}
	inv := &kube.Inventory{Workloads: []kube.Workload{{Kind: kube.KindDeployment, Name: "web", Namespace: "shop"}}}
	if got := rel.Missing(inv); len(got) != 2 || got[0].Name != "backup" || got[1].Name != "debug" {
		t.Errorf("Missing = %v", got)
	}
}

func TestClassify(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "", errors.New("no"))
	for _, tt := range []struct {
		name   string
		err    error
		driver string
		check  func(error) bool
	}{
		{"not found", fmt.Errorf("wrapped: %w", driver.ErrReleaseNotFound), "", func(err error) bool {
			var nf *NotFoundError
			return errors.As(err, &nf) && errors.Is(err, driver.ErrReleaseNotFound) && err.Error() == "release web not found in namespace shop"
		}},
		{"forbidden secrets", fmt.Errorf("query: %w", forbidden), "", func(err error) bool {
			var fe *ForbiddenError
			return errors.As(err, &fe) && fe.Resource == "secrets" && apierrors.IsForbidden(err)
		}},
		{"forbidden configmaps", forbidden, "configmap", func(err error) bool {
			var fe *ForbiddenError
			return errors.As(err, &fe) && fe.Resource == "configmaps"
		}},
		{"other", errors.New("boom"), "", func(err error) bool {
			var nf *NotFoundError
			var fe *ForbiddenError
			return !errors.As(err, &nf) && !errors.As(err, &fe) && err.Error() == "reading release web: boom"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := classify(tt.err, "web", "shop", tt.driver); !tt.check(err) {
				t.Errorf("classify(%v) = %v", tt.err, err)
			}
		})
	}
}
