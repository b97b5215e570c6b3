package scan

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

const (
	appRef   = "registry.example.com/team/app:1.0"
	multiRef = "registry.example.com/team/multi:2"
)

func resolver() *fakeResolver {
	return &fakeResolver{
		answers: map[string]registry.Resolution{
			appRef: {Digest: dg("a"), ConfigDigest: dg("c"), CredentialSource: "anonymous"},
			multiRef: {Digest: dg("1"), Children: []registry.Child{
				{Digest: dg("2"), OS: "linux", Architecture: "amd64", ConfigDigest: dg("3")},
				{Digest: dg("4"), OS: "linux", Architecture: "arm64", ConfigDigest: dg("5")},
			}},
			"registry.example.com/team/app@" + dg("a"): {Digest: dg("a")},
		},
		fail: map[string]*registry.Failure{
			"registry.example.com/team/private:1": {
				Reason: report.ReasonForbidden,
				Fault: report.Fault{Cause: report.CauseDenied, Registry: "registry.example.com", Repository: "team/private",
					Seen: report.Seen{Reference: "registry.example.com/team/private:1", Credential: "anonymous", RegistryMessage: "denied: requested access to the resource is denied"}},
				Evidence: report.Evidence{"status": 403},
			},
		},
	}
}

// digestResult runs one workload and returns its workload.digest result.
func digestResult(t *testing.T, w kube.Workload) report.Result {
	t.Helper()
	results := Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{w}}, nil, Options{Resolver: resolver()})
	for _, r := range results {
		if r.Check == report.CheckWorkloadDigest {
			return r
		}
	}
	t.Fatalf("no workload.digest result in %+v", results)
	return report.Result{}
}

func TestDigestVerdicts(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	app := "registry.example.com/team/app:1.0"
	multi := "registry.example.com/team/multi:2"
	tests := []struct {
		name     string
		w        kube.Workload
		status   report.Status
		reason   report.Reason
		message  string // a substring
		remedy   string // a substring
		evidence map[string]any
	}{
		{
			name:   "current: repo digests from every runtime",
			w:      deploy("web", app, ifnp, runningPod("a", "docker-pullable://registry.example.com/team/app@"+dg("a"), ""), runningPod("b", "registry.example.com/team/app@"+dg("a"), "")),
			status: report.StatusPass, reason: report.ReasonCurrent, message: "all 2 pods run the current digest",
		},
		{
			name:   "current: a single manifest's config digest (kind)",
			w:      deploy("web", app, ifnp, runningPod("a", dg("c"), "")),
			status: report.StatusPass, reason: report.ReasonCurrent, message: "its pod runs",
		},
		{
			name:   "stale",
			w:      deploy("web", app, corev1.PullAlways, runningPod("a", "registry.example.com/team/app@"+dg("0"), ""), runningPod("b", "registry.example.com/team/app@"+dg("0"), "")),
			status: report.StatusFail, reason: report.ReasonStale,
			message:  "2 pods run sha256:000000000000 (started 2024-05-01T12:00:00Z)",
			remedy:   "kubectl rollout restart deployment/web -n prod; better: pin registry.example.com/team/app@" + dg("a"),
			evidence: map[string]any{"currentDigest": dg("a"), "runningDigests": map[string]int{dg("0"): 2}},
		},
		{
			name:   "stale with IfNotPresent says restarting is not enough",
			w:      deploy("web", app, ifnp, runningPod("a", dg("0"), "")),
			status: report.StatusFail, reason: report.ReasonStale,
			remedy: "set imagePullPolicy: Always (now IfNotPresent)",
		},
		{
			name: "mixed with counts",
			w: deploy("web", app, ifnp,
				runningPod("a", "registry.example.com/team/app@"+dg("a"), ""),
				runningPod("b", "registry.example.com/team/app@"+dg("0"), ""),
				runningPod("c", "registry.example.com/team/app@"+dg("0"), ""),
				runningPod("d", "registry.example.com/team/app@"+dg("9"), "")),
			status: report.StatusWarn, reason: report.ReasonMixed,
			message:  "1 of 4 pods run the current digest of team/app:1.0 (sha256:aaaaaaaaaaaa); 2 pods run sha256:000000000000 (started 2024-05-01T12:00:00Z), 1 pod runs sha256:999999999999",
			evidence: map[string]any{"runningDigests": map[string]int{dg("a"): 1, dg("0"): 2, dg("9"): 1}},
		},
		{
			name: "multi-arch: index, platform child and its config digest are all current",
			w: deploy("multi", multi, ifnp,
				runningPod("index", "registry.example.com/team/multi@"+dg("1"), "amd64"),
				runningPod("child", "registry.example.com/team/multi@"+dg("4"), "arm64"),
				runningPod("config", dg("3"), "amd64"),
				runningPod("unknown-platform", dg("5"), "")),
			status: report.StatusPass, reason: report.ReasonCurrent, message: "all 4 pods",
		},
		{
			name:   "multi-arch: another platform's child is not current",
			w:      deploy("multi", multi, ifnp, runningPod("a", "registry.example.com/team/multi@"+dg("2"), "arm64")),
			status: report.StatusFail, reason: report.ReasonStale,
		},
		{
			name:   "pinned digest that exists",
			w:      deploy("web", "registry.example.com/team/app@"+dg("a"), ifnp, runningPod("a", dg("c"), "")),
			status: report.StatusPass, reason: report.ReasonPinned, message: "the spec pins sha256:aaaaaaaaaaaa",
		},
		{
			name:   "pinned digest that does not exist",
			w:      deploy("web", "registry.example.com/team/app:1.0@"+dg("b"), ifnp),
			status: report.StatusFail, reason: report.ReasonTagNotFound, message: "the pinned digest sha256:bbbbbbbbbbbb does not exist",
		},
		{
			name:   "not running: no imageID yet",
			w:      deploy("web", app, ifnp, runningPod("a", "", "")),
			status: report.StatusSkip, reason: report.ReasonNotRunning, message: "no pod reports an image ID for container app",
			remedy: "kubectl describe pod a -n prod",
		},
		{
			name:   "not running: no pods",
			w:      deploy("web", app, ifnp),
			status: report.StatusSkip, reason: report.ReasonNotRunning, message: "Deployment/web has no pods",
		},
		{
			name:   "registry failure propagated",
			w:      deploy("web", "registry.example.com/team/private:1", ifnp, runningPod("a", dg("0"), "")),
			status: report.StatusFail, reason: report.ReasonForbidden, message: "denied", remedy: "grant this account pull access to team/private",
			evidence: map[string]any{"status": 403},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := digestResult(t, tt.w)
			if r.Status != tt.status || r.Reason != tt.reason {
				t.Fatalf("got %s/%s (%s), want %s/%s", r.Status, r.Reason, r.Message, tt.status, tt.reason)
			}
			if !strings.Contains(r.Message, tt.message) {
				t.Errorf("message %q lacks %q", r.Message, tt.message)
			}
			if !strings.Contains(r.Remedy, tt.remedy) {
				t.Errorf("remedy %q lacks %q", r.Remedy, tt.remedy)
			}
			if r.Status == report.StatusPass && r.Remedy != "" || (r.Status == report.StatusFail || r.Status == report.StatusWarn) && r.Remedy == "" {
				t.Errorf("remedy %q: want one exactly when failing or warning", r.Remedy)
			}
			for k, v := range tt.evidence {
				if got := fmt.Sprint(r.Evidence[k]); got != fmt.Sprint(v) {
					t.Errorf("evidence[%s] = %s, want %v", k, got, v)
				}
			}
			if r.Namespace != "prod" || r.Workload != tt.w.ID() || r.Container != "app" || r.Registry != "registry.example.com" || r.CredentialSource == "" {
				t.Errorf("result fields = %+v", r)
			}
		})
	}
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image  string
		policy corev1.PullPolicy
		warn   bool
	}{
		{"registry.example.com/team/app", corev1.PullIfNotPresent, true},
		{"registry.example.com/team/app:latest", corev1.PullNever, true},
		{"registry.example.com/team/app:latest", corev1.PullAlways, false},
		{"registry.example.com/team/app:1.0", corev1.PullIfNotPresent, false},
		{"registry.example.com/team/app@" + dg("a"), corev1.PullIfNotPresent, false},
	}
	for _, tt := range tests {
		inv := &kube.Inventory{Workloads: []kube.Workload{deploy("web", tt.image, tt.policy)}}
		var got []report.Result
		for _, r := range Check(context.Background(), inv, nil, Options{}) {
			if r.Check == report.CheckWorkloadPullPolicy {
				got = append(got, r)
			}
		}
		if (len(got) == 1) != tt.warn {
			t.Errorf("%s with %s: results %+v, want warning %v", tt.image, tt.policy, got, tt.warn)
			continue
		}
		if tt.warn {
			r := got[0]
			if r.Status != report.StatusWarn || r.Reason != report.ReasonMutableTagIfNotPresent ||
				!strings.Contains(r.Remedy, "imagePullPolicy: Always") || !strings.Contains(r.Remedy, "kubectl rollout restart deployment/web -n prod") {
				t.Errorf("result = %+v", r)
			}
			// Which kubelets share a cached image with which pods.
			versions := strings.Contains(r.Message, "before 1.35") && strings.Contains(r.Message, "KubeletEnsureSecretPulledImages")
			if versions != (tt.policy == corev1.PullIfNotPresent) {
				t.Errorf("%s: message %q: kubelet versions named %v", tt.policy, r.Message, versions)
			}
		}
	}
}

func TestInvalidReference(t *testing.T) {
	for image, msg := range map[string]string{
		dg("a"):                        "is a bare digest: it names no repository",
		"sha256:abc":                   `"sha256:abc" is a bare digest: it names no repository (write REPOSITORY@sha256:abc)`,
		"Registry.Example.com/UPPER:1": "must be lowercase",
		"UPPER/case:1":                 `"UPPER/case:1" does not parse as an image reference: invalid reference format: repository name (UPPER/case) must be lowercase`,
		"https://gcr.io/foo/bar":       `"https://gcr.io/foo/bar" does not parse as an image reference: https:// is a URL scheme; an image reference has none`,
		"0_0.0/0":                      "0_0.0 looks like a registry host but is not a valid host name",
		"":                             "the container has no image",
	} {
		inv := &kube.Inventory{Workloads: []kube.Workload{deploy("web", image, corev1.PullIfNotPresent)}}
		res := &fakeResolver{}
		results := Check(context.Background(), inv, nil, Options{Resolver: res})
		if len(results) != 1 || results[0].Check != report.CheckImageReference || results[0].Reason != report.ReasonInvalidReference || results[0].Status != report.StatusFail {
			t.Errorf("%q: results = %+v", image, results)
		} else if !strings.Contains(results[0].Message, msg) {
			t.Errorf("%q: message %q, want it to say %q", image, results[0].Message, msg)
		}
		if res.calls.Load() != 0 {
			t.Errorf("%q: resolved an invalid reference", image)
		}
	}
}

// A hundred workloads on one image with the same credentials: one lookup.
func TestResolveOncePerImageAndCredentials(t *testing.T) {
	var inv kube.Inventory
	for i := range 100 {
		inv.Workloads = append(inv.Workloads, deploy(fmt.Sprintf("web-%03d", i), appRef, corev1.PullIfNotPresent, runningPod("a", dg("a"), "")))
	}
	res := resolver()
	results := Check(context.Background(), &inv, staticCreds(fakeKeychain{{Source: "secret/prod/a", Username: "u", Password: "p"}}), Options{Resolver: res, Concurrency: 8})
	if n := res.calls.Load(); n != 1 {
		t.Errorf("Head calls = %d, want 1", n)
	}
	if len(results) != 100 {
		t.Errorf("results = %d, want 100", len(results))
	}
	for _, r := range results {
		if r.Reason != report.ReasonCurrent {
			t.Fatalf("result = %+v", r)
		}
	}
}

func TestConcurrencyBounded(t *testing.T) {
	var inv kube.Inventory
	res := &fakeResolver{answers: map[string]registry.Resolution{}, delay: 20 * time.Millisecond}
	for i := range 12 {
		ref := fmt.Sprintf("registry.example.com/team/app%d:1", i)
		res.answers[ref] = registry.Resolution{Digest: dg("a")}
		inv.Workloads = append(inv.Workloads, deploy(fmt.Sprintf("w%d", i), ref, corev1.PullIfNotPresent))
	}
	Check(context.Background(), &inv, nil, Options{Resolver: res, Concurrency: 3})
	if res.calls.Load() != 12 || res.maxSeen.Load() > 3 {
		t.Errorf("calls = %d, max in flight = %d; want 12 calls, at most 3 at once", res.calls.Load(), res.maxSeen.Load())
	}
}

func TestCredentials(t *testing.T) {
	wrong := credentials.Credential{Source: "secret/prod/wrong", Username: "robot", Password: "old"}
	right := credentials.Credential{Source: "secret/prod/right", Username: "robot", Password: "new"}
	missing := credentials.Problem{Source: "secret/prod/gone", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "gone"}, Reason: report.ReasonIncompleteCredentials, Message: "gone", Remedy: "create it"}

	t.Run("every credential reaches the resolver in kubelet order; problems once", func(t *testing.T) {
		inv := &kube.Inventory{Workloads: []kube.Workload{
			deploy("a", appRef, corev1.PullIfNotPresent, runningPod("a", dg("a"), "")),
			deploy("b", appRef, corev1.PullIfNotPresent),
		}}
		inv.Workloads[1].ServiceAccountName = "other" // another credential lookup, same problem
		res := resolver()
		results := Check(context.Background(), inv, staticCreds(fakeKeychain{wrong, right}, missing), Options{Resolver: res})
		if got := res.creds[appRef]; !slices.Equal(got, []string{"secret/prod/wrong", "secret/prod/right"}) {
			t.Errorf("resolver got credentials %v", got)
		}
		var problems []report.Result
		for _, r := range results {
			if r.Check == report.CheckCredentialsSecret {
				problems = append(problems, r)
			}
		}
		if len(problems) != 1 || problems[0].Status != report.StatusFail || problems[0].CredentialSource != "secret/prod/gone" || problems[0].Namespace != "prod" {
			t.Errorf("credential results = %+v, want one fail for secret/prod/gone", problems)
		}
		for _, r := range results {
			if strings.Contains(fmt.Sprintf("%v", r), "new") || strings.Contains(fmt.Sprintf("%v", r), "old") {
				t.Errorf("a password leaked into %+v", r)
			}
		}
	})

	t.Run("unreadable secrets: warn, scan anonymously, say the kubelet may differ", func(t *testing.T) {
		unreadable := credentials.Problem{Source: "secret/prod/regcred", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "regcred"}, Reason: report.ReasonCredentialsUnreadable, Message: "forbidden"}
		inv := &kube.Inventory{Workloads: []kube.Workload{deploy("a", "registry.example.com/team/private:1", corev1.PullIfNotPresent)}}
		results := Check(context.Background(), inv, staticCreds(nil, unreadable), Options{Resolver: resolver()})
		if len(results) != 2 {
			t.Fatalf("results = %+v", results)
		}
		cred, dig := results[0], results[1]
		if cred.Check != report.CheckCredentialsSecret || cred.Status != report.StatusWarn || cred.Reason != report.ReasonCredentialsUnreadable {
			t.Errorf("credential result = %+v", cred)
		}
		if dig.Reason != report.ReasonForbidden || dig.CredentialSource != "anonymous" || !strings.Contains(dig.Message, "the kubelet's verdict may differ") {
			t.Errorf("digest result = %+v", dig)
		}
	})

	t.Run("different credentials resolve separately", func(t *testing.T) {
		inv := &kube.Inventory{Workloads: []kube.Workload{
			deploy("a", appRef, corev1.PullIfNotPresent),
			deploy("b", appRef, corev1.PullIfNotPresent),
		}}
		inv.Workloads[1].ImagePullSecrets = []string{"right"}
		fn := func(_ context.Context, _, _ string, secrets []string) (Keychain, []credentials.Problem, error) {
			if len(secrets) > 0 {
				return fakeKeychain{right}, nil, nil
			}
			return nil, nil, nil
		}
		res := resolver()
		Check(context.Background(), inv, fn, Options{Resolver: res})
		if res.calls.Load() != 2 {
			t.Errorf("calls = %d, want 2", res.calls.Load())
		}
	})
}

func TestRateLimited(t *testing.T) {
	limited := failed(report.ReasonRateLimited, report.CauseRateLimited, "nginx:1")
	res := resolver()
	res.fail["docker.io/library/nginx:1"] = limited

	inv := &kube.Inventory{Workloads: []kube.Workload{deploy("a", "nginx:1", corev1.PullIfNotPresent)}}
	if r := Check(context.Background(), inv, nil, Options{Resolver: res}); r[0].Status != report.StatusWarn {
		t.Errorf("alone: %+v, want warn", r[0])
	}
	inv.Workloads = append(inv.Workloads, deploy("b", "registry.example.com/team/private:1", corev1.PullIfNotPresent))
	for _, r := range Check(context.Background(), inv, nil, Options{Resolver: res}) {
		if r.Status != report.StatusFail {
			t.Errorf("with another failure: %+v, want fail", r)
		}
	}
}

func TestResultsSortedAndInitContainers(t *testing.T) {
	w := deploy("web", appRef, corev1.PullIfNotPresent, runningPod("a", dg("a"), ""))
	w.Containers = append([]kube.Container{{Name: "setup", Image: appRef, PullPolicy: corev1.PullIfNotPresent, Init: true}}, w.Containers...)
	w.Pods[0].Statuses = append(w.Pods[0].Statuses, kube.ContainerStatus{Name: "setup", Init: true, ImageID: dg("0")})
	w.Pods[0].Ephemeral = []kube.Container{{Name: "debugger", Image: "busybox", Ephemeral: true}}
	other := deploy("api", appRef, corev1.PullIfNotPresent)
	other.Namespace = "dev"
	inv := &kube.Inventory{Workloads: []kube.Workload{w, other}}

	var got []string
	for _, r := range Check(context.Background(), inv, nil, Options{Resolver: resolver()}) {
		got = append(got, fmt.Sprintf("%s %s %s %s", r.Namespace, r.Workload, r.Container, r.Reason))
	}
	want := []string{
		"dev Deployment/api app NotRunning",
		"prod Deployment/web app Current",
		"prod Deployment/web setup Stale",
	}
	if !slices.Equal(got, want) {
		t.Errorf("results:\n got %q\nwant %q", got, want)
	}
}

// TestExpandOnlyWhenNeeded: pods that all run the tag's digest cost one
// HEAD; an index child, a config digest or a stale pod need the expansion.
func TestExpandOnlyWhenNeeded(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	for _, tc := range []struct {
		name    string
		imageID string
		expands int32
		reason  report.Reason
	}{
		{"all on the tag's digest", "registry.example.com/team/app@" + dg("a"), 0, report.ReasonCurrent},
		{"config digest (kind)", dg("c"), 1, report.ReasonCurrent},
		{"stale repo digest of a single manifest", "registry.example.com/team/app@" + dg("f"), 0, report.ReasonStale},
		{"stale image ID", dg("f"), 1, report.ReasonStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := resolver()
			inv := &kube.Inventory{Workloads: []kube.Workload{deploy("web", appRef, ifnp, runningPod("a", tc.imageID, ""))}}
			var got report.Result
			for _, res := range Check(context.Background(), inv, nil, Options{Resolver: r}) {
				if res.Check == report.CheckWorkloadDigest {
					got = res
				}
			}
			if got.Reason != tc.reason {
				t.Errorf("reason %s, want %s: %s", got.Reason, tc.reason, got.Message)
			}
			if r.calls.Load() != 1 || r.expands.Load() != tc.expands {
				t.Errorf("heads %d, expands %d; want 1, %d", r.calls.Load(), r.expands.Load(), tc.expands)
			}
		})
	}
}

// TestNamespacesShareALookup: the same credentials in secrets of two
// namespaces cost one registry lookup, and each result names its own secret.
func TestNamespacesShareALookup(t *testing.T) {
	a := deploy("web", appRef, corev1.PullAlways, runningPod("a", "registry.example.com/team/app@"+dg("a"), ""))
	b := deploy("web", appRef, corev1.PullAlways, runningPod("b", "registry.example.com/team/app@"+dg("a"), ""))
	a.Namespace, b.Namespace = "shop", "billing"
	creds := func(_ context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
		return fakeKeychain{{Source: "secret/" + ns + "/regcred", Username: "ci", Password: "same"}}, nil, nil
	}
	res := resolver()
	res.answers[appRef] = registry.Resolution{Digest: dg("a"), ConfigDigest: dg("c"), CredentialSource: "secret/shop/regcred"}
	results := Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{a, b}}, creds, Options{Resolver: res})
	if n := res.calls.Load(); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
	for _, r := range results {
		if r.Check != report.CheckWorkloadDigest {
			continue
		}
		if want := "secret/" + r.Namespace + "/regcred"; r.CredentialSource != want {
			t.Errorf("%s: credentialSource %q, want %q", r.Namespace, r.CredentialSource, want)
		}
	}
}

// TestPullSecretsReadConcurrently: each namespace's pull secrets are read
// once, several namespaces at a time, and the report is the same as one
// read after the other would give.
func TestPullSecretsReadConcurrently(t *testing.T) {
	var workloads []kube.Workload
	for i := range 20 {
		w := deploy("web", appRef, corev1.PullAlways)
		w.Namespace = fmt.Sprintf("ns-%02d", i)
		workloads = append(workloads, w, w) // two workloads per namespace, one read
	}
	var (
		mu       sync.Mutex
		calls    = map[string]int{}
		inFlight int
		peak     int
		both     = make(chan struct{})
	)
	closeBoth := sync.OnceFunc(func() { close(both) })
	creds := func(ctx context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
		mu.Lock()
		calls[ns]++
		inFlight++
		peak = max(peak, inFlight)
		if inFlight == 2 {
			closeBoth()
		}
		mu.Unlock()
		// Hold the first reader until a second runs beside it.
		select {
		case <-both:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		problem := credentials.Problem{Source: "secret/" + ns + "/regcred", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: ns, Name: "regcred"}, Reason: report.ReasonMalformedCredentials, Message: "malformed"}
		return nil, []credentials.Problem{problem}, nil
	}
	results := Check(context.Background(), &kube.Inventory{Workloads: workloads}, creds, Options{})
	if peak < 2 {
		t.Errorf("at most %d namespace read at once, want several", peak)
	}
	var namespaces []string
	for _, r := range results {
		if r.Check == report.CheckCredentialsSecret {
			namespaces = append(namespaces, r.Namespace)
		}
	}
	if len(namespaces) != 20 || !slices.IsSorted(namespaces) {
		t.Errorf("credential results for %v, want each of 20 namespaces once, in order", namespaces)
	}
	for ns, n := range calls {
		if n != 1 {
			t.Errorf("%s read %d times, want once", ns, n)
		}
	}
}

// TestWarmer: HEADs started from the templates are the ones Run uses —
// one per unique image and credentials in all — and the report is the one
// a run without a Warmer gives.
func TestWarmer(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	workloads := func(withPods bool) []kube.Workload {
		var pods [2][]kube.Pod
		if withPods {
			pods[0] = []kube.Pod{runningPod("a", "registry.example.com/team/app@"+dg("a"), "")}
			pods[1] = []kube.Pod{runningPod("b", dg("f"), "")} // stale image ID: needs the expansion
		}
		return []kube.Workload{deploy("web", appRef, ifnp, pods[0]...), deploy("api", appRef, ifnp, pods[0]...), deploy("old", multiRef, ifnp, pods[1]...)}
	}
	creds := staticCreds(fakeKeychain{{Source: "secret/prod/regcred", Username: "ci", Password: "pw"}})

	plain := resolver()
	want := Check(t.Context(), &kube.Inventory{Workloads: workloads(true)}, creds, Options{Resolver: plain})

	r := resolver()
	w := NewWarmer(creds, r, 4)
	w.Start(t.Context(), workloads(false))
	got := Check(t.Context(), &kube.Inventory{Workloads: workloads(true)}, creds, Options{Resolver: r, Warmer: w})
	if r.calls.Load() != 2 || r.expands.Load() != plain.expands.Load() {
		t.Errorf("heads %d, expands %d; want 2 (one per image), %d", r.calls.Load(), r.expands.Load(), plain.expands.Load())
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Reason != want[i].Reason || got[i].Workload != want[i].Workload || got[i].Message != want[i].Message {
			t.Errorf("result %d: %s %s %q, want %s %s %q", i, got[i].Workload, got[i].Reason, got[i].Message, want[i].Workload, want[i].Reason, want[i].Message)
		}
	}

	// A Warmer never started (the templates never came) costs nothing.
	idle := NewWarmer(creds, resolver(), 4)
	if n := len(Check(t.Context(), &kube.Inventory{Workloads: workloads(true)}, creds, Options{Resolver: r, Warmer: idle})); n != len(want) {
		t.Errorf("with an idle Warmer: %d results, want %d", n, len(want))
	}
}

// TestForeignRepositoryInImageID: containerd keeps one image per config
// digest and names, in every pod's imageID, the alphabetically first
// repository holding it (seen on a real kubelet with containerd 1.6: a pod
// of zz-copy/app:v1 reported aa-first/app@…). The digest of another
// repository is compared by its config digest, never as the spec's own.
func TestForeignRepositoryInImageID(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	first := "registry.example.com/aa/first@"
	for _, tc := range []struct {
		name     string
		imageID  string
		foreign  map[string]registry.Resolution
		reason   report.Reason
		resolves int32 // registry calls: HEAD of the tag, expansions, foreign lookups
	}{
		{"the same manifest in another repository", first + dg("a"), nil, report.ReasonCurrent, 1},
		{"another manifest of the same config", first + dg("f"),
			map[string]registry.Resolution{first + dg("f"): {Digest: dg("f"), ConfigDigest: dg("c")}}, report.ReasonCurrent, 4},
		{"another manifest of another config", first + dg("f"),
			map[string]registry.Resolution{first + dg("f"): {Digest: dg("f"), ConfigDigest: dg("e")}}, report.ReasonStale, 4},
		{"dockershim's prefix, another repository", "docker-pullable://" + first + dg("f"),
			map[string]registry.Resolution{first + dg("f"): {Digest: dg("f"), ConfigDigest: dg("c")}}, report.ReasonCurrent, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := resolver()
			for k, v := range tc.foreign {
				fr.answers[k] = v
			}
			r := fr
			inv := &kube.Inventory{Workloads: []kube.Workload{deploy("web", appRef, ifnp, runningPod("a", tc.imageID, ""))}}
			var got report.Result
			for _, res := range Check(context.Background(), inv, nil, Options{Resolver: r}) {
				if res.Check == report.CheckWorkloadDigest {
					got = res
				}
			}
			if got.Reason != tc.reason {
				t.Errorf("reason %s, want %s: %s", got.Reason, tc.reason, got.Message)
			}
			if n := r.calls.Load() + r.expands.Load(); n != tc.resolves {
				t.Errorf("%d heads and expansions, want %d", n, tc.resolves)
			}
		})
	}
}

// TestDigestsAreTyped: printers read the digests from Result.Digests,
// never from evidence; a registry failure still says what the pods run.
func TestDigestsAreTyped(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	for _, tc := range []struct {
		name string
		w    kube.Workload
		want report.Digests
	}{
		{
			name: "mixed",
			w: deploy("web", appRef, ifnp,
				runningPod("a", "registry.example.com/team/app@"+dg("a"), ""),
				runningPod("b", "registry.example.com/team/app@"+dg("0"), ""),
				runningPod("c", "registry.example.com/team/app@"+dg("0"), "")),
			want: report.Digests{Current: dg("a"), Running: []string{dg("0"), dg("a")}},
		},
		{
			name: "not running",
			w:    deploy("web", appRef, ifnp),
			want: report.Digests{Current: dg("a")},
		},
		{
			name: "the registry refused: running only",
			w:    deploy("private", "registry.example.com/team/private:1", ifnp, runningPod("a", "registry.example.com/team/private@"+dg("7"), "")),
			want: report.Digests{Running: []string{dg("7")}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := digestResult(t, tc.w)
			if got.Digests == nil {
				t.Fatalf("no typed digests on %s/%s", got.Status, got.Reason)
			}
			if got.Digests.Current != tc.want.Current || !slices.Equal(got.Digests.Running, tc.want.Running) {
				t.Errorf("Digests = %+v, want %+v", *got.Digests, tc.want)
			}
		})
	}
}

// For a workload, a missing or refused credential's remedy leads with the
// cluster-side lines for its namespace and ServiceAccount (issue 12 item
// 6), the same words workload.pull uses; a pull secret the pods name that
// does not exist is created under its own name.
func TestDigestCredentialRemedyIsClusterSide(t *testing.T) {
	const private = "registry.example.com/team/secret:1"
	for _, tc := range []struct {
		name     string
		reason   report.Reason
		secrets  []string
		problems []credentials.Problem
		want     string
	}{
		{"no credentials", report.ReasonCredentialsRequired, nil, nil,
			"give the pods credentials for registry.example.com: kubectl create secret docker-registry regcred -n prod --docker-server=registry.example.com --docker-username=USER --docker-password=PASSWORD; then kubectl patch serviceaccount default -n prod"},
		{"a named secret is missing", report.ReasonCredentialsRequired, []string{"gone"},
			[]credentials.Problem{{Source: "secret/prod/gone", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "gone"}, Reason: report.ReasonIncompleteCredentials, Message: "missing"}},
			"create the pull secret the pods name (gone), or fix the name in imagePullSecrets; kubectl create secret docker-registry gone -n prod --docker-server=registry.example.com"},
		{"the second named secret is missing", report.ReasonCredentialsRequired, []string{"other-host", "gone"},
			[]credentials.Problem{{Source: "secret/prod/gone", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "gone"}, Reason: report.ReasonIncompleteCredentials, Message: "missing"}},
			"create the pull secret the pods name (gone), or fix the name in imagePullSecrets; kubectl create secret docker-registry gone -n prod --docker-server=registry.example.com"},
		{"a named secret the kubelet cannot decode", report.ReasonCredentialsRequired, []string{"bad"},
			[]credentials.Problem{{Source: "secret/prod/bad", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "bad"}, Reason: report.ReasonMalformedCredentials, Message: "bad base64"}},
			"re-create the secret as a docker-registry secret: kubectl delete secret bad -n prod, then kubectl create secret docker-registry bad -n prod --docker-server=registry.example.com"},
		{"refused", report.ReasonInvalidCredentials, []string{"old"}, nil,
			"renew the credentials in secret/prod/old (kubectl create secret docker-registry old -n prod --docker-server=registry.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := resolver()
			r.fail[private] = &registry.Failure{Reason: tc.reason, Fault: report.Fault{Cause: report.CauseUnauthorized, Registry: "registry.example.com", Repository: "team/secret"}}
			w := deploy("api", private, corev1.PullAlways, runningPod("a", "registry.example.com/team/secret@"+dg("a"), ""))
			w.ImagePullSecrets = tc.secrets
			var kc fakeKeychain
			if len(tc.secrets) > 0 && tc.problems == nil {
				kc = fakeKeychain{{Source: "secret/prod/" + tc.secrets[0], Username: "u", Password: "p"}}
			}
			inv := &kube.Inventory{Workloads: []kube.Workload{w}}
			for _, res := range Check(context.Background(), inv, staticCreds(kc, tc.problems...), Options{Resolver: r}) {
				if res.Check == report.CheckWorkloadDigest {
					if !strings.HasPrefix(res.Remedy, tc.want) {
						t.Errorf("remedy %q\nwant it to start with %q", res.Remedy, tc.want)
					}
					return
				}
			}
			t.Fatal("no workload.digest result")
		})
	}
}

// sourceResolver answers as a registry client does: the descriptor names
// the credential that was used, the first offered.
type sourceResolver struct{ *fakeResolver }

func (s sourceResolver) Head(ctx context.Context, ref imageref.Reference, creds []credentials.Credential) (registry.Descriptor, error) {
	d, err := s.fakeResolver.Head(ctx, ref, creds)
	if err == nil && len(creds) > 0 {
		d.CredentialSource, d.Used = creds[0].Source, registry.UsedAt(0)
	}
	return d, err
}

// TestWarmerNamesOwnSecret: two namespaces whose pull secrets hold the
// same credentials share one lookup, and the Warmer may have made its
// HEAD with the other namespace's secret; each result still names its
// own namespace's secret.
func TestWarmerNamesOwnSecret(t *testing.T) {
	creds := func(_ context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
		return fakeKeychain{{Source: "secret/" + ns + "/regcred", Username: "ci", Password: "pw"}}, nil, nil
	}
	in := func(ns string, pods ...kube.Pod) kube.Workload {
		w := deploy("web", appRef, corev1.PullIfNotPresent, pods...)
		w.Namespace = ns
		return w
	}
	r := sourceResolver{resolver()}
	w := NewWarmer(creds, r, 4)
	w.Start(t.Context(), []kube.Workload{in("prod"), in("aaa")}) // the Warmer meets prod first
	pod := runningPod("a", "registry.example.com/team/app@"+dg("a"), "")
	got := Check(t.Context(), &kube.Inventory{Workloads: []kube.Workload{in("aaa", pod), in("prod", pod)}}, creds, Options{Resolver: r, Warmer: w})
	var n int
	for _, res := range got {
		if res.Check != report.CheckWorkloadDigest {
			continue
		}
		n++
		if want := "secret/" + res.Namespace + "/regcred"; res.CredentialSource != want {
			t.Errorf("%s: credentialSource %q, want %q", res.Namespace, res.CredentialSource, want)
		}
	}
	if n != 2 || r.calls.Load() != 1 {
		t.Errorf("%d digest results, %d HEADs; want 2 and one shared HEAD", n, r.calls.Load())
	}
}

// passwordResolver answers as a registry client does for a registry that
// takes one password: Head tries the credentials in order and names the
// one that worked, or each that was refused, by position.
type passwordResolver struct {
	*fakeResolver
	password string
}

func (p passwordResolver) Head(ctx context.Context, ref imageref.Reference, creds []credentials.Credential) (registry.Descriptor, error) {
	d, err := p.fakeResolver.Head(ctx, ref, nil)
	if err != nil {
		return d, err
	}
	var attempts []registry.Attempt
	for i, c := range creds {
		if c.Password == p.password {
			d.CredentialSource, d.Used = c.Source, registry.UsedAt(i)
			return d, nil
		}
		attempts = append(attempts, registry.Attempt{Credential: registry.UsedAt(i), Reason: report.ReasonInvalidCredentials})
	}
	return registry.Descriptor{}, &registry.Failure{Reason: report.ReasonInvalidCredentials, Attempts: attempts,
		Fault: report.Fault{Cause: report.CauseUnauthorized, Registry: "registry.example.com", Repository: "team/app"}}
}

// TestSharedLookupNamesTheCredentialThatWorked: one pull secret may hold
// two entries for a host (an old password for host/team, the new one for
// the host: the kubelet tries both, most specific first), so two
// credentials share a source. Another namespace holds the same two in two
// secrets, in the same order, and shares the lookup, made with the first
// namespace's. Each result names its own credential that worked, by
// position, not the first of the answer's source: "new" in the second
// namespace, never "old". With the Warmer too, whose HEADs are made from
// the templates before Run.
func TestSharedLookupNamesTheCredentialThatWorked(t *testing.T) {
	creds := func(_ context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
		if ns == "aaa" {
			return fakeKeychain{
				{Source: "secret/aaa/both", Key: "registry.example.com/team", Username: "ci", Password: "old"},
				{Source: "secret/aaa/both", Key: "registry.example.com", Username: "ci", Password: "new"},
			}, nil, nil
		}
		return fakeKeychain{
			{Source: "secret/" + ns + "/old", Username: "ci", Password: "old"},
			{Source: "secret/" + ns + "/new", Username: "ci", Password: "new"},
		}, nil, nil
	}
	in := func(ns, name, image string, pods ...kube.Pod) kube.Workload {
		w := deploy(name, image, corev1.PullAlways, pods...)
		w.Namespace = ns
		return w
	}
	want := map[string]string{"aaa": "secret/aaa/both", "bbb": "secret/bbb/new"}
	for _, warm := range []bool{false, true} {
		for _, password := range []string{"new", "newer"} {
			r := passwordResolver{resolver(), password}
			// The image ID is a config digest: the verdict needs Expand.
			pod := runningPod("a", dg("c"), "")
			inv := []kube.Workload{in("aaa", "web", appRef, pod), in("bbb", "web", appRef, pod)}
			opts := Options{Resolver: r}
			if warm {
				opts.Warmer = NewWarmer(creds, r, 4)
				opts.Warmer.Start(t.Context(), inv)
			}
			var n int
			for _, res := range Check(t.Context(), &kube.Inventory{Workloads: inv}, creds, opts) {
				if res.Check != report.CheckWorkloadDigest {
					continue
				}
				n++
				if password == "new" {
					if res.Status != report.StatusPass || res.Reason != report.ReasonCurrent || res.CredentialSource != want[res.Namespace] {
						t.Errorf("warm=%v %s: %s/%s with %q, want pass/Current with %q: %s", warm, res.Namespace, res.Status, res.Reason, res.CredentialSource, want[res.Namespace], res.Message)
					}
					continue
				}
				// Both refused: each of the namespace's own credentials
				// is named with what it met, one element per attempt in
				// order, so the two entries of aaa's one secret stay two.
				failures, _ := res.Evidence["failures"].([]report.FailedAttempt)
				refused := func(source, key string) report.FailedAttempt {
					return report.FailedAttempt{Credential: source, Key: key, Reason: report.ReasonInvalidCredentials}
				}
				wantFailures := []report.FailedAttempt{refused("secret/bbb/old", ""), refused("secret/bbb/new", "")}
				if res.Namespace == "aaa" {
					wantFailures = []report.FailedAttempt{refused("secret/aaa/both", "registry.example.com/team"), refused("secret/aaa/both", "registry.example.com")}
				}
				if res.Reason != report.ReasonInvalidCredentials || !reflect.DeepEqual(failures, wantFailures) {
					t.Errorf("warm=%v %s: %s, failures %v, want %v", warm, res.Namespace, res.Reason, failures, wantFailures)
				}
			}
			if n != 2 || r.calls.Load() != 1 {
				t.Errorf("warm=%v: %d digest results, %d HEADs; want 2 and one shared HEAD", warm, n, r.calls.Load())
			}
		}
	}
}

// gatedResolver holds every Head until gate is closed.
type gatedResolver struct {
	*fakeResolver
	gate     chan struct{}
	timedOut *atomic.Bool
}

func (g gatedResolver) Head(ctx context.Context, r imageref.Reference, creds []credentials.Credential) (registry.Descriptor, error) {
	select {
	case <-g.gate:
	case <-time.After(20 * time.Second): // reached only if Check waits for the HEADs first
		g.timedOut.Store(true)
	}
	return g.fakeResolver.Head(ctx, r, creds)
}

// TestWarmerChecksBuiltDuringHeads: Check builds its checks (here, reads
// the pull secrets of a namespace the templates did not have) while the
// Warmer's HEADs are still out, not after the last registry answer; the
// report is the one a run without a Warmer gives.
func TestWarmerChecksBuiltDuringHeads(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	kc := fakeKeychain{{Source: "secret/prod/regcred", Username: "ci", Password: "pw"}}
	// credsOpening opens gate when Check reads the namespace "other".
	credsOpening := func(gate chan struct{}) CredentialFunc {
		var once sync.Once
		return func(_ context.Context, ns, _ string, _ []string) (Keychain, []credentials.Problem, error) {
			if ns == "other" {
				once.Do(func() { close(gate) })
			}
			return kc, nil, nil
		}
	}
	templates := []kube.Workload{deploy("web", appRef, ifnp)}
	inv := func() *kube.Inventory {
		standalone := deploy("job", appRef, ifnp, runningPod("b", "registry.example.com/team/app@"+dg("a"), ""))
		standalone.Namespace = "other"
		return &kube.Inventory{Workloads: []kube.Workload{deploy("web", appRef, ifnp, runningPod("a", "registry.example.com/team/app@"+dg("a"), "")), standalone}}
	}
	want := Check(t.Context(), inv(), credsOpening(make(chan struct{})), Options{Resolver: resolver()})

	gate := make(chan struct{})
	creds := credsOpening(gate)
	r := gatedResolver{resolver(), gate, &atomic.Bool{}}
	w := NewWarmer(creds, r, 4)
	w.Start(t.Context(), templates)
	got := Check(t.Context(), inv(), creds, Options{Resolver: r, Warmer: w})
	if r.timedOut.Load() {
		t.Errorf("Check read the other namespace's pull secrets only after the Warmer's HEADs answered")
	}
	if r.calls.Load() != 1 {
		t.Errorf("%d HEADs, want 1 (the Warmer's, reused)", r.calls.Load())
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Reason != want[i].Reason || got[i].Workload != want[i].Workload || got[i].Message != want[i].Message {
			t.Errorf("result %d: %s %s %q, want %s %s %q", i, got[i].Workload, got[i].Reason, got[i].Message, want[i].Workload, want[i].Reason, want[i].Message)
		}
	}
}
