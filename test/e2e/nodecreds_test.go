package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestScanNodeCredentials: images the nodes pull with their own identity
// (SPEC "Node credentials"), on the real API server, a real token-auth
// registry and the real kubectl running the plugin. A credential provider
// config whose matchImages covers the registry's private/ repositories;
// pods without pull secrets; the digest compared with the user's own
// Docker login (Stale and Current computed), or skipped without one;
// never CredentialsRequired, never fail for them. A pod whose pull secret
// works is the secret's, not the provider's. And a node with an aws://
// providerID turns on ECR's built-in patterns with no flag: a pod on an
// ECR host (unreachable here) is not CredentialsRequired either.
func TestScanNodeCredentials(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const ns, ecrNS = "nodecreds-e2e", "nodecreds-ecr-e2e"
	const localNode, awsNode = "nodecreds-local", "ip-10-0-0-1.ec2.internal"
	must(t, c.CreateNamespace(ctx, ns))
	must(t, c.CreateNamespace(ctx, ecrNS))
	must(t, c.CreateNode(ctx, localNode, "linux", "amd64"))
	must(t, c.CreateNode(ctx, awsNode, "linux", "amd64"))
	t.Cleanup(func() {
		for _, n := range []string{localNode, awsNode} {
			_ = c.Admin.CoreV1().Nodes().Delete(context.Background(), n, metav1.DeleteOptions{})
		}
	})
	// spec.providerID may be set once, as the cloud's node controller does.
	node, err := c.Admin.CoreV1().Nodes().Get(ctx, awsNode, metav1.GetOptions{})
	must(t, err)
	node.Spec.ProviderID = "aws:///us-east-1a/i-0e2e0e2e0e2e0e2e0"
	_, err = c.Admin.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	must(t, err)
	_, err = c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "reader", readerPass)), metav1.CreateOptions{})
	must(t, err)
	_, err = c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "badcred", dockerConfigJSON(t, reg.Host, "reader", "wrong")), metav1.CreateOptions{})
	must(t, err)

	old, err := env.PushRandomImage(reg, "private/app", "1.0", "admin")
	must(t, err)
	current, err := env.PushRandomImage(reg, "private/app", "1.0", "admin")
	must(t, err)
	running := func(id string) func(int) map[string]string {
		return func(int) map[string]string { return map[string]string{"app": id} }
	}
	deploy := func(ns, name string, ps corev1.PodSpec, node string, ids func(int) map[string]string) {
		t.Helper()
		_, err := c.RunDeployment(ctx, ns, name, 1, ps, node, ids)
		must(t, err)
	}
	deploy(ns, "stale", spec1(current.Ref), localNode, running(old.DigestRef))
	deploy(ns, "current", spec1(current.Ref), localNode, running(current.DigestRef))
	deploy(ns, "with-secret", spec1(current.Ref, "regcred"), localNode, running(current.DigestRef))
	deploy(ns, "bad-secret", spec1(current.Ref, "badcred"), localNode, running(current.DigestRef))
	const ecrImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"
	deploy(ecrNS, "ecr", spec1(ecrImage), awsNode, running("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:"+strings.Repeat("e", 64)))

	providerConfig := filepath.Join(s.Dir, "credential-provider.yaml")
	must(t, os.WriteFile(providerConfig, []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: loopback-provider
    matchImages:
      - "%s/private"
    defaultCacheDuration: "10m"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`, reg.Host)), 0o600))
	dockerConfig := filepath.Join(s.Dir, ".docker", "config.json")
	scanNS := func(ns string, extra ...string) (report.Report, env.Result) {
		t.Helper()
		return runJSON(t, s, "", "kubectl", append([]string{"regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--plain-http", "--timeout", "30s"}, extra...)...)
	}
	results := func(r report.Report, workload string) map[report.Check]report.Result {
		out := map[report.Check]report.Result{}
		for _, x := range r.Results {
			if x.Workload == workload {
				out[x.Check] = x
			}
		}
		return out
	}
	noFalseAlarm := func(r report.Report, workloads ...string) {
		t.Helper()
		for _, x := range r.Results {
			for _, w := range workloads {
				if x.Workload == w && (x.Status == report.StatusFail && x.Reason != report.ReasonStale || x.Reason == report.ReasonCredentialsRequired) {
					t.Errorf("%s %s: %s/%s: %s", w, x.Check, x.Status, x.Reason, x.Message)
				}
			}
		}
	}
	nodePull := func(r report.Report, workload, provider string) {
		t.Helper()
		p, ok := results(r, workload)[report.CheckRegistryPull]
		if !ok || p.Status != report.StatusSkip || p.Reason != report.ReasonNodeCredentials || p.CredentialSource != "credential-provider/"+provider || !strings.Contains(p.Message, provider) {
			t.Errorf("%s registry.pull = %+v, want skip NodeCredentials from credential-provider/%s\n%s", workload, p, provider, dump(r))
		}
	}

	t.Run("local Docker login compares the digests", func(t *testing.T) {
		writeDockerConfig(t, dockerConfig, reg, "reader")
		r, res := scanNS(ns, "--image-credential-provider-config", providerConfig)
		if res.Code != 1 { // Stale is a fail
			t.Errorf("exit %d, want 1\nstderr: %s", res.Code, res.Stderr)
		}
		noFalseAlarm(r, "Deployment/stale", "Deployment/current")
		for workload, want := range map[string]report.Reason{"Deployment/stale": report.ReasonStale, "Deployment/current": report.ReasonCurrent} {
			nodePull(r, workload, "loopback-provider")
			d := results(r, workload)[report.CheckWorkloadDigest]
			if d.Reason != want || d.Evidence["digestCredentialSource"] != "docker-config" || d.CredentialSource != "credential-provider/loopback-provider" {
				t.Errorf("%s workload.digest = %s/%s from %s (digest with %v), want %s with docker-config: %s", workload, d.Status, d.Reason, d.CredentialSource, d.Evidence["digestCredentialSource"], want, d.Message)
			}
		}
		withSecret := results(r, "Deployment/with-secret")
		if d := withSecret[report.CheckWorkloadDigest]; d.Reason != report.ReasonCurrent || d.CredentialSource != "secret/"+ns+"/regcred" {
			t.Errorf("with-secret workload.digest = %s/%s from %s", d.Status, d.Reason, d.CredentialSource)
		}
		if _, ok := withSecret[report.CheckRegistryPull]; ok {
			t.Error("a workload whose secret works got a node-credentials result")
		}
		for _, x := range r.Results {
			if x.Workload == "Deployment/with-secret" && (strings.Contains(x.Message, "provider") || strings.Contains(x.CredentialSource, "credential-provider")) {
				t.Errorf("with-secret mentions the provider: %+v", x)
			}
		}
	})

	t.Run("no local login: skip, never fail", func(t *testing.T) {
		must(t, os.Remove(dockerConfig))
		r, res := scanNS(ns, "--image-credential-provider-config", providerConfig)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s\n%s", res.Code, res.Stderr, dump(r))
		}
		noFalseAlarm(r, "Deployment/stale", "Deployment/current")
		for _, workload := range []string{"Deployment/stale", "Deployment/current"} {
			nodePull(r, workload, "loopback-provider")
			d := results(r, workload)[report.CheckWorkloadDigest]
			if d.Status != report.StatusSkip || d.Reason != report.ReasonNodeCredentials || !strings.Contains(d.Remedy, "docker login "+reg.Host) {
				t.Errorf("%s workload.digest = %s/%s, remedy %q: %s", workload, d.Status, d.Reason, d.Remedy, d.Message)
			}
		}
		// A refused pull secret: the kubelet falls back to the provider.
		if d := results(r, "Deployment/bad-secret")[report.CheckWorkloadDigest]; d.Status != report.StatusWarn || d.Reason != report.ReasonInvalidCredentials || !strings.Contains(d.Message, "falls back to the node's credentials") || d.CredentialSource != "secret/"+ns+"/badcred" {
			t.Errorf("bad-secret workload.digest = %s/%s from %s: %s", d.Status, d.Reason, d.CredentialSource, d.Message)
		}
		// Without the provider, the same pods are what regcheck said before.
		r, _ = scanNS(ns)
		if d := results(r, "Deployment/current")[report.CheckWorkloadDigest]; d.Reason != report.ReasonCredentialsRequired {
			t.Errorf("without the config: %s/%s", d.Status, d.Reason)
		}
	})

	t.Run("a bad config is exit 2 with the reason", func(t *testing.T) {
		bad := filepath.Join(s.Dir, "bad.yaml")
		must(t, os.WriteFile(bad, []byte("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: x\n    matchImage: [\"a.io\"]\n"), 0o600))
		res := run(t, s, "", "kubectl", "regcheck", "-n", ns, "--kubeconfig", c.Kubeconfig, "--image-credential-provider-config", bad)
		if res.Code != 2 || !strings.Contains(res.Stderr, "UnknownField") || !strings.Contains(res.Stderr, "matchImage") || strings.Contains(res.Stderr, "goroutine") {
			t.Errorf("exit %d, stderr %q", res.Code, res.Stderr)
		}
	})

	t.Run("aws node: ECR is node credentials without a flag", func(t *testing.T) {
		r, res := scanNS(ecrNS)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s\n%s", res.Code, res.Stderr, dump(r))
		}
		noFalseAlarm(r, "Deployment/ecr")
		nodePull(r, "Deployment/ecr", "ecr-credential-provider")
		p := results(r, "Deployment/ecr")[report.CheckRegistryPull]
		if !strings.Contains(p.Remedy, "ecr:BatchGetImage") {
			t.Errorf("remedy %q", p.Remedy)
		}
		d := results(r, "Deployment/ecr")[report.CheckWorkloadDigest]
		if d.Status != report.StatusSkip || d.Reason != report.ReasonNodeCredentials || !strings.Contains(d.Remedy, "aws ecr get-login-password --region us-east-1") {
			t.Errorf("workload.digest = %s/%s, remedy %q: %s", d.Status, d.Reason, d.Remedy, d.Message)
		}
	})

	t.Run("nodes unreadable: ECR assumed to be the nodes', said so", func(t *testing.T) {
		// Real RBAC: a namespace-scoped user, as many are, who may read
		// the namespace but not list nodes, so the cloud is unknown.
		const user = "e2e-nodecreds-namespaced"
		role := &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ecrNS},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"", "apps", "batch"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}}},
		}
		binding := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: user, Namespace: ecrNS},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		_, err := c.Admin.RbacV1().Roles(ecrNS).Create(ctx, role, metav1.CreateOptions{})
		must(t, err)
		_, err = c.Admin.RbacV1().RoleBindings(ecrNS).Create(ctx, binding, metav1.CreateOptions{})
		must(t, err)
		r, res := scanNS(ecrNS, "--as", user)
		if res.Code != 0 {
			t.Errorf("exit %d, want 0\nstderr: %s\n%s", res.Code, res.Stderr, dump(r))
		}
		noFalseAlarm(r, "Deployment/ecr")
		nodePull(r, "Deployment/ecr", "ecr-credential-provider")
		p := results(r, "Deployment/ecr")[report.CheckRegistryPull]
		if !strings.Contains(p.Message, "most likely serves") || !strings.Contains(p.Remedy, "ecr:BatchGetImage") || !strings.Contains(p.Remedy, "list nodes") {
			t.Errorf("registry.pull says nothing of the assumption: %s\nremedy: %s", p.Message, p.Remedy)
		}
		var nodesSkip bool
		for _, x := range r.Results {
			if x.Check == report.CheckClusterRead && x.Reason == report.ReasonForbidden && strings.Contains(x.Message, "credential providers the nodes run are unknown") {
				nodesSkip = true
			}
		}
		if !nodesSkip {
			t.Errorf("no cluster.read skip says the nodes' providers are unknown:\n%s", dump(r))
		}
		// verify, as the same user before a deploy: the same assumption.
		manifest := filepath.Join(s.Dir, "ecr-deploy.yaml")
		must(t, os.WriteFile(manifest, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ecr\nspec:\n  containers:\n  - name: app\n    image: "+ecrImage+"\n"), 0o600))
		vr, vres := runJSON(t, s, "", "kubectl", "regcheck", "verify", "-f", manifest, "-n", ecrNS, "--kubeconfig", c.Kubeconfig, "--as", user, "--timeout", "30s")
		var vpull *report.Result
		for i, x := range vr.Results {
			if x.Reason == report.ReasonCredentialsRequired {
				t.Errorf("verify: %s %s/%s: %s", x.Check, x.Status, x.Reason, x.Message)
			}
			if x.Check == report.CheckRegistryPull {
				vpull = &vr.Results[i]
			}
		}
		if vpull == nil || vpull.Reason != report.ReasonNodeCredentials || !strings.Contains(vpull.Message, "most likely serves") {
			t.Errorf("verify exit %d: registry.pull = %+v\nstderr: %s\n%s", vres.Code, vpull, vres.Stderr, dump(vr))
		}
		// The same user with the kubelets' config named: no assumption.
		r, _ = scanNS(ecrNS, "--as", user, "--image-credential-provider-config", providerConfig)
		if d := results(r, "Deployment/ecr")[report.CheckWorkloadDigest]; d.Reason == report.ReasonNodeCredentials {
			t.Errorf("with a config that does not cover ECR, the ECR image is still the nodes': %s/%s: %s", d.Status, d.Reason, d.Message)
		}
	})

	t.Run("creds lists the providers that apply", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "creds", "--kubeconfig", c.Kubeconfig)
		if res.Code != 0 {
			t.Errorf("exit %d\nstderr: %s", res.Code, res.Stderr)
		}
		var ecr *report.Result
		for i, x := range r.Results {
			if x.CredentialSource == "credential-provider/ecr-credential-provider" {
				ecr = &r.Results[i]
			}
			if strings.Contains(x.CredentialSource, "loopback-provider") {
				t.Errorf("without the flag, the config's provider is listed: %+v", x)
			}
		}
		if ecr == nil || ecr.Reason != report.ReasonNodeCredentials || !strings.Contains(ecr.Message, "*.dkr.ecr.*.amazonaws.com") || !strings.Contains(ecr.Message, awsNode) {
			t.Errorf("no ECR provider on %s listed:\n%s", awsNode, dump(r))
		}
		r, _ = runJSON(t, s, "", "kubectl", "regcheck", "creds", "--image-credential-provider-config", providerConfig)
		if x := find(t, r, report.CheckRegistryCredentials); x.CredentialSource != "credential-provider/loopback-provider" || !strings.Contains(x.Message, reg.Host+"/private") {
			t.Errorf("with the flag: %+v", x)
		}
	})

	t.Run("doctor files the node's pull under pull", func(t *testing.T) {
		r, res := runJSON(t, s, "", "kubectl", "regcheck", "doctor", "deploy/ecr", "-n", ecrNS, "--kubeconfig", c.Kubeconfig, "--timeout", "30s")
		if res.Code != 0 {
			t.Errorf("exit %d\nstderr: %s\n%s", res.Code, res.Stderr, dump(r))
		}
		var found bool
		for _, x := range r.Results {
			if x.Reason == report.ReasonCredentialsRequired || x.Status == report.StatusFail {
				t.Errorf("%s %s/%s: %s", x.Check, x.Status, x.Reason, x.Message)
			}
			if x.Check == report.CheckRegistryPull && x.Reason == report.ReasonNodeCredentials && x.Evidence["doctorCheck"] == "pull" {
				found = true
			}
		}
		if !found {
			t.Errorf("no NodeCredentials pull in the checklist:\n%s", dump(r))
		}
	})
}
