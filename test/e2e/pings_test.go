package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanProvesCredentialOnce: a scan of several repositories on a real
// basic-auth registry, every pod with the same pull secret, sends one
// anonymous GET /v2/ (the ping) and one with the credentials (their
// proof), however many HEADs start at once: 2 in all (it was one proof
// per HEAD in flight).
func TestScanProvesCredentialOnce(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns = "pings-e2e"
	must(t, c.CreateNamespace(ctx, ns))
	_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	const repos = 6
	for i := range repos {
		img, err := env.PushRandomImage(reg, fmt.Sprintf("team/app-%d", i), "1.0", "admin")
		must(t, err)
		_, err = c.RunDeployment(ctx, ns, fmt.Sprintf("app-%d", i), 1, spec1(img.Ref, "regcred"), "",
			func(int) map[string]string { return map[string]string{"app": img.DigestRef} })
		must(t, err)
	}
	reg.ResetStats()
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 0 {
		t.Errorf("exit %d, want 0\nstderr: %s", res.Code, res.Stderr)
	}
	current := 0
	for _, x := range r.Results {
		if x.Check == report.CheckWorkloadDigest && x.Reason == report.ReasonCurrent {
			current++
		}
	}
	if current != repos {
		t.Errorf("%d workloads Current, want %d:\n%s", current, repos, dump(r))
	}
	if st := reg.Stats(); st.Ping != 2 || st.ManifestHead != repos {
		t.Errorf("%+v: want 2 GET /v2/ (the ping, one proof of the credentials) and %d HEADs", st, repos)
	}
}
