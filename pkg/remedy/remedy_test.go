package remedy

import (
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

const (
	create = "kubectl create secret docker-registry regcred -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD"
	attach = `kubectl patch serviceaccount api -n shop -p '{"imagePullSecrets":[{"name":"regcred"}]}'`
)

// A workload's credential remedy leads with the cluster-side lines for its
// namespace and ServiceAccount, whatever check found the fault.
func TestWorkloadCredentials(t *testing.T) {
	deploy := Workload{Kind: "Deployment", Restarts: report.RestartRollout, Name: "api", Namespace: "shop", ServiceAccount: "api"}
	named := deploy
	named.PullSecrets = []string{"gone", "other"}
	secondGone := deploy
	secondGone.PullSecrets, secondGone.Missing = []string{"good", "gone"}, []string{"gone"}
	unattached := deploy
	unattached.Unreferenced = []string{"regcred"}
	for _, tc := range []struct {
		name   string
		w      Workload
		reason report.Reason
		want   string
	}{
		{"missing credentials", deploy, report.ReasonCredentialsRequired,
			"give the pods credentials for r.example.com: " + create + "; then " + attach +
				" (or add imagePullSecrets to the pod template); then kubectl rollout restart deployment/api -n shop; locally: docker login r.example.com"},
		{"no workload named (auth --service-account)", Workload{Namespace: "shop", ServiceAccount: "api"}, report.ReasonCredentialsRequired,
			"give the pods credentials for r.example.com: " + create + "; then " + attach +
				" (or add imagePullSecrets to the pod template); locally: docker login r.example.com"},
		{"a secret for the host is there, not attached", unattached, report.ReasonCredentialsRequired,
			"attach the pull secret regcred that shop already holds for r.example.com (the pods do not name it): kubectl patch serviceaccount api -n shop -p '{\"imagePullSecrets\":[{\"name\":\"regcred\"}]}' (or add imagePullSecrets: [{name: regcred}] to the pod template); then kubectl rollout restart deployment/api -n shop; if its account may not pull this image, create one: " + create},
		{"a named secret is missing", named, report.ReasonIncompleteCredentials,
			"create the pull secret the pods name (gone, other), or fix the name in imagePullSecrets; kubectl create secret docker-registry gone -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD"},
		{"the second named secret is missing: that one is created", secondGone, report.ReasonIncompleteCredentials,
			"create the pull secret the pods name (gone), or fix the name in imagePullSecrets; kubectl create secret docker-registry gone -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD"},
		{"refused", named, report.ReasonInvalidCredentials,
			"renew the credentials in secret/shop/gone (kubectl create secret docker-registry gone -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD --dry-run=client -o yaml | kubectl apply -f -); then kubectl rollout restart deployment/api -n shop; check them with kubectl regcheck auth r.example.com/app:1 -n shop --pull-secret gone"},
		{"malformed", named, report.ReasonMalformedCredentials,
			"re-create the secret as a docker-registry secret: kubectl delete secret gone -n shop, then kubectl create secret docker-registry gone -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD"},
		{"rate limited", deploy, report.ReasonRateLimited,
			"authenticate the pulls (" + create + "; then " + attach + "), pull through a mirror, or wait for the limit to reset"},
		{"not a credential fault", deploy, report.ReasonTagNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Credentials(tc.reason, "r.example.com", "r.example.com/app:1", "secret/shop/gone"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// A pull secret's problem found before any registry was asked names its
// namespace; the host stays a placeholder only when no entry names it.
func TestPullSecret(t *testing.T) {
	for _, tc := range []struct {
		reason     report.Reason
		host, want string
	}{
		{report.ReasonIncompleteCredentials, "", "create the pull secret the pods name (gone), or fix the name in imagePullSecrets; kubectl create secret docker-registry gone -n shop --docker-server=HOST --docker-username=USER --docker-password=PASSWORD"},
		{report.ReasonMalformedCredentials, "r.example.com", "re-create the secret as a docker-registry secret: kubectl delete secret gone -n shop, then kubectl create secret docker-registry gone -n shop --docker-server=r.example.com --docker-username=USER --docker-password=PASSWORD"},
	} {
		if got := PullSecret(tc.reason, "gone", "shop", tc.host); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.reason, got, tc.want)
		}
	}
}

func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		w    Workload
		want string
	}{
		{Workload{Kind: "StatefulSet", Restarts: report.RestartRollout, Name: "db", Namespace: "shop"}, "kubectl rollout restart statefulset/db -n shop"},
		{Workload{Kind: "CronJob", Restarts: report.RestartScheduled, Name: "nightly", Namespace: "shop"}, "the next scheduled Job pulls again; to run one now: kubectl create job --from=cronjob/nightly nightly-manual -n shop"},
		{Workload{Kind: "ReplicaSet", Name: "rs", Namespace: "shop", Pods: []string{"a", "b"}}, "delete the pods so ReplicaSet/rs recreates them: kubectl delete pod -n shop a b"},
		{Workload{Namespace: "shop"}, ""},
		// A run over several contexts (--contexts): every kubectl names its context.
		{Workload{Kind: "Deployment", Restarts: report.RestartRollout, Name: "web", Context: "prod-eu", Namespace: "shop"}, "kubectl rollout restart deployment/web --context prod-eu -n shop"},
		{Workload{Kind: "Job", Restarts: report.RestartReplace, Name: "migrate", Namespace: "shop"}, "recreate the job: kubectl get job migrate -n shop -o yaml | kubectl replace --force -f -"},
		{Workload{Kind: "Pod", Restarts: report.RestartReplace, Name: "p", Context: "prod-eu", Namespace: "shop"}, "recreate the pod: kubectl get pod p --context prod-eu -n shop -o yaml | kubectl replace --context prod-eu --force -f -"},
		// verify, before the deploy: no pods to restart.
		{Workload{Kind: "Job", Restarts: report.RestartReplace, Name: "migrate", Namespace: "shop", Undeployed: true}, ""},
	} {
		if got := tc.w.Restart(); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.w.ID(), got, tc.want)
		}
	}
}

// The user's own credentials: the login for the stores that were in play.
func TestLocalLogin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		l      Local
		reason report.Reason
		want   string
	}{
		{"kubectl user, Docker's config", Local{DockerConfig: true}, report.ReasonCredentialsRequired, "check the repository name; if it is private, log in: docker login docker.io"},
		{"Helm user", Local{HelmConfig: true}, report.ReasonInvalidCredentials, "the stored credentials are refused; log in again: helm registry login registry-1.docker.io"},
		{"Helm falls back to Docker's", Local{HelmConfig: true, DockerConfig: true}, report.ReasonAnonymousPushDenied, "push needs credentials for docker.io; log in: helm registry login registry-1.docker.io (or docker login docker.io)"},
		{"nothing read", Local{}, report.ReasonCredentialsRequired, "check the repository name; if it is private, log in: helm registry login registry-1.docker.io (or docker login docker.io)"},
		{"DOCKER_AUTH_CONFIG", Local{DockerAuthConfig: true, DockerConfig: true}, report.ReasonInvalidCredentials, "the stored credentials are refused; log in again: fix or unset DOCKER_AUTH_CONFIG (or docker login docker.io)"},
		{"flags", Local{Flags: true}, report.ReasonInvalidCredentials, "the stored credentials are refused; log in again: check --username and --password-stdin (or helm registry login registry-1.docker.io, or docker login docker.io)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.Login(tc.reason, "docker.io", "docker.io", "registry-1.docker.io"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// No remedy carries a placeholder where the host is known.
func TestNoPlaceholderWhenHostKnown(t *testing.T) {
	w := Workload{Kind: "Deployment", Restarts: report.RestartRollout, Name: "api", Namespace: "shop"}
	for _, r := range []report.Reason{report.ReasonCredentialsRequired, report.ReasonInvalidCredentials, report.ReasonIncompleteCredentials, report.ReasonMalformedCredentials, report.ReasonRateLimited} {
		if got := w.Credentials(r, "r.example.com", "", "secret/shop/regcred"); strings.Contains(got, "HOST") || strings.Contains(got, "NAME") {
			t.Errorf("%s: %s", r, got)
		}
	}
}
