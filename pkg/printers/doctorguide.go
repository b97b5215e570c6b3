package printers

// DoctorGuide is what a doctor check is for, as the markdown report explains it.
type DoctorGuide struct {
	What string
	Why  string
}

// DoctorGuides explain each doctor check, by its ID (doctor.IDs; the
// doctor's tests hold every ID to a guide).
var DoctorGuides = map[string]DoctorGuide{
	"helm-version": {
		What: "Under Helm: which Helm release runs the plugin (`helm version`) and whether it has a known OCI registry bug for push, pull or registry login.",
		Why:  "Some Helm releases fail where the registry is fine: 3.13.2 to 3.14.x break anonymous pushes with `unexpected EOF`, 3.18 to 3.21 pushes to Quay with `401`; the fix is an upgrade, not a registry change.",
	},
	"reachable": {
		What: "DNS resolution, a TCP connection, the TLS certificate (subject, issuer, expiry) and that GET /v2/ answers the registry API.",
		Why:  "Every other check depends on it; a login portal or proxy answering /v2/ is what makes clients fail with `invalid character '<'` or `Expecting value: line 1 column 1`.",
	},
	"credentials": {
		What: "Which method is in use (bearer, basic, anonymous) and where the credential came from, that it is complete, and a real authenticated exchange.",
		Why:  "A username without a password, or a stale login, fails only at pull or push time, often as a misleading `unauthorized` or `unexpected EOF`.",
	},
	"pull": {
		What: "That the reference resolves with the credentials in use: token scope, then a manifest HEAD (HEAD does not count against pull limits). An image no pull secret serves but a kubelet credential provider does (ECR on EKS, Artifact Registry on GKE, ACR on AKS, or `--image-credential-provider-config`) is pulled with the node's identity: `skip` `NodeCredentials`, with what that identity needs; its digest is still compared with your own login.",
		Why:  "A missing repository, tag or grant is what breaks a rollout or a worker fetching a bundle; a node role without pull rights breaks every pod on the node, and no pull secret would show it.",
	},
	"push": {
		What: "That a push would be authorized: a push-scoped token, then a blob upload session that is cancelled at once (nothing is written).",
		Why:  "An anonymous or pull-only push fails late; some registries break the anonymous push-scoped token request (Helm's `unexpected EOF`).",
	},
	"reference": {
		What: "That each reference names a repository and a tag or digest, and that the repository exists (else the closest names the registry lists).",
		Why:  "A bare `sha256:…` names no repository; `smoke_bundle` versus `smoke-bundle` means the reader never sees what the pusher pushed.",
	},
	"staleness": {
		What: "Whether the selected workloads' pods run the digest their tags point to now, and risky pull policies.",
		Why:  "A re-pushed `latest` with `IfNotPresent` keeps nodes on the cached old image even after a restart.",
	},
	"workload-settings": {
		What: "Registry hosts and references in the workloads' env vars and ConfigMap keys (`*REGISTRY*`, `*_IMAGE`, `oci://…`, `repo@sha256:…`), checked like images. Specs only; pods are never exec'd into.",
		Why:  "Applications fetch what their settings name, not what the pod's image says; a wrong repository or bare digest there fails at run time.",
	},
	"rate-limit": {
		What: "The `ratelimit-limit` / `ratelimit-remaining` headers on manifest HEADs, and any 429.",
		Why:  "An exhausted pull limit looks like a broken registry; HEADs show the budget without spending it.",
	},
}
