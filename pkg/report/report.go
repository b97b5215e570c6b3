// Package report holds regcheck's versioned output types: a Result per
// finding, the Report that carries them, and the words (checks, statuses,
// reasons) that SPEC.md fixes for every output format.
package report

import "sort"

// APIVersion is the apiVersion of every JSON/YAML report.
const APIVersion = "regcheck/v1"

// Kinds of report.
const (
	KindScan       = "ScanReport"
	KindAuth       = "AuthReport"
	KindCredential = "CredentialReport"
	KindDoctor     = "DoctorReport"
	// KindVerify is verify's: manifests and charts checked before a deploy.
	KindVerify = "VerifyReport"
)

// Status is the outcome of one check.
type Status string

// Statuses, worst last.
const (
	StatusPass Status = "pass"
	StatusSkip Status = "skip"
	StatusWarn Status = "warn"
	StatusFail Status = "fail"
)

// severity orders statuses so the worst of several can be picked.
func (s Status) severity() int {
	switch s {
	case StatusPass:
		return 0
	case StatusSkip:
		return 1
	case StatusWarn:
		return 2
	case StatusFail:
		return 3
	}
	return -1
}

// Worse reports whether s is worse than o.
func (s Status) Worse(o Status) bool { return s.severity() > o.severity() }

// Check names what was checked.
type Check string

// Checks, as SPEC.md names them.
const (
	CheckRegistryReachable   Check = "registry.reachable"
	CheckRegistryCredentials Check = "registry.credentials"
	CheckRegistryPull        Check = "registry.pull"
	CheckRegistryPush        Check = "registry.push"
	CheckImageReference      Check = "image.reference"
	CheckWorkloadDigest      Check = "workload.digest"
	CheckWorkloadPullPolicy  Check = "workload.pull-policy"
	CheckCredentialsSecret   Check = "credentials.secret"
	// CheckWorkloadPull (always fail) is a container the kubelet could
	// not pull for, its message classified and replayed (SPEC "Pull
	// failures the kubelet reports").
	CheckWorkloadPull Check = "workload.pull"
	// CheckClusterRead (skip) is a workload resource or nodes the API
	// server did not let regcheck list: results are partial. An addition
	// to SPEC.
	CheckClusterRead Check = "cluster.read"
	// CheckHelmVersion is the Helm client running regcheck as a plugin:
	// does its release have a known OCI registry bug (SPEC "The Helm
	// client's own version").
	CheckHelmVersion Check = "helm.version"
	// CheckWorkloadVersion (with --newer) is whether a newer version of
	// the running tag is in its repository (SPEC "Newer versions").
	CheckWorkloadVersion Check = "workload.version"
	// CheckImagePlatform (verify, with a cluster) is an index checked
	// against the platforms of the cluster's nodes. An addition to SPEC.
	CheckImagePlatform Check = "image.platform"
)

// Reason is the one word that explains a status, the same in every format.
type Reason string

// Reasons, as SPEC.md names them.
const (
	ReasonOk                    Reason = "Ok"
	ReasonUnreachable           Reason = "Unreachable"
	ReasonTLSError              Reason = "TLSError"
	ReasonNotARegistry          Reason = "NotARegistry"
	ReasonIncompleteCredentials Reason = "IncompleteCredentials"
	ReasonMalformedCredentials  Reason = "MalformedCredentials"
	ReasonCredentialsUnreadable Reason = "CredentialsUnreadable"
	ReasonCredentialsRequired   Reason = "CredentialsRequired"
	ReasonInvalidCredentials    Reason = "InvalidCredentials"
	ReasonForbidden             Reason = "Forbidden"
	ReasonScopeNotGranted       Reason = "ScopeNotGranted"
	ReasonAnonymousPushDenied   Reason = "AnonymousPushDenied"
	ReasonTokenEndpointError    Reason = "TokenEndpointError"
	ReasonRepositoryNotFound    Reason = "RepositoryNotFound"
	ReasonTagNotFound           Reason = "TagNotFound"
	ReasonRateLimited           Reason = "RateLimited"
	ReasonServerError           Reason = "ServerError"
	ReasonInvalidReference      Reason = "InvalidReference"
	// ReasonMissingTag (image.reference, warn) is a reference without a
	// tag or digest: it silently means :latest. An addition to SPEC.
	ReasonMissingTag             Reason = "MissingTag"
	ReasonCurrent                Reason = "Current"
	ReasonStale                  Reason = "Stale"
	ReasonMixed                  Reason = "Mixed"
	ReasonPinned                 Reason = "Pinned"
	ReasonNotRunning             Reason = "NotRunning"
	ReasonMutableTagIfNotPresent Reason = "MutableTagIfNotPresent"
	// ReasonNotServed (cluster.read, skip) is a resource the API server
	// does not serve (404 or 405 on its LIST). An addition to SPEC.
	ReasonNotServed Reason = "NotServed"
	// ReasonNeverPull (workload.pull): imagePullPolicy Never and the node
	// lacks the image.
	ReasonNeverPull Reason = "NeverPull"
	// ReasonPullFailsOnNode (workload.pull): the kubelet failed, but the
	// same pull with the pod's credentials works from here: the cause is
	// on the node's side (network, proxy, mirror, CA bundle, clock).
	ReasonPullFailsOnNode Reason = "PullFailsOnNode"
	// ReasonKnownHelmBug (helm.version, warn): the user's Helm release has
	// a known OCI registry bug that applies to the command.
	ReasonKnownHelmBug Reason = "KnownHelmBug"
	// ReasonHelmVersionUnknown (helm.version, skip): $HELM_BIN could not
	// be asked its version. An addition to SPEC.
	ReasonHelmVersionUnknown Reason = "HelmVersionUnknown"
	// ReasonNodeCredentials (skip): the image is pulled with the node's
	// own identity (a kubelet credential provider), which regcheck cannot
	// act as: registry.pull of such an image, and workload.digest when the
	// user's own credentials cannot read the digest either (SPEC "Node
	// credentials").
	ReasonNodeCredentials Reason = "NodeCredentials"
	// ReasonLatestVersion (workload.version, pass): no newer version of
	// the running tag's shape within the --newer scope.
	ReasonLatestVersion Reason = "LatestVersion"
	// ReasonNewerVersion (workload.version, warn): a newer version is in
	// the repository within the --newer scope.
	ReasonNewerVersion Reason = "NewerVersion"
	// ReasonNotAVersion (workload.version, skip): the running tag is not a
	// version (latest, stable, a commit hash) or there is no tag.
	ReasonNotAVersion Reason = "NotAVersion"
	// ReasonPlatformNotInIndex (image.platform, fail): some node of the
	// cluster runs a platform the image's index has no image for.
	ReasonPlatformNotInIndex Reason = "PlatformNotInIndex"
)

// Evidence is what a person needs to trust a result: HTTP statuses,
// challenges, scopes, digests. Never a secret. It is display only: no code
// reads it back by key; what printers and decisions read is a typed field
// of Result (Digests, RateLimit, Doctor), whose display copy the engine
// that fills it writes into Evidence too.
type Evidence map[string]any

// FailedAttempt is the display copy of one credential a lookup tried
// that failed, for the evidence key "failures": a list in the order they
// were tried, one element per attempt, since two credentials may share a
// source (one pull secret's two entries for a host) and a map keyed by
// source would make them one. Key is the config entry the credential
// matched (never its secret), "" when none.
type FailedAttempt struct {
	Credential string `json:"credential"`
	Key        string `json:"key,omitempty"`
	Reason     Reason `json:"reason"`
}

// String is how text formats show one attempt.
func (a FailedAttempt) String() string {
	if a.Key != "" {
		return a.Credential + " (" + a.Key + "): " + string(a.Reason)
	}
	return a.Credential + ": " + string(a.Reason)
}

// Digests are what a person compares by eye: the digests a workload
// container's pods run and the one its reference points to now.
type Digests struct {
	// Current is the digest the reference resolves to now (a manifest or
	// an index); empty when the registry did not say.
	Current string
	// Running are the distinct digests the container's pods report
	// (normalized image IDs), sorted; empty when no pod reports one.
	Running []string
}

// RateLimit is what a registry announced about its pull limit: Docker
// Hub's ratelimit-limit and ratelimit-remaining headers and Retry-After,
// as sent ("100;w=21600"); empty when not sent.
type RateLimit struct {
	Limit      string
	Remaining  string
	RetryAfter string
}

// Empty reports whether no header was sent.
func (r RateLimit) Empty() bool { return r == RateLimit{} }

// Evidence is the display copy of r: the headers sent, under their own
// names (ratelimit-limit, ratelimit-remaining, retry-after).
func (r RateLimit) Evidence() Evidence {
	ev := Evidence{}
	for k, v := range map[string]string{"ratelimit-limit": r.Limit, "ratelimit-remaining": r.Remaining, "retry-after": r.RetryAfter} {
		if v != "" {
			ev[k] = v
		}
	}
	return ev
}

// DoctorFacts are the doctor's own typed fields of a result.
type DoctorFacts struct {
	// Check is the doctor check the result belongs to (reachable, pull, …).
	Check string
	// Verify are the commands that show a fix worked.
	Verify []string
	// Corrected is the reference the person most likely meant, when the
	// doctor found one (a similar repository, the repository of a bare
	// digest).
	Corrected string
}

// EvidenceDoctorCheck and EvidenceDoctorVerify are the evidence keys of
// the display copies of DoctorFacts' Check and Verify, for readers of -o
// json. Code reads Result.Doctor.
const (
	EvidenceDoctorCheck  = "doctorCheck"
	EvidenceDoctorVerify = "verify"
)

// Result is one finding.
type Result struct {
	Check    Check    `json:"check"`
	Status   Status   `json:"status"`
	Reason   Reason   `json:"reason"`
	Message  string   `json:"message"`
	Remedy   string   `json:"remedy"`
	Evidence Evidence `json:"evidence,omitempty"`
	// Context is the kubeconfig context a result's cluster was read
	// through, set when one run reads several (--contexts).
	Context          string `json:"context,omitempty"`
	Image            string `json:"image,omitempty"`
	Registry         string `json:"registry,omitempty"`
	Repository       string `json:"repository,omitempty"`
	Namespace        string `json:"namespace,omitempty"`
	Workload         string `json:"workload,omitempty"`
	Container        string `json:"container,omitempty"`
	CredentialSource string `json:"credentialSource,omitempty"`
	// File and Line are where the image a verify result is about is
	// written: a manifest file (or STDIN) or a chart's template, 1-based.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`

	// Typed facts that printers and decisions read. They are not part of
	// the JSON/YAML report (SPEC's fields are): Evidence carries their
	// display copies.

	// Digests are set on workload.digest results, and on registry.pull
	// results that resolved a digest.
	Digests *Digests `json:"-"`
	// RateLimit is set on results whose registry answer announced a limit.
	RateLimit *RateLimit `json:"-"`
	// Doctor is set on every result of the doctor.
	Doctor *DoctorFacts `json:"-"`

	// Pull is the typed form of a workload.pull result's evidence, for
	// code to read (evidence is for display); output shows the evidence.
	Pull *PullFailure `json:"-"`
	// HelmVersion is set on helm.version results: the Helm release that
	// was asked, as it answered.
	HelmVersion string `json:"-"`
	// Version is set on workload.version results that compared tags.
	Version *VersionFacts `json:"-"`
}

// VersionFacts are what a repository's tags said about a running tag
// (workload.version). Tags are as the repository writes them.
type VersionFacts struct {
	Running string
	Scope   string // major, minor or patch
	// Latest is the newest version within the scope (Running when none is
	// newer); LatestInMajor the newest with the running major; Newest the
	// newest of the running tag's shape, whatever the scope.
	Latest, LatestInMajor, Newest string
	// Newer are the newer versions within the scope, newest first.
	Newer []string
}

// Behind reports whether a newer version is within the scope.
func (v *VersionFacts) Behind() bool { return v != nil && len(v.Newer) > 0 }

// PullFailure is what the kubelet said about a failed pull and what
// regcheck's own replay met.
type PullFailure struct {
	KubeletReason  string // ErrImagePull, ImagePullBackOff, ... or an Event reason
	KubeletMessage string // as the kubelet wrote it
	Pods           int    // how many pods fail this way
	Since          string // earliest, RFC 3339
	Replay         Reason // the reason regcheck met itself (Ok), empty when not replayed
	Nodes          []string
}

// Summary counts results per status.
type Summary struct {
	Pass int `json:"pass"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the top object of every -o json/yaml output.
type Report struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Results    []Result `json:"results"`
	Summary    Summary  `json:"summary"`
}

// New builds a report of kind from results and counts them.
func New(kind string, results []Result) Report {
	if results == nil {
		results = []Result{}
	}
	r := Report{APIVersion: APIVersion, Kind: kind, Results: results}
	for _, res := range results {
		switch res.Status {
		case StatusPass:
			r.Summary.Pass++
		case StatusWarn:
			r.Summary.Warn++
		case StatusFail:
			r.Summary.Fail++
		case StatusSkip:
			r.Summary.Skip++
		}
	}
	return r
}

// Worst is the worst status in the report (pass when empty).
func (r Report) Worst() Status {
	worst := StatusPass
	for _, res := range r.Results {
		if res.Status.Worse(worst) {
			worst = res.Status
		}
	}
	return worst
}

// Exit codes, as SPEC.md fixes them.
const (
	ExitOK        = 0
	ExitFailed    = 1
	ExitCannotRun = 2
)

// ExitCode is 1 when a result failed, or warned and failOn is warn; else 0.
func (r Report) ExitCode(failOn Status) int {
	switch worst := r.Worst(); {
	case worst == StatusFail:
		return ExitFailed
	case worst == StatusWarn && failOn == StatusWarn:
		return ExitFailed
	}
	return ExitOK
}

// SortStable orders results by namespace, workload, container and image,
// keeping the engine's order within equal keys (its checks come in
// checklist order), so output is stable.
func SortStable(results []Result) {
	sort.SliceStable(results, func(i, j int) bool { return Before(results[i], results[j]) })
}

// Before is SortStable's order: namespace, workload, container, image.
func Before(a, b Result) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Workload != b.Workload {
		return a.Workload < b.Workload
	}
	if a.Container != b.Container {
		return a.Container < b.Container
	}
	return a.Image < b.Image
}

// ApplyRateLimitRule applies SPEC's rule to the results of one run:
// RateLimited is a warn when nothing else failed, a fail otherwise. A
// workload.pull stays fail: a pod that cannot pull is not running.
func ApplyRateLimitRule(results []Result) {
	otherFailed := false
	for _, r := range results {
		if r.Status == StatusFail && r.Reason != ReasonRateLimited {
			otherFailed = true
			break
		}
	}
	for i := range results {
		if results[i].Reason == ReasonRateLimited && results[i].Check != CheckWorkloadPull {
			results[i].Status = StatusFail
			if !otherFailed {
				results[i].Status = StatusWarn
			}
		}
	}
}

// RestartStyle is how a kind of workload gets fresh pods, which pull
// again: the kinds table in pkg/kube says each kind's, pkg/remedy words
// it. The zero value is the one that works for any controller.
type RestartStyle int

// The restart styles.
const (
	// RestartDeletePods: delete the pods and their controller makes new
	// ones (ReplicaSet, ReplicationController, a custom controller).
	RestartDeletePods RestartStyle = iota
	// RestartRollout: kubectl rollout restart (Deployment, StatefulSet,
	// DaemonSet).
	RestartRollout
	// RestartScheduled: the next scheduled run pulls again, or one made
	// now from the schedule (CronJob).
	RestartScheduled
	// RestartReplace: the object is replaced whole; its pods cannot be
	// made again otherwise (Job, a bare Pod).
	RestartReplace
)
