package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The watcher answers a scan's LISTs from its informers: the API server
// sees one LIST and one WATCH per resource however many scans read it,
// a Secret keeps only a pull secret's payload, and a resource that may
// not be listed is the API server's Forbidden, as in a one-shot scan.
// The Secrets informer leaves Helm's releases on the API server
// (type!=helm.sh/release.v1); a release looked up by name is found among
// the releases' metadata, listed once, when a scan first asks.
func TestWatcherServesListsFromInformers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{"app": "web"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "keep": "me"}}}
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Namespace: "shop", Labels: map[string]string{"app": "db"}}}
	pull := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred", Namespace: "shop"}, Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`), "extra": []byte("x")}}
	opaque := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db-password", Namespace: "shop"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"password": []byte("hunter2")}}
	release := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.web.v1", Namespace: "shop"}, Type: helmReleaseType,
		Data: map[string][]byte{"release": []byte("H4sI")}}
	// The API server applies the informers' field selectors; the fakes
	// do not, so each holds what its selector returns: the typed one the
	// Secrets but Helm's, the metadata one Helm's release alone.
	client := fake.NewClientset(pod, other, pull, opaque)
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	meta := metadatafake.NewSimpleMetadataClient(scheme, &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: release.ObjectMeta})
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", nil)
	})
	w := NewWatcher(client, meta, "", 0)
	defer w.Close()

	for scan := 0; scan < 3; scan++ {
		pods, err := listAll[corev1.Pod](ctx, w, "pods", "shop", metav1.ListOptions{LabelSelector: "app=web", Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 1 || pods[0].Name != "web-1" {
			t.Fatalf("scan %d: pods = %+v", scan, pods)
		}
		got := pods[0]
		if got.ManagedFields != nil || got.Annotations[corev1.LastAppliedConfigAnnotation] != "" || got.Annotations["keep"] != "me" {
			t.Errorf("pod kept what no scan reads: %+v", got.ObjectMeta)
		}
		// PullSecretReader's field selectors are answered from the cache
		// too, as the API server would select.
		secrets, err := listAll[corev1.Secret](ctx, w, "secrets", "shop", metav1.ListOptions{FieldSelector: notPullSecrets})
		if err != nil {
			t.Fatal(err)
		}
		if len(secrets) != 2 {
			t.Errorf("scan %d: %d secrets but Helm's releases, want 2", scan, len(secrets))
		}
		named, err := listAll[corev1.Secret](ctx, w, "secrets", "shop", metav1.ListOptions{FieldSelector: "metadata.name=" + release.Name})
		if err != nil {
			t.Fatal(err)
		}
		if len(named) != 1 || named[0].Name != release.Name || named[0].Type != helmReleaseType || named[0].Data != nil {
			t.Errorf("scan %d: the release by name = %+v, want it without its payload", scan, named)
		}
		if gone, err := listAll[corev1.Secret](ctx, w, "secrets", "shop", metav1.ListOptions{FieldSelector: "metadata.name=gone"}); err != nil || len(gone) != 0 {
			t.Errorf("scan %d: a secret that does not exist by name = %+v, %v", scan, gone, err)
		}
		for _, s := range secrets {
			switch s.Name {
			case "regcred":
				if len(s.Data) != 1 || s.Data[corev1.DockerConfigJsonKey] == nil {
					t.Errorf("pull secret data = %v", s.Data)
				}
			case "db-password":
				if s.Data != nil {
					t.Error("an opaque secret's payload was cached")
				}
			}
		}
		if _, err := w.List(ctx, "nodes", "", metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("nodes: %v, want Forbidden", err)
		}
	}

	reads := map[string]int{}
	for _, a := range client.Actions() {
		reads[a.GetVerb()+" "+a.GetResource().Resource]++
		var f string
		switch a := a.(type) {
		case k8stesting.ListAction:
			f = a.GetListRestrictions().Fields.String()
		case k8stesting.WatchAction:
			f = a.GetWatchRestrictions().Fields.String()
		}
		if a.GetResource().Resource == "secrets" && f != notPullSecrets {
			t.Errorf("the Secrets informer's %s has field selector %q, want %q", a.GetVerb(), f, notPullSecrets)
		}
	}
	var metaReads []string
	for _, a := range meta.Actions() {
		var f string
		switch a := a.(type) {
		case k8stesting.ListAction:
			f = a.GetListRestrictions().Fields.String()
		case k8stesting.WatchAction:
			f = a.GetWatchRestrictions().Fields.String()
		}
		if a.GetResource().Resource != "secrets" || f != helmReleases {
			t.Errorf("the metadata client sent %s %s, want only the releases' LIST and WATCH", a.GetVerb(), a.GetResource().Resource)
		}
		metaReads = append(metaReads, a.GetVerb())
	}
	if strings.Join(metaReads, " ") != "list watch" {
		t.Errorf("releases' metadata read with %v for three scans, want one LIST and one WATCH", metaReads)
	}
	for _, resource := range []string{"pods", "secrets"} {
		if reads["list "+resource] != 1 || reads["watch "+resource] != 1 {
			t.Errorf("%s: %d LISTs and %d WATCHes for three scans, want one each", resource, reads["list "+resource], reads["watch "+resource])
		}
	}
	for verb := range reads {
		switch v, _, _ := strings.Cut(verb, " "); v {
		case "list", "watch":
		default:
			t.Errorf("the watcher sent %s", verb)
		}
	}
}
