package kube

import (
	"context"
	"encoding/base64"
	"github.com/regcheck/regcheck/pkg/imageref"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/report"
)

func dockerSecret(name, host, user, pass string) *corev1.Secret {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`)},
	}
}

func serviceAccount(name string, secrets ...string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	for _, s := range secrets {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return sa
}

func secretObjects() []runtime.Object {
	legacy := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy", Namespace: ns},
		Type:       corev1.SecretTypeDockercfg,
		Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"old.example.com":{"auth":"` +
			base64.StdEncoding.EncodeToString([]byte("u:p")) + `"}}`)},
	}
	malformed := dockerSecret("malformed", "", "", "")
	malformed.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":`)
	spaced := dockerSecret("spaced", "", "", "")
	spaced.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"other.example.com":{"auth":" ` +
		base64.StdEncoding.EncodeToString([]byte("u:p")) + `"}}}`)
	numericEmail := dockerSecret("numeric-email", "", "", "")
	numericEmail.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"other.example.com":{"auth":"` +
		base64.StdEncoding.EncodeToString([]byte("u:p")) + `","email":5}}}`)
	return []runtime.Object{
		spaced, numericEmail,
		dockerSecret("wrong", "registry.example.com", "robot", "old-password"),
		dockerSecret("right", "registry.example.com", "robot", "new-password"),
		dockerSecret("sa-secret", "sa.example.com", "sa", "pw"),
		legacy, malformed,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "opaque", Namespace: ns}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"x": []byte("y")}},
		serviceAccount("default"),
		serviceAccount("builder", "sa-secret", "missing"),
	}
}

func TestPullSecretsKubeletOrder(t *testing.T) {
	tests := []struct {
		name     string
		sa       string
		secrets  []string
		refs     []string
		via      string
		problems []report.Reason
		entries  int
	}{
		{
			name:    "the pod's secrets, in order; the ServiceAccount's are not added",
			sa:      "builder",
			secrets: []string{"wrong", "right"},
			refs:    []string{"secret/prod/wrong", "secret/prod/right"},
			entries: 2,
		},
		{
			name:     "no pod secrets: the ServiceAccount's, as admission copies them",
			sa:       "builder",
			refs:     []string{"secret/prod/sa-secret", "secret/prod/missing"},
			via:      "serviceaccount/prod/builder",
			problems: []report.Reason{report.ReasonIncompleteCredentials},
			entries:  1,
		},
		{
			name: "no secrets at all",
			sa:   "default",
			via:  "serviceaccount/prod/default",
		},
		{
			name:     "wrong type, malformed, missing",
			secrets:  []string{"opaque", "malformed", "nope", "legacy"},
			refs:     []string{"secret/prod/opaque", "secret/prod/malformed", "secret/prod/nope", "secret/prod/legacy"},
			problems: []report.Reason{report.ReasonMalformedCredentials, report.ReasonMalformedCredentials, report.ReasonIncompleteCredentials},
			// The kubelet cannot decode "malformed", so its MakeDockerKeyring
			// fails and "legacy" is not used either.
			entries: 0,
		},
		{
			name:     "a stray space in one secret's auth costs the pod every secret",
			secrets:  []string{"right", "spaced"},
			refs:     []string{"secret/prod/right", "secret/prod/spaced"},
			problems: []report.Reason{report.ReasonMalformedCredentials},
			entries:  0,
		},
		{
			name:     "an email that is a number costs the pod every secret",
			secrets:  []string{"numeric-email", "right"},
			refs:     []string{"secret/prod/numeric-email", "secret/prod/right"},
			problems: []report.Reason{report.ReasonMalformedCredentials},
			entries:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewPullSecretReader(Direct(fake.NewClientset(secretObjects()...)))
			ps, err := r.PullSecrets(context.Background(), ns, tt.sa, tt.secrets)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ps.Refs, tt.refs) || ps.Via != tt.via {
				t.Errorf("refs = %v via %q, want %v via %q", ps.Refs, ps.Via, tt.refs, tt.via)
			}
			if got := reasons(ps.Problems); !slices.Equal(got, tt.problems) {
				t.Errorf("problems = %v (%+v), want %v", got, ps.Problems, tt.problems)
			}
			// Each problem names its secret typed, for code that decides
			// by it (the scan's missing secrets, verify's line).
			for _, p := range ps.Problems {
				if p.Origin != credentials.OriginCluster || p.Secret.Namespace != ns || "secret/"+ns+"/"+p.Secret.Name != p.Source {
					t.Errorf("problem %+v: want OriginCluster and the secret of its source", p)
				}
			}
			if len(ps.Entries) != tt.entries {
				t.Errorf("entries = %d, want %d", len(ps.Entries), tt.entries)
			}
		})
	}
}

// The first secret's password is wrong, the second's right: the kubelet
// tries both, in order, so both must come back from the keyring.
func TestCredentialsBothTried(t *testing.T) {
	r := NewPullSecretReader(Direct(fake.NewClientset(secretObjects()...)))
	kr, problems, err := r.Credentials(context.Background(), ns, "default", []string{"wrong", "right"})
	if err != nil || len(problems) != 0 {
		t.Fatalf("err = %v, problems = %v", err, problems)
	}
	creds := kr.Lookup(mustParse(t, "registry.example.com/team/app:1"))
	var got []string
	for _, c := range creds {
		got = append(got, c.Source)
	}
	if want := []string{"secret/prod/wrong", "secret/prod/right"}; !slices.Equal(got, want) {
		t.Errorf("credentials tried = %v, want %v", got, want)
	}
	if len(kr.Lookup(mustParse(t, "elsewhere.example.com/app:1"))) != 0 {
		t.Error("credentials offered to another host")
	}
}

func TestPullSecretsForbidden(t *testing.T) {
	tests := []struct {
		name      string
		forbidden string
		secrets   []string
		source    string
	}{
		{name: "secrets", forbidden: "secrets", secrets: []string{"right"}, source: "secret/prod/right"},
		{name: "serviceaccounts", forbidden: "serviceaccounts", source: "serviceaccount/prod/builder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(secretObjects()...)
			forbid(client, tt.forbidden)
			kr, problems, err := NewPullSecretReader(Direct(client)).Credentials(context.Background(), ns, "builder", tt.secrets)
			if err != nil {
				t.Fatalf("a forbidden LIST must not fail the scan: %v", err)
			}
			if len(problems) != 1 || problems[0].Reason != report.ReasonCredentialsUnreadable || problems[0].Source != tt.source {
				t.Errorf("problems = %+v, want one CredentialsUnreadable for %s", problems, tt.source)
			}
			if len(kr.Lookup(mustParse(t, "registry.example.com/app"))) != 0 {
				t.Error("want an anonymous keyring")
			}
		})
	}
}

// One LIST of secrets and one of serviceaccounts per namespace, whatever
// the number of workloads, and one LIST by name of the secret the builder
// ServiceAccount names that the first did not return ("missing": the
// secrets LIST leaves Helm's releases out, TestPullSecretsHelmRelease);
// never a GET.
func TestPullSecretsCached(t *testing.T) {
	client := fake.NewClientset(secretObjects()...)
	r := NewPullSecretReader(Direct(client))
	for range 10 {
		for _, sa := range []string{"default", "builder"} {
			if _, _, err := r.Credentials(context.Background(), ns, sa, nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := r.Credentials(context.Background(), ns, sa, []string{"right"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []string
	for _, a := range client.Actions() {
		got = append(got, a.GetVerb()+" "+a.GetResource().Resource)
	}
	slices.Sort(got)
	if want := []string{"list secrets", "list secrets", "list serviceaccounts"}; !slices.Equal(got, want) {
		t.Errorf("API calls = %v, want %v", got, want)
	}
}

func reasons(ps []credentials.Problem) []report.Reason {
	var out []report.Reason
	for _, p := range ps {
		out = append(out, p.Reason)
	}
	return out
}

func mustParse(t *testing.T, image string) imageref.Reference {
	t.Helper()
	ref, err := imageref.Parse(image)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestPullSecretsLookup: what the kubelet uses for one image; a secret it
// cannot decode beside a good one halts the lookup (no credential, no
// anonymous or node pull after it).
func TestPullSecretsLookup(t *testing.T) {
	r := NewPullSecretReader(Direct(fake.NewSimpleClientset(secretObjects()...)))
	ref, err := imageref.Parse("registry.example.com/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	good, err := r.PullSecrets(context.Background(), ns, "default", []string{"right"})
	if err != nil {
		t.Fatal(err)
	}
	if l := good.Lookup(ref); l.Halted || len(l.Credentials) != 1 || l.Credentials[0].Source != "secret/"+ns+"/right" {
		t.Errorf("good secret: halted %v, credentials %v", l.Halted, l.Credentials)
	}
	for _, bad := range []string{"spaced", "numeric-email"} {
		ps, err := r.PullSecrets(context.Background(), ns, "default", []string{"right", bad})
		if err != nil {
			t.Fatal(err)
		}
		l := ps.Lookup(ref)
		if !l.Halted || len(l.Credentials) != 0 || len(l.Problems) != 1 || !l.Problems[0].FailsPulls {
			t.Errorf("%s beside a good secret: halted %v, credentials %v, problems %+v", bad, l.Halted, l.Credentials, l.Problems)
		}
	}
}

// TestUnreferenced: the secrets of the namespace that hold credentials for
// the image but that the pods do not name (their own, else their
// ServiceAccount's), for a remedy that attaches instead of creating.
func TestUnreferenced(t *testing.T) {
	r := NewPullSecretReader(Direct(fake.NewClientset(secretObjects()...)))
	ref, err := imageref.Parse("registry.example.com/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name           string
		serviceAccount string
		podSecrets     []string
		want           []string
	}{
		{"nothing named: both secrets for the host", "default", nil, []string{"right", "wrong"}},
		{"the pod names one: the other", "default", []string{"wrong"}, []string{"right"}},
		{"the ServiceAccount names neither", "builder", nil, []string{"right", "wrong"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Unreferenced(context.Background(), ns, tc.serviceAccount, tc.podSecrets, ref); !slices.Equal(got, tc.want) {
				t.Errorf("Unreferenced = %v, want %v", got, tc.want)
			}
		})
	}
	other, _ := imageref.Parse("elsewhere.example.com/app:1")
	if got := r.Unreferenced(context.Background(), ns, "default", nil, other); len(got) != 0 {
		t.Errorf("a host no secret serves: Unreferenced = %v, want none", got)
	}
}
