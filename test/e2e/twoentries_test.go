package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanOneSecretTwoEntries: one pull secret may hold two entries that
// match an image, an old password for HOST/team and the current one for
// HOST; the kubelet tries both, the most specific first, so the old one
// is refused and the current one pulls. Both credentials share the
// secret's source. Against a real registry (basic and token auth) and
// the real API server:
//   - a-both names the secret and is current, though its pod reports a
//     config digest, so the scan needs the manifest too (Expand) and must
//     ask it with the credential the HEAD succeeded with;
//   - b-split names two secrets holding the same two credentials in the
//     same order (old, then new): it shares a-both's registry lookup, and
//     must be told "new" worked, not "old" (the first of the answer's
//     source, as a match on source strings would say);
//   - c-stale's secret holds two refused entries: each is named with what
//     it met, one element per attempt (both, though they share a source).
func TestScanOneSecretTwoEntries(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	for _, mode := range []env.AuthMode{env.AuthBasic, env.AuthToken} {
		t.Run(mode.String(), func(t *testing.T) {
			reg := startRegistry(t, env.RegistryOptions{Auth: mode})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			ns := "two-entries-" + mode.String()
			must(t, c.CreateNamespace(ctx, ns))
			must(t, c.CreateNode(ctx, "node-two-entries-"+mode.String(), "linux", "amd64"))
			app, err := env.PushRandomImage(reg, "team/app", "1.0", "admin")
			must(t, err)
			auths := func(entries map[string]string) []byte {
				m := map[string]any{}
				for host, pass := range entries {
					m[host] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("reader:" + pass))}
				}
				b, err := json.Marshal(map[string]any{"auths": m})
				must(t, err)
				return b
			}
			for name, entries := range map[string]map[string]string{
				"both":  {reg.Host + "/team": "old-password", reg.Host: readerPass},
				"old":   {reg.Host: "old-password"},
				"new":   {reg.Host: readerPass},
				"stale": {reg.Host + "/team": "old-password", reg.Host: "older-password"},
			} {
				_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, name, auths(entries)), metav1.CreateOptions{})
				must(t, err)
			}
			node := "node-two-entries-" + mode.String()
			for _, d := range []struct {
				name    string
				secrets []string
			}{{"a-both", []string{"both"}}, {"b-split", []string{"old", "new"}}, {"c-stale", []string{"stale"}}} {
				ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: app.Ref}}}
				for _, sec := range d.secrets {
					ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: sec})
				}
				// A bare config digest, as kind reports it: the verdict
				// needs the manifest, not only the HEAD.
				_, err := c.RunDeployment(ctx, ns, d.name, 1, ps, node, func(int) map[string]string { return map[string]string{"app": app.ConfigDigest} })
				must(t, err)
			}

			r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
			if res.Code != 1 {
				t.Errorf("exit %d, want 1 (c-stale is refused)\nstderr: %s", res.Code, res.Stderr)
			}
			digest := map[string]report.Result{}
			for _, x := range r.Results {
				if x.Check == report.CheckWorkloadDigest {
					digest[x.Workload] = x
				}
			}
			for workload, source := range map[string]string{"Deployment/a-both": "secret/" + ns + "/both", "Deployment/b-split": "secret/" + ns + "/new"} {
				got := digest[workload]
				if got.Status != report.StatusPass || got.Reason != report.ReasonCurrent || got.CredentialSource != source {
					t.Errorf("%s: %s/%s with %q, want pass/Current with %q: %s", workload, got.Status, got.Reason, got.CredentialSource, source, got.Message)
				}
			}
			// Both of c-stale's entries were refused: the evidence names
			// each attempt in order, the most specific entry first, with
			// its own reason (a map keyed by the secret's source made
			// them one).
			stale := digest["Deployment/c-stale"]
			raw, _ := json.Marshal(stale.Evidence["failures"])
			var failures []report.FailedAttempt
			_ = json.Unmarshal(raw, &failures)
			refused := func(key string) report.FailedAttempt {
				return report.FailedAttempt{Credential: "secret/" + ns + "/stale", Key: key, Reason: report.ReasonInvalidCredentials}
			}
			if want := []report.FailedAttempt{refused(reg.Host + "/team"), refused(reg.Host)}; stale.Status != report.StatusFail ||
				stale.Reason != report.ReasonInvalidCredentials || !reflect.DeepEqual(failures, want) {
				t.Errorf("c-stale: %s/%s, failures %s, want %v: %s", stale.Status, stale.Reason, raw, want, stale.Message)
			}
			for _, pass := range []string{readerPass, "old-password", "older-password"} {
				if strings.Contains(res.Stdout+res.Stderr, pass) {
					t.Errorf("a password is in the output")
				}
			}
		})
	}
}
