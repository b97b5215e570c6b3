// Package remedy turns an outcome into what a person does next, in the
// words of whoever acts on it: a kubectl user, a Helm user, or whoever
// runs a workload in namespace NS with ServiceAccount SA. Engines say what
// they found (a reason, a host, the credential sources in play); the
// wording of a fix lives here, once, next to the report types, and so does
// the message of a failed registry exchange (Message), from the typed
// facts the registry client saw.
package remedy

import (
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// DefaultSecret is the pull secret a remedy creates when the pods name none.
const DefaultSecret = "regcred"

// Workload is the audience of a fix made in the cluster: the pods of one
// workload, which pull with the pull secrets of their namespace.
type Workload struct {
	Kind, Name string
	// Restarts is how the kind gets fresh pods (kube.RestartStyleOf).
	Restarts report.RestartStyle
	// Context is the kubeconfig context the workload was read through,
	// when a run reads several: every kubectl line then names it.
	Context        string
	Namespace      string
	ServiceAccount string   // the pods' ServiceAccount; "default" when empty
	PullSecrets    []string // the imagePullSecrets the pod template names, in order
	Pods           []string // the pods' names, for kinds no rollout restarts
	// Missing are the pull secrets the pods name that do not exist.
	Missing []string
	// Unreferenced are pull secrets of the namespace that hold credentials
	// for the host but that the pods do not name: attaching one is the
	// fix, not creating another.
	Unreferenced []string
	// Undeployed: the workload is a manifest not applied yet (verify), so
	// its pods are yet to be made and nothing needs restarting.
	Undeployed bool
}

// ID is "Kind/name", as results name a workload.
func (w Workload) ID() string { return w.Kind + "/" + w.Name }

// Secret is the pull secret a fix creates or renews: the first the pods
// name, else DefaultSecret.
func (w Workload) Secret() string {
	if len(w.PullSecrets) > 0 && w.PullSecrets[0] != "" {
		return w.PullSecrets[0]
	}
	return DefaultSecret
}

func (w Workload) serviceAccount() string {
	if w.ServiceAccount == "" {
		return "default"
	}
	return w.ServiceAccount
}

// CreateSecret is the kubectl line that creates pull secret name for host
// in the workload's namespace. host is "HOST" when not known.
func CreateSecret(name, namespace, host string) string {
	return Workload{Namespace: namespace}.createSecret(name, host)
}

func (w Workload) createSecret(name, host string) string {
	if host == "" {
		host = "HOST"
	}
	return fmt.Sprintf("kubectl create secret docker-registry %s%s --docker-server=%s --docker-username=USER --docker-password=PASSWORD", name, w.where(), host)
}

// where is the kubectl flags that reach the workload's namespace: -n, and
// --context when the run read several contexts.
func (w Workload) where() string {
	out := ""
	if w.Context != "" {
		out = " --context " + w.Context
	}
	if w.Namespace != "" {
		out += " -n " + w.Namespace
	}
	return out
}

// AttachSecret is the kubectl line that gives every pod of the
// ServiceAccount pull secret name.
func AttachSecret(name, namespace, serviceAccount string) string {
	return Workload{Namespace: namespace}.attachSecret(name, serviceAccount)
}

func (w Workload) attachSecret(name, serviceAccount string) string {
	return fmt.Sprintf("kubectl patch serviceaccount %s%s -p '{\"imagePullSecrets\":[{\"name\":\"%s\"}]}'", serviceAccount, w.where(), name)
}

// Restart says how to get fresh pods for the workload, in the words its
// kind needs; "" when no workload is named or it is not deployed yet (pods
// yet to be made).
func (w Workload) Restart() string {
	if w.Undeployed {
		return ""
	}
	if w.Kind == "" {
		return ""
	}
	kind := strings.ToLower(w.Kind)
	switch w.Restarts {
	case report.RestartRollout:
		return fmt.Sprintf("kubectl rollout restart %s/%s%s", kind, w.Name, w.where())
	case report.RestartScheduled:
		return fmt.Sprintf("the next scheduled Job pulls again; to run one now: kubectl create job --from=%s/%s %s-manual%s", kind, w.Name, w.Name, w.where())
	case report.RestartReplace:
		return fmt.Sprintf("recreate the %s: kubectl get %s %s%s -o yaml | kubectl replace%s --force -f -", kind, kind, w.Name, w.where(), w.contextFlag())
	}
	// RestartDeletePods: deleting the pods makes the controller create new
	// ones.
	if len(w.Pods) == 0 {
		return fmt.Sprintf("restart the pods of %s so they pull again", w.ID())
	}
	return fmt.Sprintf("delete the pods so %s recreates them: kubectl delete pod%s %s", w.ID(), w.where(), strings.Join(w.Pods, " "))
}

// Credentials is the fix when the workload's pods have no working
// credentials for host: the cluster-side lines for its namespace first
// (create the pull secret, attach it to the ServiceAccount, get fresh
// pods), a local login after. reason is what was met:
//   - CredentialsRequired: the pods present nothing the registry takes;
//   - IncompleteCredentials: a pull secret the pods name does not exist;
//   - InvalidCredentials: the registry refused the credentials of sources;
//   - MalformedCredentials: the secret cannot be used as it is;
//   - RateLimited: anonymous pulls are limited; authenticated ones less.
//
// image is the container's image, for the line that checks a renewed
// secret. It returns "" for any other reason.
func (w Workload) Credentials(reason report.Reason, host, image, sources string) string {
	name := w.Secret()
	create := w.createSecret(name, host)
	attach := w.attachSecret(name, w.serviceAccount())
	switch reason {
	case report.ReasonCredentialsRequired:
		local := host
		if local == "" {
			local = "HOST"
		}
		if len(w.Unreferenced) > 0 {
			// The secret is there, only not attached: the commonest case.
			// Its account may still lack this repository, hence the
			// fallback.
			spare := w.Unreferenced[0]
			return fmt.Sprintf("attach the pull secret %s that %s already holds for %s (the pods do not name it): %s (or add imagePullSecrets: [{name: %s}] to the pod template)%s; if its account may not pull this image, create one: %s",
				spare, w.Namespace, local, w.attachSecret(spare, w.serviceAccount()), spare, then(w.Restart()), create)
		}
		return fmt.Sprintf("give the pods credentials for %s: %s; then %s (or add imagePullSecrets to the pod template)%s; locally: docker login %s",
			local, create, attach, then(w.Restart()), local)
	case report.ReasonIncompleteCredentials:
		named := w.PullSecrets
		if len(w.Missing) > 0 {
			// The one to create is the missing one, not the first named.
			named, create = w.Missing, w.createSecret(w.Missing[0], host)
		}
		return fmt.Sprintf("create the pull secret the pods name (%s), or fix the name in imagePullSecrets; %s", strings.Join(named, ", "), create)
	case report.ReasonInvalidCredentials:
		out := fmt.Sprintf("renew the credentials in %s (%s --dry-run=client -o yaml | kubectl apply -f -)%s", sources, create, then(w.Restart()))
		if image != "" {
			out += fmt.Sprintf("; check them with kubectl regcheck auth %s%s --pull-secret %s", image, w.where(), name)
		}
		return out
	case report.ReasonMalformedCredentials:
		return fmt.Sprintf("re-create the secret as a docker-registry secret: kubectl delete secret %s%s, then %s", name, w.where(), create)
	case report.ReasonRateLimited:
		return fmt.Sprintf("authenticate the pulls (%s; then %s), pull through a mirror, or wait for the limit to reset", create, attach)
	}
	return ""
}

// NewerTags is the regcheck line that lists the newer versions of the
// workload's image (--newer reads its repository's tags).
func (w Workload) NewerTags() string {
	return fmt.Sprintf("kubectl regcheck %s/%s%s --newer", strings.ToLower(w.Kind), w.Name, w.where())
}

// contextFlag is --context for the second kubectl of a pipe.
func (w Workload) contextFlag() string {
	if w.Context == "" {
		return ""
	}
	return " --context " + w.Context
}

func then(step string) string {
	if step == "" {
		return ""
	}
	return "; then " + step
}

// PullSecret is the fix for one pull secret the pods name, found missing
// (IncompleteCredentials) or unusable (MalformedCredentials) before any
// registry was asked; host is the entry at fault, "" when not known.
func PullSecret(reason report.Reason, name, namespace, host string) string {
	w := Workload{Namespace: namespace, PullSecrets: []string{name}}
	return w.Credentials(reason, host, "", "")
}

// Local is the audience of a fix made on the user's machine: which of the
// user's credential stores were in play for the host. The login command
// named is the one for the store the tool read (Helm's registry config,
// Docker's config and its helpers, DOCKER_AUTH_CONFIG, the flags).
type Local struct {
	HelmConfig       bool // Helm's registry config was read
	DockerConfig     bool // Docker's config.json was read
	Helper           bool // a credential helper answered
	DockerAuthConfig bool // DOCKER_AUTH_CONFIG held the credential
	Flags            bool // --username and --password-stdin
}

// Login is the fix when the user's own credentials for a registry are
// missing or refused (CredentialsRequired, InvalidCredentials,
// AnonymousPushDenied). registry names the host in words; dockerHost and
// helmHost are what `docker login` and `helm registry login` take (they
// differ for Docker Hub).
func (l Local) Login(reason report.Reason, registry, dockerHost, helmHost string) string {
	var cmds []string
	if l.HelmConfig || !l.DockerConfig {
		cmds = append(cmds, "helm registry login "+helmHost)
	}
	if l.DockerConfig || l.Helper || !l.HelmConfig {
		cmds = append(cmds, "docker login "+dockerHost)
	}
	if l.DockerAuthConfig {
		// docker reads the variable before what docker login stores.
		cmds = append([]string{"fix or unset DOCKER_AUTH_CONFIG"}, cmds...)
	}
	if l.Flags {
		cmds = append([]string{"check --username and --password-stdin"}, cmds...)
	}
	lead := "log in"
	switch reason {
	case report.ReasonInvalidCredentials:
		lead = "the stored credentials are refused; log in again"
	case report.ReasonAnonymousPushDenied:
		lead = "push needs credentials for " + registry + "; log in"
	case report.ReasonCredentialsRequired:
		lead = "check the repository name; if it is private, log in"
	}
	out := lead + ": " + cmds[0]
	if len(cmds) > 1 {
		out += " (or " + strings.Join(cmds[1:], ", or ") + ")"
	}
	return out
}
