package scan

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/kube"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// maxPodEvidence bounds the per-pod evidence of one result.
const maxPodEvidence = 20

// running is one pod's digest for one container.
type running struct {
	pod     *kube.Pod
	digest  string
	kind    IDKind
	current bool
}

// runningDigests reads, for container c, the digest each pod reports and
// whether it is the one res serves now for the pod's platform. foreign maps
// a repo digest of another repository (containerd names the first one
// holding the image) to its config digest, which is then compared.
func runningDigests(w *kube.Workload, c kube.Container, res registry.Resolution, foreign map[string]string) []running {
	var out []running
	for i := range w.Pods {
		p := &w.Pods[i]
		st, ok := p.Status(c.Name, c.Init)
		if !ok {
			continue
		}
		d, kind := NormalizeImageID(st.ImageID)
		if kind == IDNone {
			continue
		}
		current := isCurrent(d, p.Platform, res)
		if cfg, ok := foreign[d]; ok && !current {
			current = isCurrent(cfg, p.Platform, res)
		}
		out = append(out, running{pod: p, digest: d, kind: kind, current: current})
	}
	return out
}

// isCurrent: the index or manifest digest itself, or, for an index, the
// digest or config digest of the child for the pod's platform (any child
// when the platform is unknown), or a single manifest's config digest
// (runtimes that report image IDs).
func isCurrent(d string, pf kube.Platform, res registry.Resolution) bool {
	if d == res.Digest {
		return true
	}
	if len(res.Children) == 0 {
		return res.ConfigDigest != "" && d == res.ConfigDigest
	}
	for _, ch := range platformChildren(pf, res.Children) {
		if d == ch.Digest || (ch.ConfigDigest != "" && d == ch.ConfigDigest) {
			return true
		}
	}
	return false
}

// platformChildren are the children for pf: all of them when pf is unknown
// or none matches (a runtime does not run a platform it was not served).
func platformChildren(pf kube.Platform, children []registry.Child) []registry.Child {
	if !pf.Known() {
		return children
	}
	var out []registry.Child
	for _, ch := range children {
		if ch.Architecture != pf.Architecture || (pf.OS != "" && ch.OS != pf.OS) {
			continue
		}
		if pf.Variant != "" && ch.Variant != "" && ch.Variant != pf.Variant {
			continue
		}
		out = append(out, ch)
	}
	if len(out) == 0 {
		return children
	}
	return out
}

// digestVerdict compares what pods run with what the registry serves.
func digestVerdict(base report.Result, w *kube.Workload, c kube.Container, ref imageref.Reference, res registry.Resolution, foreign map[string]string, podsReadable bool) report.Result {
	base.Check = report.CheckWorkloadDigest
	runs := runningDigests(w, c, res, foreign)
	base.Evidence = digestEvidence(res, runs)
	base.Digests = digestsOf(res.Digest, runs)

	if ref.Digest != "" {
		base.Status, base.Reason = report.StatusPass, report.ReasonPinned
		base.Message = fmt.Sprintf("the spec pins %s, which exists in %s/%s", short(ref.Digest.String()), ref.Registry, ref.Repository)
		return base
	}

	current := 0
	for _, r := range runs {
		if r.current {
			current++
		}
	}
	switch {
	case len(runs) == 0:
		base.Status, base.Reason = report.StatusSkip, report.ReasonNotRunning
		base.Message, base.Remedy = notRunning(w, c, ref, res, podsReadable)
	case current == len(runs):
		base.Status, base.Reason = report.StatusPass, report.ReasonCurrent
		who := "its pod runs"
		if current > 1 {
			who = fmt.Sprintf("all %d pods run", current)
		}
		base.Message = fmt.Sprintf("%s the current digest of %s (%s)", who, ref.Short(), short(res.Digest))
	case current == 0:
		base.Status, base.Reason = report.StatusFail, report.ReasonStale
		base.Message = fmt.Sprintf("no pod runs the current digest of %s: %s now points to %s, %s",
			ref.Short(), ref.Short(), short(res.Digest), describeStale(runs))
		base.Remedy = staleRemedy(w, c, ref, res)
	default:
		base.Status, base.Reason = report.StatusWarn, report.ReasonMixed
		base.Message = fmt.Sprintf("%d of %d pods run the current digest of %s (%s); %s: a rollout in progress, or nodes running a cached image",
			current, len(runs), ref.Short(), short(res.Digest), describeStale(runs))
		base.Remedy = staleRemedy(w, c, ref, res)
	}
	return base
}

// notRunning explains a skip and, where there is one, the next step.
func notRunning(w *kube.Workload, c kube.Container, ref imageref.Reference, res registry.Resolution, podsReadable bool) (msg, remedy string) {
	now := fmt.Sprintf("%s resolves to %s", ref.Short(), short(res.Digest))
	switch {
	case !podsReadable:
		return "pods could not be listed, so the running digest is unknown; " + now,
			fmt.Sprintf("run as a user allowed to list pods in %s (kubectl auth can-i list pods -n %s)", w.Namespace, w.Namespace)
	case len(w.Pods) == 0:
		return fmt.Sprintf("%s has no pods; %s", w.ID(), now), ""
	}
	return fmt.Sprintf("no pod reports an image ID for container %s yet (pulling, pending or failing to pull); %s", c.Name, now),
		fmt.Sprintf("see why it has not started (ErrImagePull, ImagePullBackOff): kubectl describe pod %s -n %s", w.Pods[0].Name, w.Namespace)
}

// describeStale says which old digests run where: "2 pods run sha256:… (started …)".
func describeStale(runs []running) string {
	counts := map[string]int{}
	started := map[string]time.Time{}
	for _, r := range runs {
		if r.current {
			continue
		}
		counts[r.digest]++
		if t := r.pod.StartTime; !t.IsZero() && (started[r.digest].IsZero() || t.Before(started[r.digest])) {
			started[r.digest] = t
		}
	}
	digests := make([]string, 0, len(counts))
	for d := range counts {
		digests = append(digests, d)
	}
	slices.Sort(digests)
	parts := make([]string, 0, len(digests))
	for _, d := range digests {
		s := fmt.Sprintf("%s %s %s", pods(counts[d]), verb(counts[d]), short(d))
		if t := started[d]; !t.IsZero() {
			s += " (started " + t.UTC().Format(time.RFC3339) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func staleRemedy(w *kube.Workload, c kube.Container, ref imageref.Reference, res registry.Resolution) string {
	var steps []string
	if c.PullPolicy != corev1.PullAlways {
		steps = append(steps, fmt.Sprintf("set imagePullPolicy: Always (now %s), or restarted pods may reuse the image cached on their node", c.PullPolicy))
	}
	steps = append(steps, restart(w))
	steps = append(steps, fmt.Sprintf("better: pin %s/%s@%s and push a unique tag per build", ref.Registry, ref.Repository, res.Digest))
	return strings.Join(steps, "; ")
}

// digestsOf are the typed digests of a result: current (empty when the
// registry did not answer) and the distinct running ones, sorted.
func digestsOf(current string, runs []running) *report.Digests {
	d := &report.Digests{Current: current}
	for _, r := range runs {
		if !slices.Contains(d.Running, r.digest) {
			d.Running = append(d.Running, r.digest)
		}
	}
	slices.Sort(d.Running)
	return d
}

func digestEvidence(res registry.Resolution, runs []running) report.Evidence {
	ev := report.Evidence{"currentDigest": res.Digest}
	if res.MediaType != "" {
		ev["mediaType"] = res.MediaType
	}
	if res.ConfigDigest != "" {
		ev["configDigest"] = res.ConfigDigest
	}
	if len(res.Children) > 0 {
		platforms := map[string]string{}
		for _, ch := range res.Children {
			pf := kube.Platform{OS: ch.OS, Architecture: ch.Architecture, Variant: ch.Variant}
			platforms[pf.String()] = ch.Digest
		}
		ev["platformDigests"] = platforms
	}
	if len(runs) == 0 {
		return ev
	}
	counts := map[string]int{}
	var podEv []map[string]any
	for _, r := range runs {
		counts[r.digest]++
		if len(podEv) == maxPodEvidence {
			continue
		}
		p := map[string]any{"name": r.pod.Name, "digest": r.digest, "digestKind": r.kind.String(), "current": r.current}
		if r.pod.NodeName != "" {
			p["node"] = r.pod.NodeName
		}
		if !r.pod.StartTime.IsZero() {
			p["startTime"] = r.pod.StartTime.UTC().Format(time.RFC3339)
		}
		if r.pod.Platform.Known() {
			p["platform"] = r.pod.Platform.String()
		}
		podEv = append(podEv, p)
	}
	ev["runningDigests"] = counts
	ev["pods"] = podEv
	return ev
}

func pods(n int) string {
	switch n {
	case 1:
		return "1 pod"
	}
	return fmt.Sprintf("%d pods", n)
}

func verb(n int) string {
	if n == 1 {
		return "runs"
	}
	return "run"
}
