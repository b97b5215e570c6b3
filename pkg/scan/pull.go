package scan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/nodecreds"
	"github.com/regcheck/regcheck/pkg/pullfailure"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// failingPull is what the kubelet says about one container of a workload
// that some pods cannot pull for.
type failingPull struct {
	kubeletReason  string // the latest waiting (or event) reason
	kubeletMessage string // the message that says most: a Failed event's, else the waiting one
	pods           int
	nodes          []string
	since          time.Time
	missingSecret  bool     // a FailedToRetrieveImagePullSecret event
	missing        []string // the secrets it names
}

// kubeletPull gathers, for container c of w, the pods whose kubelet
// reports an image pull failure: a waiting reason of the pull family, or
// no running image and a pull-failure Event. A pod that pulled (an
// imageID) is not failing, whatever its old Events say.
func kubeletPull(w *kube.Workload, c kube.Container) (failingPull, bool) {
	var f failingPull
	var lastAt time.Time
	for i := range w.Pods {
		p := &w.Pods[i]
		st, ok := p.Status(c.Name, c.Init)
		if ok && st.ImageID != "" {
			continue
		}
		events := p.PullEventsFor(c.Name, c.Init)
		waiting := ok && st.PullWaiting()
		if !waiting && !hasCause(events) {
			continue
		}
		f.pods++
		if p.NodeName != "" && !slices.Contains(f.nodes, p.NodeName) {
			f.nodes = append(f.nodes, p.NodeName)
		}
		first := p.Created
		if first.IsZero() {
			first = p.StartTime
		}
		for _, e := range events {
			if !e.First.IsZero() && (first.IsZero() || e.First.Before(first)) {
				first = e.First
			}
		}
		if !first.IsZero() && (f.since.IsZero() || first.Before(f.since)) {
			f.since = first
		}
		// The pod whose word is newest speaks for all.
		reason, msg, at := waitingOrEvent(st, waiting, events)
		if f.kubeletReason == "" || at.After(lastAt) || (f.kubeletMessage == "" && msg != "") {
			f.kubeletReason, f.kubeletMessage, lastAt = reason, msg, at
		}
		for _, e := range events {
			if e.Reason == pullfailure.EventFailedToRetrievePullSecret {
				f.missingSecret = true
				for _, name := range missingSecretNames(e.Message) {
					if !slices.Contains(f.missing, name) {
						f.missing = append(f.missing, name)
					}
				}
			}
		}
	}
	slices.Sort(f.nodes)
	return f, f.pods > 0
}

// missingSecretNames reads the secrets the kubelet's
// FailedToRetrieveImagePullSecret event names: "Unable to retrieve some
// image pull secrets (a, b); attempting to pull the image may not
// succeed."
func missingSecretNames(msg string) []string {
	_, rest, ok := strings.Cut(msg, "image pull secrets (")
	if !ok {
		return nil
	}
	list, _, ok := strings.Cut(rest, ")")
	if !ok {
		return nil
	}
	var out []string
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// hasCause: an Event that says a pull failed (not a mere back-off).
func hasCause(events []kube.PullEvent) bool {
	for _, e := range events {
		if e.Reason != pullfailure.EventBackOff {
			return true
		}
	}
	return false
}

// waitingOrEvent picks the kubelet's most telling words for one pod: the
// newest Failed event that quotes the runtime ("Failed to pull image ...:
// M"), which holds the cause when ImagePullBackOff's message does not;
// else the waiting message.
func waitingOrEvent(st kube.ContainerStatus, waiting bool, events []kube.PullEvent) (reason, msg string, at time.Time) {
	if waiting {
		reason, msg = st.Waiting, st.WaitingMessage
	}
	for _, e := range slices.Backward(events) {
		if e.Reason == pullfailure.EventFailed && strings.HasPrefix(e.Message, "Failed to pull image") {
			if reason == "" {
				reason = e.Reason
			}
			return reason, e.Message, e.Last
		}
	}
	for _, e := range slices.Backward(events) {
		if e.Reason == pullfailure.EventErrImageNeverPull || (reason == "" && e.Reason != pullfailure.EventBackOff) {
			if reason == "" || e.Reason == pullfailure.EventErrImageNeverPull {
				reason = e.Reason
			}
			if msg == "" || e.Reason == pullfailure.EventErrImageNeverPull {
				msg = e.Message
			}
			return reason, msg, e.Last
		}
	}
	return reason, msg, time.Time{}
}

// pullVerdict decides the reason from the kubelet's words and the replay
// (SPEC "Pull failures the kubelet reports"): replay is the reason
// regcheck met itself with the pod's credentials (Ok when it pulled),
// empty when there was no replay; presented says whether the pod has
// credentials for the registry.
func pullVerdict(f failingPull, cause pullfailure.Cause, replay report.Reason, presented bool) report.Reason {
	switch {
	case f.missingSecret && (replay != report.ReasonOk || cause.Reason == ""):
		return report.ReasonIncompleteCredentials
	case cause.Reason == report.ReasonNeverPull, cause.Reason == report.ReasonInvalidReference:
		return cause.Reason
	case cause.Reason == report.ReasonRateLimited, cause.Reason == report.ReasonServerError:
		// Limits and outages are per client and come and go.
		return cause.Reason
	case replay == report.ReasonOk:
		return report.ReasonPullFailsOnNode
	case cause.Reason == "" && replay != "":
		return replay
	case cause.Reason == "":
		return report.ReasonUnreachable // unclassified and not replayed: nothing better
	case cause.Ambiguous && cause.Reason == report.ReasonTagNotFound:
		if replay == report.ReasonRepositoryNotFound || replay == report.ReasonTagNotFound {
			return replay
		}
	case cause.Ambiguous && cause.Reason == report.ReasonCredentialsRequired:
		if presented || replay == report.ReasonInvalidCredentials {
			return report.ReasonInvalidCredentials
		}
	case cause.Ambiguous && cause.Reason == report.ReasonInvalidCredentials:
		if !presented && replay == report.ReasonCredentialsRequired {
			return replay
		}
	case cause.Reason == report.ReasonCredentialsRequired && presented && cause.Row != pullfailure.RowNoCredentials:
		// "pull access denied … insufficient_scope" though the pod
		// presents credentials: the token service took them (a refused
		// login reads "failed to fetch oauth token") but granted no pull,
		// so the account may not pull the repository, unless the replay
		// finds there is no such repository.
		if replay == report.ReasonRepositoryNotFound {
			return replay
		}
		return report.ReasonForbidden
	}
	// pullfailure.RowNoCredentials with credentials presented: the runtime
	// says none reached it, so the registry never judged them.
	return cause.Reason
}

// pullResult is the workload.pull result of one container, or false when
// no pod of it fails to pull. replay and replayMessage come from the
// scan's own lookup of this (image, credentials): no extra request.
func (ch *check) pullResult(replay report.Reason, replayMessage string) (report.Result, bool) {
	f, ok := kubeletPull(ch.w, ch.c)
	if !ok {
		return report.Result{}, false
	}
	f.missingSecret = f.missingSecret || ch.missingSecret
	cause := pullfailure.Classify(f.kubeletReason, f.kubeletMessage)
	reason := pullVerdict(f, cause, replay, len(ch.creds) > 0)
	if ch.node != nil {
		reason = nodePullReason(reason)
	}

	r := ch.base
	r.Check, r.Status, r.Reason = report.CheckWorkloadPull, report.StatusFail, reason
	r.CredentialSource = credentialSources(ch.creds)
	if ch.unreadable {
		r.CredentialSource = ""
	}
	since := ""
	if !f.since.IsZero() {
		since = f.since.UTC().Format(time.RFC3339)
	}
	r.Evidence = report.Evidence{
		"kubeletReason":  f.kubeletReason,
		"kubeletMessage": f.kubeletMessage,
		"pods":           f.pods,
	}
	if since != "" {
		r.Evidence["since"] = since
	}
	if replay != "" {
		r.Evidence["replay"] = string(replay)
	}
	if len(f.nodes) > 0 {
		r.Evidence["nodes"] = f.nodes
	}
	r.Pull = &report.PullFailure{
		KubeletReason: f.kubeletReason, KubeletMessage: f.kubeletMessage, Pods: f.pods,
		Since: since, Replay: replay, Nodes: f.nodes,
	}
	r.Message = ch.pullMessage(f, reason, replay, replayMessage)
	r.Remedy = ch.pullRemedy(f, reason)
	if ch.node != nil {
		r.CredentialSource = ch.node.Provider.Source()
		if reason == report.ReasonForbidden {
			r.Remedy = nodecreds.NodeRemedy(ch.node.Provider, ch.ref.Registry, ch.ref.Repository)
		}
	}
	return r, true
}

// causeWords says each reason in words, leading the message.
var causeWords = map[report.Reason]string{
	report.ReasonCredentialsRequired:   "the registry wants credentials and the pod has none for it",
	report.ReasonInvalidCredentials:    "the registry refuses the pod's credentials",
	report.ReasonForbidden:             "the pod's credentials may not pull this repository",
	report.ReasonRepositoryNotFound:    "the repository does not exist",
	report.ReasonTagNotFound:           "the tag (or digest) does not exist",
	report.ReasonTLSError:              "the registry's TLS is not trusted (certificate, or HTTP and HTTPS mixed up)",
	report.ReasonUnreachable:           "the registry cannot be reached",
	report.ReasonRateLimited:           "the registry rate-limits the pulls (429)",
	report.ReasonServerError:           "the registry fails (5xx)",
	report.ReasonInvalidReference:      "the image reference does not parse",
	report.ReasonIncompleteCredentials: "a pull secret the pod names does not exist, so the kubelet pulls without it",
	report.ReasonNeverPull:             "imagePullPolicy is Never and the node does not have the image",
	report.ReasonPullFailsOnNode:       "the same pull with the pod's credentials works from here, so the cause is on the node's side",
}

func (ch *check) pullMessage(f failingPull, reason, replay report.Reason, replayMessage string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s cannot pull %s: %s", pods(f.pods), ch.c.Image, causeWords[reason])
	switch {
	case reason == report.ReasonNeverPull || reason == report.ReasonInvalidReference:
	case replay == "" && ch.node != nil:
		fmt.Fprintf(&b, " (not replayed: the node pulls it with its own identity, credential provider %s)", ch.node.Provider.Name)
	case replay == "":
		b.WriteString(" (not replayed: the registry was not asked)")
	case reason == report.ReasonPullFailsOnNode:
		fmt.Fprintf(&b, " (node %s; the kubelet says %s)", strings.Join(f.nodes, ", "), f.kubeletReason)
	case replay == reason:
		b.WriteString("; regcheck's own pull with the pod's credentials agrees")
	case replay == report.ReasonOk:
		b.WriteString("; regcheck's own pull with the pod's credentials works now (limits and outages are per client and come and go)")
	default:
		fmt.Fprintf(&b, "; regcheck's own pull with the pod's credentials met %s", replay)
		if replayMessage != "" {
			fmt.Fprintf(&b, " (%s)", replayMessage)
		}
	}
	return b.String()
}

// pullRemedy is the cluster-side fix first, with the exact commands for
// the pod's namespace, then what to do locally.
func (ch *check) pullRemedy(f failingPull, reason report.Reason) string {
	host := ch.base.Registry
	aud := ch.audience()
	for _, name := range f.missing {
		if !slices.Contains(aud.Missing, name) {
			aud.Missing = append(aud.Missing, name)
		}
	}
	switch reason {
	case report.ReasonCredentialsRequired, report.ReasonIncompleteCredentials, report.ReasonInvalidCredentials, report.ReasonRateLimited:
		return aud.Credentials(reason, host, ch.c.Image, credentialSources(ch.creds))
	}
	ns := ch.w.Namespace
	switch reason {
	case report.ReasonForbidden:
		return fmt.Sprintf("grant the account in %s pull access to %s on %s, or use a pull secret whose account has it", credentialSources(ch.creds), ch.base.Repository, host)
	case report.ReasonRepositoryNotFound:
		return fmt.Sprintf("fix the repository name in the %s's image, or push %s/%s", ch.w.ID(), host, ch.base.Repository)
	case report.ReasonTagNotFound:
		if near := ch.nearTags(); len(near) > 0 {
			return fmt.Sprintf("set a tag that exists in the %s's image (near %s: %s), or push %s", ch.w.ID(), ch.ref.Tag, strings.Join(near, ", "), ch.ref.Tag)
		}
		return fmt.Sprintf("push the tag, or set an image that exists in %s/%s (its newer versions: %s)", host, ch.base.Repository, aud.NewerTags())
	case report.ReasonTLSError:
		// The kubelet's message names no finer cause: the workload's fix
		// for any TLS fault.
		return remedy.Registry(report.Fault{Cause: report.CauseTLSHandshake, Registry: host, Host: host}, remedy.ForWorkload)
	case report.ReasonUnreachable:
		return remedy.Registry(report.Fault{Cause: report.CauseNoAnswer, Registry: host, Host: host}, remedy.ForWorkload)
	case report.ReasonServerError:
		return fmt.Sprintf("%s is failing: the kubelet retries with back-off; check the registry's status and retry", host)
	case report.ReasonInvalidReference:
		return "write the image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. registry.example.com/team/app:1.4.2"
	case report.ReasonNeverPull:
		nodes := "its node"
		if len(f.nodes) > 0 {
			nodes = "node " + strings.Join(f.nodes, ", ")
		}
		return fmt.Sprintf("set imagePullPolicy: %s (now Never) on container %s of %s so the kubelet may pull, or load %s onto %s (ctr -n k8s.io images import, kind load docker-image)",
			corev1.PullIfNotPresent, ch.c.Name, ch.w.ID(), ch.c.Image, nodes)
	case report.ReasonPullFailsOnNode:
		if strings.Contains(f.kubeletMessage, "pull QPS exceeded") {
			// The kubelet's own limit on pulls (seen on a real kubelet
			// that started a dozen pulls at once), not the registry's.
			return fmt.Sprintf("the kubelet on node %s throttles its own pulls (registryPullQPS and registryBurst in its KubeletConfiguration; 5 a second, burst 10, by default): it retries with back-off, or raise the limit on that node", strings.Join(f.nodes, ", "))
		}
		return fmt.Sprintf("look at node %s: its egress or proxy to %s, a registry mirror in the runtime's config (containerd certs.d/%s/hosts.toml, CRI-O registries.conf), node credentials (a kubelet credential provider), its CA bundle, its clock", strings.Join(f.nodes, ", "), host, host)
	}
	return "kubectl describe pod -n " + ns + " shows the kubelet's events"
}
