package kube

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// fieldSource selects Secrets by the LIST's field selector, as the API
// server does (client-go's fake clientset ignores field selectors).
type fieldSource struct{ Source }

func (s fieldSource) List(ctx context.Context, resource, ns string, opts metav1.ListOptions) ([]runtime.Object, error) {
	objs, err := s.Source.List(ctx, resource, ns, opts)
	if err != nil || opts.FieldSelector == "" || resource != "secrets" {
		return objs, err
	}
	sel, err := fields.ParseSelector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	var out []runtime.Object
	for _, o := range objs {
		sec := o.(*corev1.Secret)
		if sel.Matches(fields.Set{"type": string(sec.Type), "metadata.name": sec.Name, "metadata.namespace": sec.Namespace}) {
			out = append(out, o)
		}
	}
	return out, nil
}

// twoNamespaces is secretObjects in prod and the same in dev, with a
// Helm release Secret in each.
func twoNamespaces() []runtime.Object {
	var out []runtime.Object
	for _, namespace := range []string{ns, "dev"} {
		for _, o := range secretObjects() {
			o = o.DeepCopyObject()
			o.(metav1.Object).SetNamespace(namespace)
			out = append(out, o)
		}
		out = append(out, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1.web.v1", Namespace: namespace},
			Type:       helmReleaseType,
			Data:       map[string][]byte{"release": []byte(strings.Repeat("x", 1<<10))},
		})
	}
	return out
}

// listed names the LISTs client was asked, as "RESOURCE NAMESPACE
// FIELDSELECTOR".
func listed(client *fake.Clientset) []string {
	var out []string
	for _, a := range client.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok {
			out = append(out, a.GetResource().Resource+" "+a.GetNamespace()+" "+l.GetListRestrictions().Fields.String())
		}
	}
	slices.Sort(out)
	return out
}

// pullSecretsOf reads, with r, what the kubelet uses for the pods of
// TestPullSecretsKubeletOrder's cases in prod and dev.
func pullSecretsOf(t *testing.T, r *PullSecretReader) []PullSecrets {
	t.Helper()
	var out []PullSecrets
	for _, namespace := range []string{ns, "dev"} {
		for _, c := range []struct {
			sa      string
			secrets []string
		}{{"builder", []string{"wrong", "right"}}, {"builder", nil}, {"default", nil}, {"", []string{"opaque", "malformed", "nope", "legacy", "sh.helm.release.v1.web.v1"}}} {
			ps, err := r.PullSecrets(context.Background(), namespace, c.sa, c.secrets)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ps)
		}
	}
	return out
}

func samePullSecrets(t *testing.T, got, want []PullSecrets) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d answers, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].Refs, want[i].Refs) || got[i].Via != want[i].Via || len(got[i].Entries) != len(want[i].Entries) || !slices.Equal(reasons(got[i].Problems), reasons(want[i].Problems)) {
			t.Errorf("answer %d: %+v, want %+v", i, got[i], want[i])
		}
		for j := range want[i].Problems {
			if j < len(got[i].Problems) && got[i].Problems[j].Message != want[i].Problems[j].Message {
				t.Errorf("answer %d problem %d: %q, want %q", i, j, got[i].Problems[j].Message, want[i].Problems[j].Message)
			}
		}
	}
}

// TestPullSecretsAllNamespaces: a reader of all namespaces lists the
// Secrets and the ServiceAccounts once across namespaces, not once per
// namespace, and answers as a LIST per namespace does; when that LIST is
// refused it falls back to a LIST per namespace.
func TestPullSecretsAllNamespaces(t *testing.T) {
	perNamespace := pullSecretsOf(t, NewPullSecretReader(fieldSource{Direct(fake.NewClientset(twoNamespaces()...))}))

	client := fake.NewClientset(twoNamespaces()...)
	r := NewPullSecretReader(fieldSource{Direct(client)})
	r.AllNamespaces()
	samePullSecrets(t, pullSecretsOf(t, r), perNamespace)
	// One LIST of each across namespaces; by name only the Helm release
	// named as a pull secret and the missing one ("nope"; "missing" is
	// the builder ServiceAccount's), per namespace.
	want := []string{
		"secrets  type!=" + helmReleaseType,
		"secrets dev metadata.name=missing", "secrets dev metadata.name=nope", "secrets dev metadata.name=sh.helm.release.v1.web.v1",
		"secrets prod metadata.name=missing", "secrets prod metadata.name=nope", "secrets prod metadata.name=sh.helm.release.v1.web.v1",
		"serviceaccounts  ",
	}
	if got := listed(client); !slices.Equal(got, want) {
		t.Errorf("LISTs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	refused := fake.NewClientset(twoNamespaces()...)
	refused.PrependReactor("list", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == metav1.NamespaceAll {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", nil)
		}
		return false, nil, nil
	})
	r = NewPullSecretReader(fieldSource{Direct(refused)})
	r.AllNamespaces()
	samePullSecrets(t, pullSecretsOf(t, r), perNamespace)
}

// TestPullSecretsHelmRelease: the Secrets LIST leaves Helm's release
// records on the API server (type!=helm.sh/release.v1); one named as a
// pull secret is still reported for its type, and a missing one as
// missing.
func TestPullSecretsHelmRelease(t *testing.T) {
	client := fake.NewClientset(twoNamespaces()...)
	ps, err := NewPullSecretReader(fieldSource{Direct(client)}).PullSecrets(context.Background(), ns, "", []string{"sh.helm.release.v1.web.v1", "nope", "right"})
	if err != nil {
		t.Fatal(err)
	}
	want := []report.Reason{report.ReasonMalformedCredentials, report.ReasonIncompleteCredentials}
	if got := reasons(ps.Problems); !slices.Equal(got, want) {
		t.Fatalf("problems %v, want %v", got, want)
	}
	if m := ps.Problems[0].Message; !strings.Contains(m, "has type "+helmReleaseType) {
		t.Errorf("the release's problem %q does not name its type", m)
	}
	if m := ps.Problems[1].Message; !strings.Contains(m, "does not exist") {
		t.Errorf("the missing secret's problem %q does not say it is missing", m)
	}
	if len(ps.Entries) != 1 {
		t.Errorf("%d entries, want the right secret's", len(ps.Entries))
	}
	if got := listed(client); len(got) == 0 || got[0] != "secrets prod metadata.name=nope" || !slices.Contains(got, "secrets prod type!="+helmReleaseType) {
		t.Errorf("LISTs %v: want the namespace's without Helm's releases", got)
	}
}
