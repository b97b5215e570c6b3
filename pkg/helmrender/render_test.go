package helmrender

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestByTemplate(t *testing.T) {
	manifest := "---\n# Source: shop/templates/a.yaml\nkind: A\n---\n# Source: shop/templates/b.yaml\n# a comment\nkind: B\n---\n# Source: shop/templates/a.yaml\nkind: A2\n"
	got := byTemplate(manifest)
	want := []Template{
		{Source: "shop/templates/a.yaml", File: "shop/templates/a.yaml", Text: []byte("kind: A\n---\nkind: A2\n")},
		{Source: "shop/templates/b.yaml", File: "shop/templates/b.yaml", Text: []byte("# a comment\nkind: B\n")},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d templates: %+v", len(got), got)
	}
	for i := range want {
		if got[i].Source != want[i].Source || string(got[i].Text) != string(want[i].Text) {
			t.Errorf("template %d = %q %q, want %q %q", i, got[i].Source, got[i].Text, want[i].Source, want[i].Text)
		}
	}
}

// TestRenderLocalChart renders a chart directory with Helm's action
// package: values, --set, the namespace, hooks, and file paths in the
// directory.
func TestRenderLocalChart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mychart")
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.2.0\n")
	write("values.yaml", "tag: \"1\"\n")
	write("templates/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: {{ .Release.Namespace }}}\nspec:\n  containers:\n  - name: c\n    image: reg/app:{{ .Values.tag }}\n")
	write("templates/hook.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: h\n  annotations: {helm.sh/hook: pre-install}\nspec: {containers: [{name: c, image: reg/hook:1}]}\n")
	r, err := Render(context.Background(), Options{Chart: dir, Set: []string{"tag=2"}, Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Chart != "shop-0.2.0" || len(r.Templates) != 2 {
		t.Fatalf("rendered %s: %+v", r.Chart, r.Templates)
	}
	byFile := map[string]string{}
	for _, tp := range r.Templates {
		byFile[tp.File] = string(tp.Text)
	}
	pod := byFile[filepath.Join(dir, "templates", "pod.yaml")]
	if want := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: reg/app:2\n"; pod != want {
		t.Errorf("pod.yaml rendered as\n%s\nwant\n%s", pod, want)
	}
	if _, ok := byFile[filepath.Join(dir, "templates", "hook.yaml")]; !ok {
		t.Errorf("the hook is not rendered: %v", byFile)
	}
}
