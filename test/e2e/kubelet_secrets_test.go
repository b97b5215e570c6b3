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
// "email" that is a number) costs the pod every pull secret, the good one
// beside it included: MalformedCredentials on the secret, and the
// workload predicted anonymous, on a real API server and token registry.
func TestScanKubeletRejectsWholeSecret(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "kubelet-secret-e2e"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateNamespace(ctx, ns))
	auth := base64.StdEncoding.EncodeToString([]byte("reader:" + readerPass))
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)),
		env.DockerConfigSecret(ns, "spaced", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+` "}}}`)),
		env.DockerConfigSecret(ns, "numeric-email", []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+auth+`","email":5}}}`)),
	} {
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
		must(err)
	}
	web, err := env.PushRandomImage(reg, "team/web", "1.0", "admin")
	must(err)
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
		must(err)
	}

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	for workload, want := range map[string]report.Reason{
		"Deployment/good":          report.ReasonOk,
		"Deployment/spaced":        report.ReasonCredentialsRequired,
		"Deployment/numeric-email": report.ReasonCredentialsRequired,
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
			if want != report.ReasonOk && (x.Reason != want || x.CredentialSource != "" && x.CredentialSource != "anonymous") {
				t.Errorf("%s %s: %s from %q, want %s anonymously: %s", workload, x.Check, x.Reason, x.CredentialSource, want, x.Message)
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
				found = strings.Contains(x.Message, "other pull secrets")
			}
		}
		if !found {
			t.Errorf("no MalformedCredentials naming the whole-secret consequence for %s:\n%s", bad, dump(r))
		}
	}
}
