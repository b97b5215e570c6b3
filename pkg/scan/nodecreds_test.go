package scan

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

const ecrRef = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0"

// byCheck indexes one workload's results by check.
func byCheck(results []report.Result) map[report.Check]report.Result {
	out := map[report.Check]report.Result{}
	for _, r := range results {
		out[r.Check] = r
	}
	return out
}

// The kubelet's chain: a pull secret that matches first, then the
// provider; the provider's image is a skip with the node identity's
// remedy, its digest read with the user's own credentials.
func TestNodeCredentialChain(t *testing.T) {
	ifnp := corev1.PullIfNotPresent
	secret := credentials.Credential{Source: "secret/prod/regcred", Username: "u", Password: "p"}
	mine := credentials.Credential{Source: "credential-helper/ecr-login", Username: "AWS", Password: "t"}
	awsNodes := nodecreds.FromNodes([]nodecreds.Node{{Name: "node-a", ProviderID: "aws:///us-east-1a/i-1"}, {Name: "node-b"}})
	tests := []struct {
		name      string
		secrets   Keychain
		local     []credentials.Credential
		fail      *registry.Failure
		pods      []kube.Pod
		digest    report.Reason
		digestSrc string
		sawCreds  string // the sources the registry was asked with
		pull      bool   // a registry.pull NodeCredentials skip
		says      string // in the digest message
	}{
		{
			name:  "no secret, local login works: Current, compared with mine",
			local: []credentials.Credential{mine}, pods: []kube.Pod{runningPod("a", dg("e"), "")},
			digest: report.ReasonCurrent, digestSrc: "credential-helper/ecr-login", sawCreds: "credential-helper/ecr-login", pull: true,
		},
		{
			name:  "no secret, local login works: Stale",
			local: []credentials.Credential{mine}, pods: []kube.Pod{runningPod("a", "x/y@"+dg("0"), "")},
			digest: report.ReasonStale, digestSrc: "credential-helper/ecr-login", sawCreds: "credential-helper/ecr-login", pull: true,
		},
		{
			name:   "no secret, no local login: skip, never CredentialsRequired",
			fail:   failed(report.ReasonCredentialsRequired, report.CauseUnauthorized, ecrRef),
			pods:   []kube.Pod{runningPod("a", dg("e"), "")},
			digest: report.ReasonNodeCredentials, sawCreds: "", pull: true, says: "you have none for it here",
		},
		{
			name:   "expired local login: skip with a re-login",
			local:  []credentials.Credential{mine},
			fail:   failed(report.ReasonInvalidCredentials, report.CauseTokenExpiredECR, ecrRef),
			pods:   []kube.Pod{runningPod("a", dg("e"), "")},
			digest: report.ReasonNodeCredentials, sawCreds: "credential-helper/ecr-login", pull: true, says: "met InvalidCredentials",
		},
		{
			name:    "a secret that matches is the kubelet's first choice: no provider",
			secrets: fakeKeychain{secret}, local: []credentials.Credential{mine}, pods: []kube.Pod{runningPod("a", dg("e"), "")},
			digest: report.ReasonCurrent, digestSrc: "secret/prod/regcred", sawCreds: "secret/prod/regcred",
		},
		{
			name:   "pods only on a node outside aws: no provider, the old verdict",
			fail:   failed(report.ReasonCredentialsRequired, report.CauseUnauthorized, ecrRef),
			pods:   []kube.Pod{func() kube.Pod { p := runningPod("b", dg("e"), ""); p.NodeName = "node-b"; return p }()},
			digest: report.ReasonCredentialsRequired,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &fakeResolver{answers: map[string]registry.Resolution{
				ecrRef: {Digest: dg("d"), ConfigDigest: dg("e"), CredentialSource: "anonymous"},
			}, fail: map[string]*registry.Failure{}}
			if len(tt.local) > 0 || tt.secrets != nil {
				a := res.answers[ecrRef]
				a.CredentialSource = append(tt.local, credentials.Credential{Source: "secret/prod/regcred"})[0].Source
				if tt.secrets != nil {
					a.CredentialSource = "secret/prod/regcred"
				}
				res.answers[ecrRef] = a
			}
			if tt.fail != nil {
				res.fail[ecrRef] = tt.fail
			}
			w := deploy("api", ecrRef, ifnp, tt.pods...)
			looked := 0
			nc := &NodeCredentials{Providers: awsNodes, Local: func(_ context.Context, host string) []credentials.Credential {
				looked++
				if host != "123456789012.dkr.ecr.us-east-1.amazonaws.com" {
					t.Errorf("local lookup for %q", host)
				}
				return tt.local
			}}
			var creds CredentialFunc
			if tt.secrets != nil {
				creds = staticCreds(tt.secrets)
			}
			results := Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{w, w}}, creds, Options{Resolver: res, NodeCredentials: nc})
			got := byCheck(results)
			d := got[report.CheckWorkloadDigest]
			if d.Reason != tt.digest {
				t.Fatalf("workload.digest %s %s: %s", d.Status, d.Reason, d.Message)
			}
			if tt.digestSrc != "" && d.Evidence["digestCredentialSource"] != tt.digestSrc && d.CredentialSource != tt.digestSrc {
				t.Errorf("digest credentials %v / %s, want %s", d.Evidence["digestCredentialSource"], d.CredentialSource, tt.digestSrc)
			}
			if got := strings.Join(res.creds[ecrRef], ","); tt.sawCreds != "" && !strings.HasPrefix(got, tt.sawCreds) {
				t.Errorf("the registry was asked with %q, want %q", got, tt.sawCreds)
			}
			if !strings.Contains(d.Message, tt.says) {
				t.Errorf("message %q, want %q in it", d.Message, tt.says)
			}
			p, hasPull := got[report.CheckRegistryPull]
			if hasPull != tt.pull {
				t.Fatalf("registry.pull present %t, want %t: %+v", hasPull, tt.pull, p)
			}
			for _, r := range results {
				if r.Reason == report.ReasonCredentialsRequired && tt.pull {
					t.Errorf("an image the provider serves got CredentialsRequired: %+v", r)
				}
				if tt.secrets != nil && (strings.Contains(r.Message, "credential provider") || strings.HasPrefix(r.CredentialSource, nodecreds.SourcePrefix)) {
					t.Errorf("a workload whose secret works mentions the provider: %+v", r)
				}
			}
			if !tt.pull {
				return
			}
			if p.Status != report.StatusSkip || p.Reason != report.ReasonNodeCredentials || p.CredentialSource != "credential-provider/ecr-credential-provider" {
				t.Errorf("registry.pull %s %s %s", p.Status, p.Reason, p.CredentialSource)
			}
			if !strings.Contains(p.Remedy, "ecr:BatchGetImage") || !strings.Contains(p.Message, "ecr-credential-provider") {
				t.Errorf("registry.pull message %q remedy %q", p.Message, p.Remedy)
			}
			if d.CredentialSource != "credential-provider/ecr-credential-provider" {
				t.Errorf("digest credentialSource %q", d.CredentialSource)
			}
			if d.Reason == report.ReasonNodeCredentials && (d.Status != report.StatusSkip || !strings.Contains(d.Remedy, "aws ecr get-login-password --region us-east-1")) {
				t.Errorf("digest skip %s remedy %q", d.Status, d.Remedy)
			}
			if looked != 1 {
				t.Errorf("local credentials looked up %d times for one host, want 1", looked)
			}
		})
	}
}

// Pods on nodes of two kinds: the message names the nodes.
func TestNodeCredentialsMixedNodes(t *testing.T) {
	set := nodecreds.FromNodes([]nodecreds.Node{{Name: "node-a", ProviderID: "aws:///us-east-1a/i-1"}, {Name: "node-b", ProviderID: "kind://docker/kind/b"}})
	w := deploy("api", ecrRef, corev1.PullAlways, runningPod("a", dg("e"), ""), runningPod("b", dg("e"), ""))
	res := &fakeResolver{fail: map[string]*registry.Failure{ecrRef: unresolved(ecrRef)}}
	got := byCheck(Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{w}}, nil, Options{Resolver: res, NodeCredentials: &NodeCredentials{Providers: set}}))
	p := got[report.CheckRegistryPull]
	if !strings.Contains(p.Message, "on node node-a; pods on node node-b (not on aws) get no node credentials") {
		t.Errorf("message %q", p.Message)
	}
	if d := got[report.CheckWorkloadDigest]; d.Status != report.StatusSkip || d.Reason != report.ReasonNodeCredentials || !strings.Contains(d.Message, "Unreachable") {
		t.Errorf("digest %s %s %q", d.Status, d.Reason, d.Message)
	}
}

// A matching pull secret the registry refuses: the kubelet falls back to
// the provider, so the secret's fault is a warn that says so; with no
// provider for the pods' nodes it stays a fail.
func TestNodeCredentialsFallbackAfterSecret(t *testing.T) {
	set := nodecreds.FromNodes([]nodecreds.Node{{Name: "node-a", ProviderID: "aws:///us-east-1a/i-1"}, {Name: "node-b"}})
	secret := credentials.Credential{Source: "secret/prod/stale", Username: "AWS", Password: "old"}
	for _, tt := range []struct {
		node   string
		status report.Status
	}{{"node-a", report.StatusWarn}, {"node-b", report.StatusFail}} {
		p := runningPod("a", dg("e"), "")
		p.NodeName = tt.node
		w := deploy("api", ecrRef, corev1.PullAlways, p)
		res := &fakeResolver{fail: map[string]*registry.Failure{ecrRef: {Reason: report.ReasonInvalidCredentials, Fault: report.Fault{Cause: report.CauseTokenExpiredECR, Registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com"}}}}
		got := byCheck(Check(context.Background(), &kube.Inventory{Workloads: []kube.Workload{w}}, staticCreds(fakeKeychain{secret}), Options{Resolver: res, NodeCredentials: &NodeCredentials{Providers: set}}))
		d := got[report.CheckWorkloadDigest]
		if d.Status != tt.status || d.Reason != report.ReasonInvalidCredentials || d.CredentialSource != "secret/prod/stale" {
			t.Errorf("on %s: %s/%s from %s: %s", tt.node, d.Status, d.Reason, d.CredentialSource, d.Message)
		}
		if falls := strings.Contains(d.Message, "falls back to the node's credentials"); falls != (tt.status == report.StatusWarn) {
			t.Errorf("on %s: message %q", tt.node, d.Message)
		}
		if _, ok := got[report.CheckRegistryPull]; ok {
			t.Errorf("on %s: a registry.pull NodeCredentials result though a secret matches", tt.node)
		}
	}
}

// TestNodeCredentialsWhenNodesUnread: which providers apply, by what was
// read. Nodes that could not be read leave the cloud unknown, so every
// cloud's provider is assumed, unless the kubelets' config was given;
// nodes read with no cloud turn none on.
func TestNodeCredentialsWhenNodesUnread(t *testing.T) {
	config := []nodecreds.Provider{{Name: "mine", MatchImages: []string{"registry.example.com"}}}
	for _, tt := range []struct {
		name   string
		cfg    Config
		inv    kube.Inventory
		want   string // provider serving ecrRef, "" for none
		assume bool
	}{
		{"nodes unread", Config{}, kube.Inventory{Unread: []string{"nodes"}}, "ecr-credential-provider", true},
		{"nodes unread, config given", Config{NodeProviders: config}, kube.Inventory{Unread: []string{"nodes"}}, "", false},
		{"nodes read, no cloud", Config{}, kube.Inventory{NodeProviderIDs: map[string]string{"n1": "kind://x"}}, "", false},
		{"nodes read, aws", Config{}, kube.Inventory{NodeProviderIDs: map[string]string{"n1": "aws:///us-east-1a/i-1"}}, "ecr-credential-provider", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			var assumed bool
			if nc := tt.cfg.NodeCredentials(&tt.inv); nc != nil {
				if m, ok := nc.Providers.For(ecrRef, nil); ok {
					got, assumed = m.Provider.Name, m.Provider.Assumed
				}
			}
			if got != tt.want || assumed != tt.assume {
				t.Errorf("provider = %q (assumed %v), want %q (assumed %v)", got, assumed, tt.want, tt.assume)
			}
		})
	}
}
