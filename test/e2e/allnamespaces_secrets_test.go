package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanAllNamespacesPullSecrets: `kubectl regcheck -A` reads the pull
// secrets with one LIST across namespaces, not one per namespace, and that
// LIST leaves Helm's release records on the API server
// (type!=helm.sh/release.v1); a release named as a pull secret is still
// reported for its type (one LIST by its name) and a missing secret as
// missing, and the image is checked with the good secret beside them. On
// the real API server (its audit log says what regcheck listed) and token
// registry.
func TestScanAllNamespacesPullSecrets(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns, name = "allns-secrets-e2e", "allns-web"
	release := deployWithReleasePullSecret(ctx, t, c, reg, ns, name)

	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-A", "-l", "app="+name, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (the two secrets' problems)\nstderr: %s", res.Code, res.Stderr)
	}
	for secret, want := range map[string]struct {
		reason report.Reason
		says   string
	}{
		release: {report.ReasonMalformedCredentials, "has type helm.sh/release.v1"},
		"gone":  {report.ReasonIncompleteCredentials, "does not exist"},
	} {
		var found bool
		for _, x := range r.Results {
			if x.Check == report.CheckCredentialsSecret && x.CredentialSource == "secret/"+ns+"/"+secret {
				found = true
				if x.Reason != want.reason || !strings.Contains(x.Message, want.says) {
					t.Errorf("%s: %s %q, want %s saying %q", secret, x.Reason, x.Message, want.reason, want.says)
				}
			}
		}
		if !found {
			t.Errorf("no credentials.secret result for %s:\n%s", secret, dump(r))
		}
	}
	d := expect(t, r, report.CheckWorkloadDigest, report.StatusPass, report.ReasonCurrent)
	if d.Workload != "Deployment/"+name {
		t.Errorf("workload.digest of %s, want Deployment/%s", d.Workload, name)
	}

	// What regcheck listed: the Secrets once across namespaces, without
	// Helm's releases; in the namespace only the two names that LIST did
	// not return. (The apiserver writes an event when a response ends,
	// before kubectl exits.)
	events, err := c.AuditEvents("")
	must(t, err)
	var across int
	var inNamespace []string
	for _, e := range events {
		if !strings.HasPrefix(e.UserAgent, "kubectl-regcheck") || e.Verb != "list" || e.Stage != "ResponseComplete" || e.ObjectRef == nil || e.ObjectRef.Resource != "secrets" {
			continue
		}
		switch e.ObjectRef.Namespace {
		case "":
			if !strings.Contains(e.RequestURI, "fieldSelector=type%21%3Dhelm.sh%2Frelease.v1") {
				t.Errorf("a LIST of every namespace's secrets without the release filter: %s", e.RequestURI)
			}
			across++
		case ns:
			inNamespace = append(inNamespace, e.RequestURI)
		}
	}
	if across == 0 {
		t.Error("no LIST of the secrets across namespaces in the audit log")
	}
	if len(inNamespace) != 2 || !strings.Contains(strings.Join(inNamespace, " "), "metadata.name%3Dgone") || !strings.Contains(strings.Join(inNamespace, " "), "metadata.name%3D"+release) {
		t.Errorf("secrets LISTs in %s: %v, want one by name for %s and gone", ns, inNamespace, release)
	}
}

// deployWithReleasePullSecret writes, in a new namespace ns, a good pull
// secret (regcred), a Helm release record (a Secret of type
// helm.sh/release.v1, 256 KiB as real ones are large) and a running
// Deployment name whose pods name regcred, the release and a missing
// "gone" as pull secrets, for an image pushed to reg; it returns the
// release's Secret name.
func deployWithReleasePullSecret(ctx context.Context, t *testing.T, c *env.Cluster, reg *env.Registry, ns, name string) string {
	t.Helper()
	release := "sh.helm.release.v1." + name + ".v1"
	must(t, c.CreateNamespace(ctx, ns))
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)),
		{ObjectMeta: metav1.ObjectMeta{Name: release, Namespace: ns}, Type: "helm.sh/release.v1",
			Data: map[string][]byte{"release": bytes.Repeat([]byte("H4sI"), 64<<10)}},
	} {
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
		must(t, err)
	}
	web, err := env.PushRandomImage(reg, "team/web", "1.0", "admin")
	must(t, err)
	_, err = c.RunDeployment(ctx, ns, name, 1, corev1.PodSpec{
		Containers:       []corev1.Container{{Name: "app", Image: web.Ref}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}, {Name: release}, {Name: "gone"}},
	}, "", func(int) map[string]string { return map[string]string{"app": web.DigestRef} })
	must(t, err)
	return release
}
