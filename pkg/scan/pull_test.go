package scan

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/report"
)

var failedAt = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// waitingPod is a pod whose kubelet cannot pull: waiting reason and
// message, and optionally a Failed event with the runtime's words.
func waitingPod(name, node, reason, msg string, events ...kube.PullEvent) kube.Pod {
	return kube.Pod{
		Name: name, NodeName: node, Phase: corev1.PodPending, Created: failedAt,
		Statuses:   []kube.ContainerStatus{{Name: "app", Waiting: reason, WaitingMessage: msg}},
		PullEvents: events,
	}
}

func failedEvent(image, m string) kube.PullEvent {
	return kube.PullEvent{Reason: "Failed", Message: `Failed to pull image "` + image + `": ` + m, Container: "app",
		First: failedAt.Add(-time.Hour), Last: failedAt, Count: 4}
}

func pullResults(t *testing.T, r Resolver, creds CredentialFunc, ws ...kube.Workload) []report.Result {
	t.Helper()
	var out []report.Result
	for _, res := range Check(context.Background(), &kube.Inventory{Workloads: ws}, creds, Options{Resolver: r}) {
		if res.Check == report.CheckWorkloadPull {
			out = append(out, res)
		}
	}
	return out
}

func TestPullVerdicts(t *testing.T) {
	app := appRef
	private := "registry.example.com/team/private:1"
	missing := "registry.example.com/team/app:9.9"
	notFound := `failed to pull and unpack image "` + missing + `": failed to resolve reference "` + missing + `": ` + missing + `: not found`
	basic401 := `failed to pull and unpack image "X": failed to resolve reference "X": pulling from host registry.example.com failed with status code [manifests v1]: 401 Unauthorized`
	c2refused := `failed to pull and unpack image "X": failed to resolve image: unexpected status from HEAD request to https://registry.example.com/v2/team/private/manifests/1: 401 Unauthorized`
	noChallenge := "registry.example.com/team/nochallenge:1"
	r := resolver()
	r.fail[noChallenge] = failed(report.ReasonCredentialsRequired, report.CauseUnauthorized, noChallenge)
	r.fail[missing] = failed(report.ReasonRepositoryNotFound, report.CauseNameUnknown, missing)
	r.fail["registry.example.com/team/limited:1"] = failed(report.ReasonForbidden, report.CauseDenied, "registry.example.com/team/limited:1")
	typo := "registry.example.com/team/app:1.25.4"
	r.fail[typo] = failed(report.ReasonTagNotFound, report.CauseManifestUnknown, typo)
	r.fail[typo].Tags = []string{"1.24.0", "1.25.3", "latest", "1.25.5"}
	someone := fakeKeychain{{Source: "secret/prod/regcred", Username: "ci", Password: "pw"}}

	tests := []struct {
		name    string
		w       kube.Workload
		creds   CredentialFunc
		reason  report.Reason
		replay  report.Reason
		message string
		remedy  string
	}{
		{
			name:   "back-off without cause, the Failed event says not found, the replay names the repository",
			w:      deploy("web", missing, corev1.PullIfNotPresent, waitingPod("a", "n1", "ImagePullBackOff", `Back-off pulling image "`+missing+`"`, failedEvent(missing, notFound))),
			reason: report.ReasonRepositoryNotFound, replay: report.ReasonRepositoryNotFound,
			message: "the repository does not exist; regcheck's own pull with the pod's credentials agrees",
		},
		{
			name:   "the replay works: the node is the cause",
			w:      deploy("web", app, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", `failed to pull and unpack image "`+app+`": failed to do request: Head "https://registry.example.com/v2/team/app/manifests/1.0": dial tcp 10.0.0.1:443: i/o timeout`), waitingPod("b", "n2", "ErrImagePull", "")),
			reason: report.ReasonPullFailsOnNode, replay: report.ReasonOk,
			message: "2 pods cannot pull", remedy: "node n1, n2",
		},
		{
			name:   "the kubelet's own pull limit: the node, and its setting",
			w:      deploy("web", app, corev1.PullIfNotPresent, waitingPod("a", "n1", "ImagePullBackOff", `Back-off pulling image "`+app+`": ErrImagePull: pull QPS exceeded`)),
			reason: report.ReasonPullFailsOnNode, replay: report.ReasonOk,
			remedy: "the kubelet on node n1 throttles its own pulls (registryPullQPS",
		},
		{
			name:   "429 stays RateLimited though the replay works",
			w:      deploy("web", app, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", `pulling from host registry.example.com failed with status code [manifests v1]: 429 Too Many Requests`)),
			reason: report.ReasonRateLimited, replay: report.ReasonOk, message: "works now",
		},
		{
			name:   "a bare 401 with credentials presented is InvalidCredentials",
			w:      deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", basic401)),
			creds:  staticCreds(someone),
			reason: report.ReasonInvalidCredentials, replay: report.ReasonForbidden,
			remedy: "kubectl create secret docker-registry regcred -n prod",
		},
		{
			name:   "a bare 401 without credentials is CredentialsRequired, with the commands",
			w:      deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", basic401)),
			reason: report.ReasonCredentialsRequired, replay: report.ReasonForbidden,
			remedy: `kubectl patch serviceaccount default -n prod -p '{"imagePullSecrets":[{"name":"regcred"}]}'`,
		},
		{
			name:   "pull access denied though the pod presents credentials: its account may not pull",
			w:      deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", `failed to pull and unpack image "`+private+`": failed to resolve reference "`+private+`": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`)),
			creds:  staticCreds(someone),
			reason: report.ReasonForbidden, replay: report.ReasonForbidden,
			message: "the pod's credentials may not pull this repository",
		},
		// containerd 2.4.2's words, as a real 2.x node wrote them
		// (test/e2e/testdata/kubelet-pull-messages-containerd2.golden).
		{
			name:   "containerd 2.x: a bare 401 with credentials presented is InvalidCredentials",
			w:      deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", c2refused)),
			creds:  staticCreds(someone),
			reason: report.ReasonInvalidCredentials, replay: report.ReasonForbidden,
		},
		{
			name:   "containerd 2.x: a bare 401 with no credentials, a registry sending no challenge: the replay says CredentialsRequired",
			w:      deploy("web", noChallenge, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", c2refused)),
			reason: report.ReasonCredentialsRequired, replay: report.ReasonCredentialsRequired,
		},
		{
			name:   "containerd 2.x: no basic auth credentials though the pod presents some: none reached the registry, not Forbidden",
			w:      deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", `failed to pull and unpack image "`+private+`": failed to resolve image: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`)),
			creds:  staticCreds(someone),
			reason: report.ReasonCredentialsRequired, replay: report.ReasonForbidden,
		},
		{
			name:   "a missing tag names the tags near it, from the tags list the lookup read",
			w:      deploy("web", typo, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", `failed to pull and unpack image "`+typo+`": failed to resolve reference "`+typo+`": `+typo+`: not found`)),
			reason: report.ReasonTagNotFound, replay: report.ReasonTagNotFound,
			remedy: "set a tag that exists in the Deployment/web's image (near 1.25.4: 1.25.3, 1.25.5",
		},
		{
			name: "a missing referenced secret",
			w: func() kube.Workload {
				w := deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", basic401,
					kube.PullEvent{Reason: "FailedToRetrieveImagePullSecret", Message: "Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed."}))
				w.ImagePullSecrets = []string{"good", "regcred"}
				return w
			}(),
			reason: report.ReasonIncompleteCredentials, replay: report.ReasonForbidden,
			remedy: "create the pull secret the pods name (regcred), or fix the name in imagePullSecrets; kubectl create secret docker-registry regcred -n prod",
		},
		{
			// No event names it: the cluster read does, by the problem's
			// typed Secret (not the first secret the pods name).
			name: "a missing referenced secret the pull secret reader names",
			w: func() kube.Workload {
				w := deploy("web", private, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", basic401))
				w.ImagePullSecrets = []string{"good", "regcred"}
				return w
			}(),
			creds: staticCreds(fakeKeychain{}, credentials.Problem{Source: "secret/prod/regcred", Origin: credentials.OriginCluster,
				Secret: credentials.SecretRef{Namespace: "prod", Name: "regcred"}, Reason: report.ReasonIncompleteCredentials, Message: "missing"}),
			reason: report.ReasonIncompleteCredentials, replay: report.ReasonForbidden,
			remedy: "create the pull secret the pods name (regcred), or fix the name in imagePullSecrets; kubectl create secret docker-registry regcred -n prod",
		},
		{
			name:   "NeverPull names the policy and the node",
			w:      deploy("web", app, corev1.PullNever, waitingPod("a", "n1", "ErrImageNeverPull", `Container image "`+app+`" is not present with pull policy of Never`)),
			reason: report.ReasonNeverPull, replay: report.ReasonOk,
			remedy: "set imagePullPolicy: IfNotPresent (now Never) on container app of Deployment/web",
		},
		{
			name:   "an image that does not parse",
			w:      deploy("web", "Team/App:1", corev1.PullIfNotPresent, waitingPod("a", "n1", "InvalidImageName", `Failed to apply default image tag "Team/App:1": couldn't parse image name "Team/App:1": invalid reference format`)),
			reason: report.ReasonInvalidReference,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pullResults(t, r, tt.creds, tt.w)
			if len(got) != 1 {
				t.Fatalf("workload.pull results = %+v, want one", got)
			}
			res := got[0]
			if res.Status != report.StatusFail || res.Reason != tt.reason {
				t.Errorf("%s/%s, want fail/%s: %s", res.Status, res.Reason, tt.reason, res.Message)
			}
			if res.Pull == nil || res.Pull.Replay != tt.replay || res.Evidence["kubeletReason"] == "" || res.Evidence["pods"] != res.Pull.Pods {
				t.Errorf("pull = %+v evidence %v, want replay %q", res.Pull, res.Evidence, tt.replay)
			}
			if !strings.Contains(res.Message, tt.message) {
				t.Errorf("message %q lacks %q", res.Message, tt.message)
			}
			if !strings.Contains(res.Remedy, tt.remedy) {
				t.Errorf("remedy %q lacks %q", res.Remedy, tt.remedy)
			}
		})
	}
}

// One result per workload and container however many pods fail; a pod
// pulling fine (or one that pulled despite old events) gets none.
func TestPullOneResultPerContainer(t *testing.T) {
	missing := "registry.example.com/team/app:9.9"
	nf := "failed to resolve reference: " + missing + ": not found"
	var pods []kube.Pod
	for _, n := range []string{"a", "b", "c"} {
		pods = append(pods, waitingPod(n, "n1", "ErrImagePull", nf))
	}
	pulled := runningPod("d", "registry.example.com/team/app@"+dg("a"), "")
	pulled.PullEvents = []kube.PullEvent{failedEvent(appRef, "429 Too Many Requests")}
	got := pullResults(t, resolver(), nil, deploy("bad", missing, corev1.PullIfNotPresent, pods...), deploy("good", appRef, corev1.PullIfNotPresent, pulled))
	if len(got) != 1 || got[0].Workload != "Deployment/bad" || got[0].Pull.Pods != 3 || got[0].Evidence["since"] != failedAt.Format(time.RFC3339) {
		t.Fatalf("results = %+v, want one for Deployment/bad with 3 pods since %s", got, failedAt)
	}
	if got[0].Reason != report.ReasonTagNotFound {
		t.Errorf("reason = %s, want TagNotFound (the replay says the tag is missing)", got[0].Reason)
	}
}

// The replay is the scan's own lookup: a failing pod costs no request.
func TestPullReplayCostsNoRequest(t *testing.T) {
	r := resolver()
	w := deploy("web", appRef, corev1.PullIfNotPresent, waitingPod("a", "n1", "ErrImagePull", "dial tcp: i/o timeout"), runningPod("b", "registry.example.com/team/app@"+dg("a"), ""))
	got := pullResults(t, r, staticCreds(fakeKeychain{{Source: "secret/prod/x", Username: "u", Password: "p"}}), w)
	if len(got) != 1 || got[0].Reason != report.ReasonPullFailsOnNode {
		t.Fatalf("results = %+v", got)
	}
	if n := r.calls.Load(); n != 1 {
		t.Errorf("registry lookups = %d, want the scan's one", n)
	}
}

// TestUndecodableSecretFailsEveryPull: a pull secret the kubelet cannot
// decode fails the pod's pulls before any registry is asked (the real
// kubelet 1.37 leaves the container waiting with "illegal base64 data at
// input byte 12", even for an image anyone may pull): registry.pull fail
// MalformedCredentials naming the secret, no lookup, whatever the
// registry would have said.
func TestUndecodableSecretFailsEveryPull(t *testing.T) {
	const kubeletWords = "illegal base64 data at input byte 12"
	bad := credentials.Problem{Source: "secret/prod/spaced", Origin: credentials.OriginCluster, Secret: credentials.SecretRef{Namespace: "prod", Name: "spaced"}, Reason: report.ReasonMalformedCredentials, Message: "undecodable",
		Remedy: "re-create the secret", FailsPulls: true}
	w := deploy("web", appRef, corev1.PullIfNotPresent, waitingPod("web-1", "n1", kubeletWords, kubeletWords))
	w.ImagePullSecrets = []string{"regcred", "spaced"}
	r := resolver() // appRef resolves anonymously: the registry would serve it
	inv := &kube.Inventory{Workloads: []kube.Workload{w}}
	results := Check(context.Background(), inv, staticCreds(nil, bad), Options{Resolver: r})
	var pull *report.Result
	for i, res := range results {
		switch res.Check {
		case report.CheckRegistryPull:
			pull = &results[i]
		case report.CheckWorkloadDigest, report.CheckWorkloadPull:
			t.Errorf("unexpected %s %s: %s", res.Check, res.Reason, res.Message)
		}
	}
	if pull == nil {
		t.Fatalf("no registry.pull result: %+v", results)
	}
	if pull.Status != report.StatusFail || pull.Reason != report.ReasonMalformedCredentials || pull.CredentialSource != bad.Source || pull.Remedy != bad.Remedy {
		t.Errorf("registry.pull = %s/%s from %q, remedy %q: %s", pull.Status, pull.Reason, pull.CredentialSource, pull.Remedy, pull.Message)
	}
	if pull.Evidence["kubeletReason"] != kubeletWords {
		t.Errorf("evidence %v does not quote the kubelet's reason", pull.Evidence)
	}
	if n := r.calls.Load(); n != 0 {
		t.Errorf("%d registry lookups: the kubelet asks none", n)
	}
}
