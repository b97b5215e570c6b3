package e2e

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanKubeletRejectsWholeSecret: a pull secret the API server accepts
// (valid JSON) but the kubelet cannot decode (a stray space in "auth", an
// "email" that is a number) fails every pull of the pod before any
// registry is asked, the good secret beside it notwithstanding:
// MalformedCredentials on the secret and on the workload's registry.pull,
// on a real API server and token registry. (TestRealKubeletUndecodableSecret
// shows the real kubelet doing it.)
func TestScanKubeletRejectsWholeSecret(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "kubelet-secret-e2e"
	must(t, c.CreateNamespace(ctx, ns))
	auth := base64.StdEncoding.EncodeToString([]byte("reader:" + readerPass))
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)),
		env.DockerConfigSecret(ns, "spaced", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+` "}}}`)),
		env.DockerConfigSecret(ns, "numeric-email", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`","email":5}}}`)),
	} {
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
		must(t, err)
	}
	web, err := env.PushRandomImage(reg, "team/web", "1.0", "admin")
	must(t, err)
	spec := func(secrets ...string) corev1.PodSpec {
		ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: web.Ref}}}
		for _, s := range secrets {
			ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return ps
	}
	for name, ps := range map[string]corev1.PodSpec{
		"good":          spec("regcred"),
		"spaced":        spec("regcred", "spaced"),
		"numeric-email": spec("numeric-email", "regcred"),
	} {
		_, err := c.RunDeployment(ctx, ns, name, 1, ps, "", nil)
		must(t, err)
	}

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	for workload, want := range map[string]report.Reason{
		"Deployment/good":          report.ReasonOk,
		"Deployment/spaced":        report.ReasonMalformedCredentials,
		"Deployment/numeric-email": report.ReasonMalformedCredentials,
	} {
		var found bool
		for _, x := range r.Results {
			if x.Workload != workload || x.Check != report.CheckRegistryPull && x.Check != report.CheckWorkloadDigest {
				continue
			}
			found = true
			if want == report.ReasonOk && x.Status == report.StatusFail {
				t.Errorf("%s %s: %s/%s: %s", workload, x.Check, x.Status, x.Reason, x.Message)
			}
			bad := "secret/" + ns + "/" + strings.TrimPrefix(workload, "Deployment/")
			if want != report.ReasonOk && (x.Check != report.CheckRegistryPull || x.Reason != want || x.CredentialSource != bad) {
				t.Errorf("%s %s: %s from %q, want registry.pull %s from %s: %s", workload, x.Check, x.Reason, x.CredentialSource, want, bad, x.Message)
			}
		}
		if !found {
			t.Errorf("no pull or digest result for %s:\n%s", workload, dump(r))
		}
	}
	for _, bad := range []string{"spaced", "numeric-email"} {
		var found bool
		for _, x := range r.Results {
			if x.Check == report.CheckCredentialsSecret && x.Reason == report.ReasonMalformedCredentials && strings.HasSuffix(x.CredentialSource, "/"+bad) {
				found = strings.Contains(x.Message, "fails every image pull")
			}
		}
		if !found {
			t.Errorf("no MalformedCredentials naming the whole-secret consequence for %s:\n%s", bad, dump(r))
		}
	}

	// auth with the same secrets: the kubelet asks no registry, so the
	// probe does not go on anonymously either.
	r, res = runJSON(t, s, "", "kubectl", "regcheck", "auth", web.Ref, "--pull-secret", "regcred", "--pull-secret", "spaced", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("auth: exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonMalformedCredentials)
	for _, x := range r.Results {
		if x.Check == report.CheckRegistryPull {
			t.Errorf("auth probed the pull (%s from %q) though the kubelet would not", x.Reason, x.CredentialSource)
		}
	}
}

// TestRealKubeletUndecodableSecret: the real kubelet (1.37, with
// containerd) given a pod whose only pull secret has a stray space in
// "auth" does not pull anonymously, though anyone may pull the image: it
// fails before asking the registry, the container waiting with the
// decoding error as its reason. regcheck says so: registry.pull fail
// MalformedCredentials naming the secret, the kubelet's reason in evidence.
func TestRealKubeletUndecodableSecret(t *testing.T) {
	c, n := sharedNode(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{}) // anonymous pulls
	if err := n.AddRegistry(reg, env.HostOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const ns = "real-undecodable"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("reader:" + readerPass))
	if _, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "spaced", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+` "}}}`)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	img, err := env.PushRunnableImage(reg, "open/app", "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	p := runPod(t, c, n, ns, "spaced", spec1(img.Ref, "spaced"), func(p *corev1.Pod) bool {
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Running != nil || st.State.Waiting != nil && st.State.Waiting.Reason != "ContainerCreating" {
				return true
			}
		}
		return false
	})
	t.Cleanup(func() { deletePod(t, c, ns, "spaced") })
	st := p.Status.ContainerStatuses[0]
	if st.State.Waiting == nil || !strings.HasPrefix(st.State.Waiting.Reason, "illegal base64 data") {
		t.Fatalf("the real kubelet: %+v, want waiting on the decoding error", st.State)
	}
	t.Logf("the real kubelet: waiting %q", st.State.Waiting.Reason)

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "scan", "pod/spaced", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	got := expect(t, r, report.CheckRegistryPull, report.StatusFail, report.ReasonMalformedCredentials)
	if got.CredentialSource != "secret/"+ns+"/spaced" || got.Evidence["kubeletReason"] != st.State.Waiting.Reason {
		t.Errorf("registry.pull from %q, evidence %v: want the secret and the kubelet's reason %q", got.CredentialSource, got.Evidence, st.State.Waiting.Reason)
	}
}
