package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

const manifests = `# leading comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
      - name: init
        image: reg.example/team/init:1.0
      containers:
      - name: app
        image: reg.example/team/web:latest
        imagePullPolicy: IfNotPresent
      - name: side
        image: sha256:0123456789012345678901234567890123456789012345678901234567890123
---
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  containers:
  - name: not-a-workload
    image: reg.example/nope:1
---
apiVersion: v1
kind: List
items:
- apiVersion: batch/v1
  kind: CronJob
  metadata: {name: cj, namespace: other}
  spec:
    schedule: "* * * * *"
    jobTemplate:
      spec:
        template:
          spec:
            containers:
            - name: c
              image: "reg.example/team/cj:2"
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web}
  spec:
    template:
      spec:
        containers:
        - name: app
          image: reg.example/team/web:2
`

const podJSON = `{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p"},
  "spec": {
    "containers": [{"name": "x", "image": "reg.example/a:1"}],
    "ephemeralContainers": [{"name": "dbg", "image": "reg.example/dbg:1"}]
  }
}`

func TestDecode(t *testing.T) {
	d, err := Decode([]Input{{Name: "m.yaml", Data: []byte(manifests)}, {Name: "p.json", Data: []byte(podJSON)}}, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if d.Objects != 5 {
		t.Errorf("Objects = %d, want 5 (Deployment, Widget, CronJob, Deployment, Pod)", d.Objects)
	}
	type img struct {
		file, ns, workload, container, image string
		line                                 int
		ephemeral                            bool
	}
	var got []img
	for _, m := range d.Manifests {
		for _, c := range m.Containers {
			got = append(got, img{m.File, m.Namespace, m.ID(), c.Name, c.Image, m.ImageLines[keyOf(c)], c.Ephemeral})
		}
	}
	want := []img{
		{"m.yaml", "shop", "Deployment/web", "init", "reg.example/team/init:1.0", 11, false},
		{"m.yaml", "shop", "Deployment/web", "app", "reg.example/team/web:latest", 14, false},
		{"m.yaml", "shop", "Deployment/web", "side", "sha256:0123456789012345678901234567890123456789012345678901234567890123", 17, false},
		{"m.yaml", "other", "CronJob/cj", "c", "reg.example/team/cj:2", 42, false},
		// A second object of the same identity takes the second position.
		{"m.yaml", "shop", "Deployment/web", "app", "reg.example/team/web:2", 51, false},
		{"p.json", "shop", "Pod/p", "x", "reg.example/a:1", 6, false},
		{"p.json", "shop", "Pod/p", "dbg", "reg.example/dbg:1", 7, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d images, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("image %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, in := range map[string]string{
		"no kind":      "apiVersion: v1\nmetadata: {name: x}\n",
		"broken yaml":  "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n",
		"wrong fields": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: 3}\n",
	} {
		if _, err := Decode([]Input{{Name: "bad.yaml", Data: []byte(in)}}, ""); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
}

func TestDecodeOldAPIVersion(t *testing.T) {
	d, err := Decode([]Input{{Name: "old.yaml", Data: []byte("apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\nspec: {template: {spec: {containers: [{name: a, image: x:1}]}}}\n")}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Manifests) != 0 || len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "extensions/v1beta1") {
		t.Errorf("manifests %d, notes %q: want the old Deployment noted, not checked", len(d.Manifests), d.Notes)
	}
}

func TestRunOffline(t *testing.T) {
	d, err := Decode([]Input{{Name: "m.yaml", Data: []byte(manifests)}}, "shop")
	if err != nil {
		t.Fatal(err)
	}
	results := Run(context.Background(), d.Manifests, Options{})
	var bare, policy *report.Result
	for i, r := range results {
		if r.File != "m.yaml" || r.Line == 0 {
			t.Errorf("result without position: %+v", r)
		}
		if i > 0 && r.Line < results[i-1].Line {
			t.Errorf("results not in line order: %d after %d", r.Line, results[i-1].Line)
		}
		switch {
		case r.Check == report.CheckImageReference && r.Status == report.StatusFail:
			bare = &results[i]
		case r.Check == report.CheckWorkloadPullPolicy:
			policy = &results[i]
		}
	}
	if bare == nil || bare.Reason != report.ReasonInvalidReference || bare.Line != 17 {
		t.Fatalf("bare digest: %+v", bare)
	}
	// Deployment/web names two repositories: both are offered.
	if c, _ := bare.Evidence["candidates"].([]string); len(c) != 2 {
		t.Errorf("candidates = %v", bare.Evidence["candidates"])
	}
	if policy == nil || policy.Reason != report.ReasonMutableTagIfNotPresent || policy.Line != 14 {
		t.Errorf("pull policy: %+v", policy)
	}
}
