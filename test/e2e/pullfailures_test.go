package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanPullFailures: pods the kubelet cannot pull for, one per cause,
// their status and Events written as a real kubelet 1.37 with containerd
// writes them (../shared/KUBELET.md has the observed words), against a
// real token registry, a TLS registry, a closed port and a fault proxy
// answering 429 and 503. regcheck reads the kubelet's words, replays each
// pull with the pod's credentials and names the cause (SPEC "Pull
// failures the kubelet reports"). TestRealPullFailures (realpull_test.go)
// has a real kubelet and containerd produce the causes one node can; this
// one pins every reason, some of which (a 503, a forbidden user, a
// node-only failure, Never, an invalid name) that node does not produce.
func TestScanPullFailures(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	users := map[string]env.User{
		"admin":   testUsers["admin"],
		"reader":  testUsers["reader"],
		"limited": {Password: "limited-pw", Pull: []string{"team/web"}},
	}
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken, Users: users})
	tlsReg := startRegistry(t, env.RegistryOptions{TLS: true})
	proxy, err := env.StartFaultProxy(reg,
		&env.FaultRule{Name: "429", Path: `^/v2/team/limited/manifests/`, Fault: status(http.StatusTooManyRequests, "TOOMANYREQUESTS")},
		&env.FaultRule{Name: "503", Path: `^/v2/team/broken/manifests/`, Fault: status(http.StatusServiceUnavailable, "UNAVAILABLE")},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proxy.Close() })
	closed := closedPort(t)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns, node = "pullfail-e2e", "pullfail-node"
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNode(ctx, node, "linux", "amd64"))
	creds := func(user, pass string, hosts ...string) []byte {
		auths := map[string]any{}
		for _, h := range hosts {
			auths[h] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
		}
		b, err := json.Marshal(map[string]any{"auths": auths})
		must(t, err)
		return b
	}
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "regcred", creds("reader", readerPass, reg.Host, proxy.Host)),
		env.DockerConfigSecret(ns, "wrongpw", creds("reader", "not-the-password", reg.Host)),
		env.DockerConfigSecret(ns, "limited", creds("limited", "limited-pw", reg.Host)),
	} {
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
		must(t, err)
	}
	api, err := env.PushRandomImage(reg, "team/api", "1.0", "admin")
	must(t, err)
	web, err := env.PushRandomImage(reg, "team/web", "1.0", "admin")
	must(t, err)
	_, err = env.PushRandomImage(reg, "team/limited", "1.0", "admin")
	must(t, err)

	// M: containerd's error as the kubelet quotes it (KUBELET.md's
	// table, containerd 1.6.20; the 503 in containerd 1.7's words).
	resolve := func(img, rest string) string {
		return fmt.Sprintf("failed to pull and unpack image %q: failed to resolve reference %q: %s", img, img, rest)
	}
	notFound := func(img string) string {
		return "rpc error: code = NotFound desc = " + resolve(img, img+": not found")
	}
	zero := "sha256:" + strings.Repeat("0", 64)
	cases := []struct {
		name    string
		image   string
		secrets []string
		never   bool
		waiting string
		message func(img string) string
		missing []string
		reason  report.Reason
		replay  report.Reason // "" when regcheck does not replay
	}{
		{name: "no-secret", image: api.Ref,
			message: func(img string) string {
				return resolve(img, "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")
			},
			reason: report.ReasonCredentialsRequired, replay: report.ReasonCredentialsRequired},
		{name: "wrong-password", image: api.Ref, secrets: []string{"wrongpw"},
			message: func(img string) string {
				return resolve(img, "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized")
			},
			reason: report.ReasonInvalidCredentials, replay: report.ReasonInvalidCredentials},
		{name: "forbidden", image: api.Ref, secrets: []string{"limited"},
			message: func(img string) string {
				return resolve(img, "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")
			},
			reason: report.ReasonForbidden, replay: report.ReasonScopeNotGranted},
		{name: "no-repository", image: reg.Host + "/team/nope:1.0", secrets: []string{"regcred"}, message: notFound,
			reason: report.ReasonRepositoryNotFound, replay: report.ReasonRepositoryNotFound},
		{name: "no-tag", image: reg.Host + "/team/api:9.9", secrets: []string{"regcred"}, message: notFound,
			reason: report.ReasonTagNotFound, replay: report.ReasonTagNotFound},
		{name: "no-digest", image: reg.Host + "/team/api@" + zero, secrets: []string{"regcred"}, message: notFound,
			reason: report.ReasonTagNotFound, replay: report.ReasonTagNotFound},
		{name: "unknown-ca", image: tlsReg.Host + "/team/api:1.0",
			message: func(img string) string {
				return resolve(img, fmt.Sprintf("failed to do request: Head \"https://%s/v2/team/api/manifests/1.0\": x509: certificate signed by unknown authority", tlsReg.Host))
			},
			reason: report.ReasonTLSError, replay: report.ReasonTLSError},
		{name: "refused", image: closed + "/team/api:1.0",
			message: func(img string) string {
				return resolve(img, fmt.Sprintf("failed to do request: Head \"http://%s/v2/team/api/manifests/1.0\": dial tcp %s: connect: connection refused", closed, closed))
			},
			reason: report.ReasonUnreachable, replay: report.ReasonUnreachable},
		{name: "rate-limited", image: proxy.Ref("team/limited", "1.0"), secrets: []string{"regcred"},
			message: func(img string) string {
				return resolve(img, "pulling from host "+proxy.Host+" failed with status code [manifests v1]: 429 Too Many Requests")
			},
			reason: report.ReasonRateLimited, replay: report.ReasonRateLimited},
		{name: "server-error", image: proxy.Ref("team/broken", "1.0"), secrets: []string{"regcred"},
			message: func(img string) string {
				return resolve(img, fmt.Sprintf("unexpected status from HEAD request to http://%s/v2/team/broken/manifests/1.0: 503 Service Unavailable", proxy.Host))
			},
			reason: report.ReasonServerError, replay: report.ReasonServerError},
		{name: "missing-secret", image: api.Ref, secrets: []string{"gone"}, missing: []string{"gone"},
			message: func(img string) string {
				return resolve(img, "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed")
			},
			reason: report.ReasonIncompleteCredentials, replay: report.ReasonCredentialsRequired},
		{name: "never", image: api.Ref, secrets: []string{"regcred"}, never: true, waiting: "ErrImageNeverPull",
			message: func(img string) string {
				return fmt.Sprintf("Container image %q is not present with pull policy of Never", img)
			},
			reason: report.ReasonNeverPull, replay: report.ReasonOk},
		{name: "node-only", image: web.Ref, secrets: []string{"regcred"},
			message: func(img string) string {
				return resolve(img, fmt.Sprintf("failed to do request: Head \"http://%s/v2/team/web/manifests/1.0\": dial tcp %s: i/o timeout", reg.Host, reg.Host))
			},
			reason: report.ReasonPullFailsOnNode, replay: report.ReasonOk},
		{name: "bad-name", image: "Shop/API:1.0", waiting: "InvalidImageName",
			message: func(img string) string {
				return fmt.Sprintf("Failed to apply default image tag %q: couldn't parse image name %q: invalid reference format: repository name (library/Shop/API) must be lowercase", img, img)
			},
			reason: report.ReasonInvalidReference},
	}
	for _, tc := range cases {
		ps := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: tc.image}}}
		if tc.never {
			ps.Containers[0].ImagePullPolicy = corev1.PullNever
		}
		for _, sec := range tc.secrets {
			ps.ImagePullSecrets = append(ps.ImagePullSecrets, corev1.LocalObjectReference{Name: sec})
		}
		pods, err := c.RunDeployment(ctx, ns, tc.name, 1, ps, node, nil)
		must(t, err)
		waiting := tc.waiting
		if waiting == "" {
			waiting = "ImagePullBackOff"
		}
		must(t, c.FailPull(ctx, ns, pods[0].Name, node, env.PullFailure{
			Container: "app", Waiting: waiting, Message: tc.message(tc.image), MissingSecrets: tc.missing,
		}))
	}
	// A pod that pulled gets no workload.pull result.
	_, err = c.RunDeployment(ctx, ns, "running", 1, spec1(web.Ref, "regcred"), node, func(int) map[string]string {
		return map[string]string{"app": web.DigestRef}
	})
	must(t, err)

	before, err := reg.Snapshot()
	must(t, err)
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http")
	if res.Code != 1 {
		t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
	}
	pulls := map[string]report.Result{}
	for _, x := range r.Results {
		if x.Check != report.CheckWorkloadPull {
			continue
		}
		if _, dup := pulls[x.Workload]; dup {
			t.Errorf("two workload.pull results for %s", x.Workload)
		}
		pulls[x.Workload] = x
	}
	for _, tc := range cases {
		got, ok := pulls["Deployment/"+tc.name]
		if !ok {
			t.Errorf("%s: no workload.pull result\n%s", tc.name, dump(r))
			continue
		}
		if got.Status != report.StatusFail || got.Reason != tc.reason {
			t.Errorf("%s: %s/%s, want fail/%s: %s", tc.name, got.Status, got.Reason, tc.reason, got.Message)
		}
		// Result.Pull is not serialised: the JSON carries the replay in
		// evidence, as SPEC names it.
		if replay, _ := got.Evidence["replay"].(string); replay != string(tc.replay) {
			t.Errorf("%s: replay %q, want %q", tc.name, replay, tc.replay)
		}
		if got.Evidence["kubeletMessage"] == "" || got.Evidence["pods"] != float64(1) {
			t.Errorf("%s: evidence %v lacks the kubelet's message or pods=1", tc.name, got.Evidence)
		}
		if got.Remedy == "" {
			t.Errorf("%s: no remedy", tc.name)
		}
	}
	if x, ok := pulls["Deployment/running"]; ok {
		t.Errorf("a pod that pulled got a workload.pull result: %s %s", x.Reason, x.Message)
	}
	// The cluster-side fix first, with this namespace's exact commands: the
	// namespace already holds a secret for the registry (limited's), so
	// attaching it leads, creating one follows.
	if rem := pulls["Deployment/no-secret"].Remedy; !strings.HasPrefix(rem, "attach the pull secret limited that "+ns+" already holds") ||
		!strings.Contains(rem, "kubectl create secret docker-registry regcred -n "+ns) ||
		!strings.Contains(rem, "kubectl patch serviceaccount default -n "+ns+` -p '{"imagePullSecrets":[{"name":"limited"}]}'`) {
		t.Errorf("CredentialsRequired remedy does not lead with the cluster-side commands: %s", rem)
	}
	if strings.Contains(res.Stdout+res.Stderr, readerPass) || strings.Contains(res.Stdout+res.Stderr, "limited-pw") {
		t.Error("a password is in the output")
	}
	after, err := reg.Snapshot()
	must(t, err)
	if diff := env.DiffSnapshots(before, after); len(diff) > 0 {
		t.Errorf("the scan changed registry storage: %v", diff)
	}

	t.Run("golden table and markdown", func(t *testing.T) {
		for _, format := range []string{"table", "markdown"} {
			res := run(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "-o", format)
			out := normalize(res.Stdout, reg.Host)
			for host, name := range map[string]string{tlsReg.Host: "TLS-REGISTRY", proxy.Host: "PROXY", closed: "CLOSED"} {
				out = strings.ReplaceAll(out, host, name)
			}
			golden(t, "pullfailures."+format+".golden", out)
		}
	})

	t.Run("doctor: the incident report's Pull failures section", func(t *testing.T) {
		res := run(t, s, "", "kubectl", "regcheck", "doctor", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http",
			"deploy/no-secret", "deploy/node-only", "deploy/rate-limited", "-o", "markdown")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		_, section, ok := strings.Cut(res.Stdout, "\n## Pull failures\n")
		if !ok {
			t.Fatalf("no Pull failures section:\n%s", res.Stdout)
		}
		section, _, _ = strings.Cut(section, "\n## ")
		out := strings.ReplaceAll(normalize(section, reg.Host), proxy.Host, "PROXY")
		golden(t, "pullfailures.doctor.golden", out)
	})

	t.Run("a user who may not list events", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--context", c.ViewerContext, "--plain-http")
		if res.Code != 1 {
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		var skips int
		for _, x := range r.Results {
			if x.Check == report.CheckClusterRead && x.Status == report.StatusSkip && strings.Contains(x.Message, "events") {
				skips++
			}
		}
		if skips != 1 {
			t.Errorf("%d cluster.read skips about events, want 1:\n%s", skips, dump(r))
		}
		// The waiting state alone still names the cause.
		var n int
		for _, x := range r.Results {
			if x.Check == report.CheckWorkloadPull {
				n++
				if x.Workload == "Deployment/unknown-ca" && x.Reason != report.ReasonTLSError {
					t.Errorf("without events, unknown-ca: %s, want TLSError from the waiting message", x.Reason)
				}
			}
		}
		if n != len(cases) {
			t.Errorf("%d workload.pull results without events, want %d", n, len(cases))
		}
	})
}

// status answers a request with code and an OCI error body, as a registry
// or its front end does.
func status(code int, errCode string) env.Fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, errCode, http.StatusText(code))
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + freePort(t)
}
