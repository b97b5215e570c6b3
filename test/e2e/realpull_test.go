package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ktypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestRealPullScan runs the scan's main verdicts on what a real kubelet and
// containerd wrote after really pulling: no status is written by hand.
// (The hand-written-status fixtures of scan_test.go stay for what one
// amd64 containerd node cannot produce: other architectures' index children,
// dockershim's docker-pullable:// IDs, runtimes reporting config digests.)
// It runs on each runtime, containerd 1.6 and 2.x.
func TestRealPullScan(t *testing.T) {
	for _, rt := range nodeRuntimes {
		t.Run(string(rt), func(t *testing.T) { realPullScan(t, rt) })
	}
}

func realPullScan(t *testing.T, rt env.NodeRuntime) {
	c, n := sharedRuntimeNode(t, rt)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic})
	if err := n.AddRegistry(reg, env.HostOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns := "real-pull"
	if rt == env.Containerd2 {
		ns = "real-pull-2"
	}
	push := func(repo, tag string) env.Pushed {
		t.Helper()
		p, err := env.PushRunnableImage(reg, repo, tag, "admin")
		must(t, err)
		return p
	}
	must(t, c.CreateNamespace(ctx, ns))
	_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	_, err = c.Admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{
		ObjectMeta:       metav1.ObjectMeta{Name: "builder", Namespace: ns},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
	}, metav1.CreateOptions{})
	must(t, err)

	scan := func(t *testing.T, args ...string) report.Report {
		t.Helper()
		r, res := runJSON(t, s, "", "kubectl", append([]string{"regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http"}, args...)...)
		if res.Code > 1 {
			t.Fatalf("exit %d: %s", res.Code, res.Stderr)
		}
		return r
	}
	verdict := func(t *testing.T, r report.Report, workload string, status report.Status, reason report.Reason) report.Result {
		t.Helper()
		got := digest2(r, workload)
		if got.Status != status || got.Reason != reason {
			t.Errorf("%s: %s/%s, want %s/%s: %s\n%s", workload, got.Status, got.Reason, status, reason, got.Message, dump(r))
		}
		return got
	}
	imageID := func(p *corev1.Pod) string { return p.Status.ContainerStatuses[0].ImageID }

	t.Run("Current with a pull secret on the pod", func(t *testing.T) {
		img := push("current/app", "v1")
		p := runPod(t, c, n, ns, "current", spec1(img.Ref, "regcred"), env.ContainersRunning)
		if imageID(p) != img.DigestRef {
			t.Errorf("imageID %q, want %q", imageID(p), img.DigestRef)
		}
		got := verdict(t, scan(t, "pod/current"), "Pod/current", report.StatusPass, report.ReasonCurrent)
		if got.CredentialSource != "secret/"+ns+"/regcred" {
			t.Errorf("credentialSource %q", got.CredentialSource)
		}
	})

	t.Run("Current with a pull secret on the ServiceAccount", func(t *testing.T) {
		img := push("via-sa/app", "v1")
		spec := spec1(img.Ref)
		spec.ServiceAccountName = "builder"
		runPod(t, c, n, ns, "via-sa", spec, env.ContainersRunning)
		got := verdict(t, scan(t, "pod/via-sa"), "Pod/via-sa", report.StatusPass, report.ReasonCurrent)
		if got.CredentialSource != "secret/"+ns+"/regcred" {
			t.Errorf("credentialSource %q", got.CredentialSource)
		}
	})

	t.Run("Stale, IfNotPresent keeps the cached image, Always pulls", func(t *testing.T) {
		old := push("stale/app", "v1")
		spec := spec1(old.Ref, "regcred")
		spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
		runPod(t, c, n, ns, "stale", spec, env.ContainersRunning)
		repushed := push("stale/app", "v1")
		verdict(t, scan(t, "pod/stale"), "Pod/stale", report.StatusFail, report.ReasonStale)

		// Restarted on the same node with IfNotPresent: the cached image.
		deletePod(t, c, ns, "stale")
		p := runPod(t, c, n, ns, "stale", spec, env.ContainersRunning)
		if imageID(p) != old.DigestRef {
			t.Errorf("IfNotPresent on the same node: imageID %q, want the cached %q", imageID(p), old.DigestRef)
		}
		verdict(t, scan(t, "pod/stale"), "Pod/stale", report.StatusFail, report.ReasonStale)

		// With Always the kubelet asks the registry and pulls the new push.
		deletePod(t, c, ns, "stale")
		spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		p = runPod(t, c, n, ns, "stale", spec, env.ContainersRunning)
		if imageID(p) != repushed.DigestRef {
			t.Errorf("Always: imageID %q, want the new %q", imageID(p), repushed.DigestRef)
		}
		verdict(t, scan(t, "pod/stale"), "Pod/stale", report.StatusPass, report.ReasonCurrent)
	})

	t.Run("Mixed after a re-push and a scale-up with Always", func(t *testing.T) {
		old := push("mixed/app", "v1")
		spec := n.PodSpec(spec1(old.Ref, "regcred"))
		spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		labels := map[string]string{"app": "mixed"}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "mixed", Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
			},
		}
		_, err := c.Admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		must(t, err)
		// Gone before the shared node stops: its ReplicaSet would replace
		// the pods the node's Stop deletes.
		t.Cleanup(func() {
			_ = c.Admin.AppsV1().Deployments(ns).Delete(context.Background(), "mixed", metav1.DeleteOptions{})
		})
		waitRunning := func(want int) {
			t.Helper()
			pods, err := c.WaitForPods(ctx, ns, "app=mixed", want)
			must(t, err)
			for _, p := range pods {
				_, err := c.WaitPod(ctx, ns, p.Name, env.ContainersRunning)
				must(t, err)
			}
		}
		waitRunning(1)
		push("mixed/app", "v1")
		_, err = c.Admin.AppsV1().Deployments(ns).Patch(ctx, "mixed", ktypes.MergePatchType, []byte(`{"spec":{"replicas":2}}`), metav1.PatchOptions{})
		must(t, err)
		waitRunning(2)
		verdict(t, scan(t, "deploy/mixed"), "Deployment/mixed", report.StatusWarn, report.ReasonMixed)
	})

	t.Run("Pinned: a pull by digest", func(t *testing.T) {
		img := push("pinned/app", "v1")
		p := runPod(t, c, n, ns, "pinned", spec1(img.DigestRef, "regcred"), env.ContainersRunning)
		st := p.Status.ContainerStatuses[0]
		t.Logf("pull by digest: image %q imageID %q", st.Image, st.ImageID)
		if st.ImageID != img.DigestRef {
			t.Errorf("imageID %q, want %q", st.ImageID, img.DigestRef)
		}
		if st.Image != img.ConfigDigest {
			t.Errorf("status.image %q: containerd (1.6.20 and 2.4.2 alike) reports the config digest %q for a pull by digest", st.Image, img.ConfigDigest)
		}
		verdict(t, scan(t, "pod/pinned"), "Pod/pinned", report.StatusPass, report.ReasonPinned)
	})

	// A multi-arch tag: the node pulls its platform's image and containerd
	// reports the index digest as imageID (KUBELET.md).
	t.Run("multi-arch index, then a re-push of it", func(t *testing.T) {
		platforms := []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}, {OS: "linux", Architecture: "s390x"}}
		if runtime.GOARCH == "s390x" {
			platforms[1].Architecture = "amd64"
		}
		idx, err := env.PushRunnableIndex(reg, "multi/app", "v1", "admin", platforms)
		must(t, err)
		spec := spec1(idx.Ref, "regcred")
		spec.Containers[0].ImagePullPolicy = corev1.PullAlways
		p := runPod(t, c, n, ns, "multi", spec, env.ContainersRunning)
		st := p.Status.ContainerStatuses[0]
		t.Logf("multi-arch: image %q imageID %q (index %s, this platform's child %s)", st.Image, st.ImageID, idx.Digest, idx.Children[0].Digest)
		if st.ImageID != idx.DigestRef {
			t.Errorf("imageID %q, want the index digest %q", st.ImageID, idx.DigestRef)
		}
		verdict(t, scan(t, "pod/multi"), "Pod/multi", report.StatusPass, report.ReasonCurrent)
		_, err = env.PushRunnableIndex(reg, "multi/app", "v1", "admin", platforms)
		must(t, err)
		verdict(t, scan(t, "pod/multi"), "Pod/multi", report.StatusFail, report.ReasonStale)
	})

	// containerd keeps one image per config digest and reports, for every
	// pod using it, the alphabetically first repository digest it holds.
	t.Run("the same content under other repositories", func(t *testing.T) {
		img, err := env.RunnableImage()
		must(t, err)
		first, err := env.PushImage(reg, "aa-first/app", "v1", "admin", img)
		must(t, err)
		copied, err := env.PushImage(reg, "zz-copy/app", "v1", "admin", img)
		must(t, err)
		// The same config and layers under an OCI manifest: another
		// manifest digest for the same image ID.
		oci := mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
		reshaped, err := env.PushImage(reg, "zz-oci/app", "v1", "admin", oci)
		must(t, err)
		if reshaped.Digest == first.Digest || reshaped.ConfigDigest != first.ConfigDigest {
			t.Fatalf("want another manifest digest for the same config: %+v %+v", first, reshaped)
		}
		runPod(t, c, n, ns, "aa-first", spec1(first.Ref, "regcred"), env.ContainersRunning)
		p := runPod(t, c, n, ns, "zz-copy", spec1(copied.Ref, "regcred"), env.ContainersRunning)
		st := p.Status.ContainerStatuses[0]
		t.Logf("zz-copy: image %q imageID %q", st.Image, st.ImageID)
		if st.ImageID != first.DigestRef {
			t.Errorf("zz-copy: imageID %q; containerd (1.6.20 and 2.4.2 alike) was seen to name the first repository, %q", st.ImageID, first.DigestRef)
		}
		verdict(t, scan(t, "pod/zz-copy"), "Pod/zz-copy", report.StatusPass, report.ReasonCurrent)
		p = runPod(t, c, n, ns, "zz-oci", spec1(reshaped.Ref, "regcred"), env.ContainersRunning)
		st = p.Status.ContainerStatuses[0]
		t.Logf("zz-oci: image %q imageID %q (its own manifest digest %s)", st.Image, st.ImageID, reshaped.Digest)
		verdict(t, scan(t, "pod/zz-oci"), "Pod/zz-oci", report.StatusPass, report.ReasonCurrent)
	})

	// KubeletEnsureSecretPulledImages (on by default from 1.35): an image
	// pulled with a secret is not reused for a pod without one, even with
	// IfNotPresent; the kubelet pulls again, anonymously, and fails.
	t.Run("IfNotPresent does not share a secret-pulled image", func(t *testing.T) {
		img := push("ensure/app", "latest") // a mutable tag: the pull-policy advice applies
		spec := spec1(img.Ref, "regcred")
		spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
		runPod(t, c, n, ns, "ensure-with", spec, env.ContainersRunning)
		spec.ImagePullSecrets = nil
		p := runPod(t, c, n, ns, "ensure-without", spec, func(p *corev1.Pod) bool {
			return env.ContainersRunning(p) || env.Waiting("ErrImagePull")(p) || env.Waiting("ImagePullBackOff")(p)
		})
		if env.ContainersRunning(p) {
			t.Errorf("kubelet %s reused an image pulled with a secret for a pod without one", kubeletVersion(t, c, n))
		}
		r := scan(t, "pod/ensure-without")
		for _, x := range r.Results {
			if x.Check == report.CheckWorkloadPullPolicy && x.Workload == "Pod/ensure-without" {
				if !strings.Contains(x.Message, "1.35") {
					t.Errorf("pull-policy advice should say which kubelets share cached images: %s", x.Message)
				}
				return
			}
		}
		t.Errorf("no pull-policy result for IfNotPresent:\n%s", dump(r))
	})
}

// TestRealPullCredentialProvider: a node whose kubelet has a credential
// provider (an exec plugin the test builds, matching the registry) pulls a
// private image for a pod with no pull secret; regcheck, given the same
// CredentialProviderConfig, says the node's identity pulls it
// (NodeCredentials, credential-provider/NAME) and compares the digest with
// the user's own login.
func TestRealPullCredentialProvider(t *testing.T) {
	c := sharedCluster(t)
	requireNodeRuntime(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic})
	img, err := env.PushRunnableImage(reg, "node-creds/app", "v1", "admin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg, bin, err := env.WriteCredentialProvider(dir, reg.Host, "reader", readerPass)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := c.StartNode(ctx, env.NodeOptions{Dir: nodeDir(t), CredentialProviderConfig: cfg, CredentialProviderBinDir: bin})
	if err != nil {
		nodeStartFailed(t, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node logs:\n%s", n.Logs(40))
		}
		if err := n.Stop(); err != nil {
			t.Errorf("stopping node %s: %v", n.Name, err)
		}
		if left := n.Leftovers(); len(left) > 0 {
			t.Errorf("node %s left behind: %v", n.Name, left)
		}
	})
	if err := n.AddRegistry(reg, env.HostOptions{}); err != nil {
		t.Fatal(err)
	}
	const ns = "real-pull-node-creds"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	p := runPod(t, c, n, ns, "no-secret", spec1(img.Ref), env.ContainersRunning)
	if got := p.Status.ContainerStatuses[0].ImageID; got != img.DigestRef {
		t.Errorf("imageID %q, want %q", got, img.DigestRef)
	}
	own := filepath.Join(dir, "docker")
	writeDockerConfig(t, filepath.Join(own, "config.json"), reg, "reader")
	r, res := runJSON(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http",
		"--image-credential-provider-config", cfg, "--docker-config", own, "pod/no-secret")
	if res.Code > 1 {
		t.Fatalf("exit %d: %s", res.Code, res.Stderr)
	}
	if d := digest2(r, "Pod/no-secret"); d.Status != report.StatusPass || d.Reason != report.ReasonCurrent {
		t.Errorf("workload.digest %s/%s, want pass/Current: %s\n%s", d.Status, d.Reason, d.Message, dump(r))
	}
	var saw bool
	for _, x := range r.Results {
		if x.Check == report.CheckRegistryPull && x.Workload == "Pod/no-secret" {
			saw = true
			if x.Reason != report.ReasonNodeCredentials || x.CredentialSource != "credential-provider/"+env.CredentialProviderName {
				t.Errorf("registry.pull %s/%s from %q, want NodeCredentials from credential-provider/%s: %s",
					x.Status, x.Reason, x.CredentialSource, env.CredentialProviderName, x.Message)
			}
		}
	}
	if !saw {
		t.Errorf("no registry.pull result for the pod\n%s", dump(r))
	}
	if strings.Contains(res.Stdout+res.Stderr, readerPass) {
		t.Error("a password is in the output")
	}
}

// TestRealPullFailures provokes every pull failure a real kubelet can show
// here, records the kubelet's exact messages for each (the Failed event's
// M, the back-off's waiting message, the events) in
// testdata/kubelet-pull-messages.golden (normalised: hosts, ports, digests;
// pkg/pullfailure's table has the same rows), and checks the scan's
// workload.pull verdict and replay on the failing pod. It runs on each
// runtime: containerd 2.x's words are recorded in
// testdata/kubelet-pull-messages-containerd2.golden.
func TestRealPullFailures(t *testing.T) {
	for _, rt := range nodeRuntimes {
		t.Run(string(rt), func(t *testing.T) { realPullFailures(t, rt) })
	}
}

func realPullFailures(t *testing.T, rt env.NodeRuntime) {
	c, n := sharedRuntimeNode(t, rt)
	s := newSandbox(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ns, goldenFile := "real-pull-failures", "kubelet-pull-messages.golden"
	if rt == env.Containerd2 {
		ns, goldenFile = "real-pull-failures-2", "kubelet-pull-messages-containerd2.golden"
	}
	must(t, c.CreateNamespace(ctx, ns))
	basic := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic})
	token := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	tlsReg := startRegistry(t, env.RegistryOptions{TLS: true})
	tlsAsHTTP := startRegistry(t, env.RegistryOptions{TLS: true})
	must(t, n.AddRegistry(basic, env.HostOptions{}))
	must(t, n.AddRegistry(token, env.HostOptions{}))
	must(t, n.AddRegistry(tlsReg, env.HostOptions{NoCA: true}))
	must(t, n.AddRegistry(tlsAsHTTP, env.HostOptions{Scheme: "http"}))
	httpAsTLS := startRegistry(t, env.RegistryOptions{})
	must(t, n.AddRegistry(httpAsTLS, env.HostOptions{Scheme: "https"}))
	// A port nobody listens on: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	refused := l.Addr().String()
	must(t, l.Close())
	must(t, n.AddHost(refused, "http", ""))
	limited, err := env.StartFaultProxy(basic, &env.FaultRule{Path: env.PathManifest, Fault: env.RateLimit("")})
	must(t, err)
	t.Cleanup(func() { _ = limited.Close() })
	must(t, n.AddHost(limited.Host, "http", ""))

	pushTo := func(reg *env.Registry, repo, user string) env.Pushed {
		t.Helper()
		p, err := env.PushRunnableImage(reg, repo, "v1", user)
		must(t, err)
		return p
	}
	basicImg := pushTo(basic, "private/app", "admin")
	tokenImg := pushTo(token, "private/app", "admin")
	tlsImg := pushTo(tlsReg, "tls/app", "")
	tlsHTTPImg := pushTo(tlsAsHTTP, "tls/app", "")
	httpTLSImg := pushTo(httpAsTLS, "plain/app", "")
	for _, sec := range []*corev1.Secret{
		env.DockerConfigSecret(ns, "basic-wrong", dockerConfigJSON(t, basic.Host, "reader", "wrong")),
		env.DockerConfigSecret(ns, "token-wrong", dockerConfigJSON(t, token.Host, "reader", "wrong")),
		env.DockerConfigSecret(ns, "basic-right", dockerConfigJSON(t, basic.Host, "reader", readerPass)),
	} {
		_, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
		must(t, err)
	}

	cases := []struct {
		name, image string
		secrets     []string
		tls         bool          // scan over HTTPS (no CA: the user lacks it as the node does)
		reason      report.Reason // workload.pull's reason
		replay      report.Reason // what regcheck's own replay met
	}{
		{"basic auth, no secret", basicImg.Ref, nil, false, report.ReasonCredentialsRequired, report.ReasonCredentialsRequired},
		{"basic auth, wrong password", basicImg.Ref, []string{"basic-wrong"}, false, report.ReasonInvalidCredentials, report.ReasonInvalidCredentials},
		{"token auth, no secret", tokenImg.Ref, nil, false, report.ReasonCredentialsRequired, report.ReasonCredentialsRequired},
		{"token auth, wrong password", tokenImg.Ref, []string{"token-wrong"}, false, report.ReasonInvalidCredentials, report.ReasonInvalidCredentials},
		{"repository missing", basic.Ref("no/such-repo", "v1"), []string{"basic-right"}, false, report.ReasonRepositoryNotFound, report.ReasonRepositoryNotFound},
		{"tag missing", basic.Ref("private/app", "no-such-tag"), []string{"basic-right"}, false, report.ReasonTagNotFound, report.ReasonTagNotFound},
		{"digest missing", basic.Host + "/private/app@sha256:" + strings.Repeat("0", 64), []string{"basic-right"}, false, report.ReasonTagNotFound, report.ReasonTagNotFound},
		{"unknown CA", tlsImg.Ref, nil, true, report.ReasonTLSError, report.ReasonTLSError},
		{"HTTP spoken to a TLS port", tlsHTTPImg.Ref, nil, true, report.ReasonTLSError, report.ReasonTLSError},
		{"HTTPS spoken to an HTTP port", httpTLSImg.Ref, nil, true, report.ReasonTLSError, report.ReasonTLSError},
		{"connection refused", refused + "/any/app:v1", nil, false, report.ReasonUnreachable, report.ReasonUnreachable},
		{"429 Too Many Requests", limited.Ref("private/app", "v1"), []string{"basic-right"}, false, report.ReasonRateLimited, report.ReasonRateLimited},
	}
	hosts := map[string]string{basic.Host: "BASIC", token.Host: "TOKEN", tlsReg.Host: "TLS", tlsAsHTTP.Host: "TLS", httpAsTLS.Host: "PLAIN", refused: "REFUSED", limited.Host: "PROXY"}
	var recorded []string
	// All pods at once: each waits about 10 s for its first back-off.
	for i, tc := range cases {
		_, err := c.Admin.CoreV1().Pods(ns).Create(ctx, n.Pod(ns, fmt.Sprintf("fail-%d", i), spec1(tc.image, tc.secrets...)), metav1.CreateOptions{})
		must(t, err)
	}
	for i, tc := range cases {
		name := fmt.Sprintf("fail-%d", i)
		// After the first failure the pod waits in ImagePullBackOff most of
		// the time (ErrImagePull returns briefly at each retry, further
		// apart each time): wait for the back-off and for its events.
		p, err := c.WaitPod(ctx, ns, name, env.Waiting("ImagePullBackOff"))
		must(t, err)
		st := p.Status.ContainerStatuses[0]
		backoff := st.State.Waiting.Message
		if st.ImageID != "" {
			t.Errorf("%s: a failed pull reports imageID %q, want empty", tc.name, st.ImageID)
		}
		var evs []string
		var msg string // M, as the Failed event quotes it
		must(t, wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			events, err := c.Admin.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name})
			if err != nil {
				return false, nil
			}
			evs, msg = nil, ""
			var sawBackOff bool
			for _, e := range events.Items {
				evs = append(evs, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, normalizeKubelet(e.Message, tc.image, hosts)))
				if m, ok := strings.CutPrefix(e.Message, fmt.Sprintf("Failed to pull image %q: ", tc.image)); ok {
					msg = m
				}
				sawBackOff = sawBackOff || e.Message == "Error: ImagePullBackOff"
			}
			return msg != "" && sawBackOff, nil
		}))
		sort.Strings(evs)
		if want := fmt.Sprintf("Back-off pulling image %q: ErrImagePull: %s", tc.image, msg); backoff != want {
			t.Errorf("%s: back-off message %q, want %q", tc.name, backoff, want)
		}
		recorded = append(recorded, fmt.Sprintf("## %s\nimage: %s\nmessage: %s\nImagePullBackOff: %s\nevents:\n  %s\n",
			tc.name, normalizeKubelet(tc.image, tc.image, hosts), normalizeKubelet(msg, tc.image, hosts),
			normalizeKubelet(backoff, tc.image, hosts), strings.Join(dedupe(evs), "\n  ")))

		args := []string{"regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "pod/" + name}
		if !tc.tls {
			args = append(args, "--plain-http")
		}
		r, _ := runJSON(t, s, "", "kubectl", args...)
		got := pullResult(r, "Pod/"+name)
		replay, _ := got.Evidence["replay"].(string)
		if got.Status != report.StatusFail || got.Reason != tc.reason || replay != string(tc.replay) {
			t.Errorf("%s: workload.pull %s/%s (replay %q), want fail/%s (replay %s); the kubelet said %q\n%s",
				tc.name, got.Status, got.Reason, replay, tc.reason, tc.replay, msg, dump(r))
		}
		if km, _ := got.Evidence["kubeletMessage"].(string); km == "" {
			t.Errorf("%s: no kubeletMessage in evidence %v", tc.name, got.Evidence)
		}
		if d := digest2(r, "Pod/"+name); d.Status == report.StatusPass {
			t.Errorf("%s: a pod that cannot pull passes workload.digest: %s", tc.name, d.Reason)
		}
	}
	node, err := c.Admin.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
	must(t, err)
	info := node.Status.NodeInfo
	golden(t, goldenFile, fmt.Sprintf("# Pull failures as a real kubelet %s with %s reports them\n", info.KubeletVersion, strings.Replace(info.ContainerRuntimeVersion, "://", " ", 1))+
		"# (written by TestRealPullFailures -update; IMG is the pod's image, hosts and digests normalised).\n\n"+strings.Join(recorded, "\n"))
}

// sharedNode returns the package's containerd 1.6 node, starting it on
// first use. Tests isolate themselves by namespace and by images of their
// own.
func sharedNode(t *testing.T) (*env.Cluster, *env.Node) {
	t.Helper()
	return sharedRuntimeNode(t, env.Containerd16)
}

// sharedRuntimeNode returns the package's node of runtime rt, starting it
// on first use.
func sharedRuntimeNode(t *testing.T, rt env.NodeRuntime) (*env.Cluster, *env.Node) {
	t.Helper()
	c := sharedCluster(t)
	requireNodeRuntime(t)
	st := sharedNodes[rt]
	st.once.Do(func() {
		dir, err := os.MkdirTemp("", "rcn-")
		if err != nil {
			st.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		st.node, st.err = c.StartNode(ctx, env.NodeOptions{Dir: dir, Runtime: rt})
		if st.err != nil {
			_ = os.RemoveAll(dir) // StartNode stopped what it started
		}
		if st.err == nil {
			t.Logf("shared %s node %s started in %s", rt, st.node.Name, time.Since(start).Round(time.Millisecond))
		}
	})
	if st.err != nil {
		nodeStartFailed(t, fmt.Errorf("the shared %s node: %w", rt, st.err))
	}
	n := st.node
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node logs:\n%s", n.Logs(40))
		}
	})
	return c, n
}

// deletePod deletes a pod and waits until it is gone.
func deletePod(t *testing.T, c *env.Cluster, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Admin.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for ctx.Err() == nil {
		if _, err := c.Admin.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s not gone", ns, name)
}

// pullResult is the scan's workload.pull result for workload.
func pullResult(r report.Report, workload string) report.Result {
	for _, x := range r.Results {
		if x.Workload == workload && x.Check == report.CheckWorkloadPull {
			return x
		}
	}
	return report.Result{}
}

var kubeletDurationRE = regexp.MustCompile(`\b\d+(\.\d+)?(ms|s|µs)\b`)

// normalizeKubelet replaces the run's hosts, digests and durations in a
// kubelet message.
func normalizeKubelet(msg, image string, hosts map[string]string) string {
	msg = strings.ReplaceAll(msg, image, "IMG")
	for h, name := range hosts {
		msg = strings.ReplaceAll(msg, h, name)
	}
	msg = digestRE.ReplaceAllStringFunc(msg, func(d string) string {
		if strings.Trim(d[len("sha256:"):], "0") == "" {
			return d
		}
		return "sha256:DIGEST"
	})
	return kubeletDurationRE.ReplaceAllString(msg, "DURATION")
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// kubeletVersion is what the node reports.
func kubeletVersion(t *testing.T, c *env.Cluster, n *env.Node) string {
	t.Helper()
	node, err := c.Admin.CoreV1().Nodes().Get(context.Background(), n.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return node.Status.NodeInfo.KubeletVersion
}
