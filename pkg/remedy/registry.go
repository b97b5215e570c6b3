package remedy

import (
	"strings"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// LoginHost is the host a login command takes for registry: Docker Hub is
// "docker.io" for docker and registry-1.docker.io for helm.
func LoginHost(registry, tool string) string {
	if registry == imageref.DockerHubDomain && tool == "helm" {
		return imageref.DockerHubAPI
	}
	return registry
}

// Audience is who reads a registry fault's fix: the caller chooses it, and
// Registry words the fix for it (the commands and flags that reader has).
type Audience int

const (
	// ForKubectl: a person running kubectl regcheck; regcheck's own flags.
	ForKubectl Audience = iota
	// ForHelm: a person running regcheck as a Helm plugin: helm registry
	// login, and helm's own --plain-http, --ca-file and
	// --insecure-skip-tls-verify for the helm commands that follow.
	ForHelm
	// ForWorkload: the fix is on the cluster's side: a pull secret, the
	// nodes' container runtime, their network.
	ForWorkload
)

// Registry is the fix for a failed registry exchange, worded for to. When
// credentials were missing or refused it is the generic login for that
// reader; callers that know who holds the credentials word that fix with
// Local.Login or Workload.Credentials instead. It returns "" for a fault
// without a cause.
func Registry(f report.Fault, to Audience) string {
	if fix := audienceFix(f, to); fix != "" {
		return fix
	}
	reg, repo, host := f.Registry, f.Repository, f.Host
	switch f.Cause {
	case report.CauseNoAnswer:
		return "check the registry host name, DNS, proxy settings (HTTPS_PROXY/NO_PROXY) and firewall from this machine"
	case report.CauseConnectionReset:
		if f.PlainHTTP {
			return "if the registry speaks HTTPS, drop --plain-http; else check the registry and any proxy in between"
		}
		return Registry(report.Fault{Cause: report.CauseNoAnswer}, to)
	case report.CauseTimeout:
		return "retry with a longer --timeout, and check the registry is reachable from here"
	case report.CauseRedirectLoop:
		return "check the registry URL; a registry API does not redirect /v2/ endlessly"
	case report.CauseConnectionRefused:
		return "check that the registry runs and listens on " + host + " (and the port)"
	case report.CauseBadRequestURL:
		return "check the registry host and repository name"

	case report.CauseCAFileUnreadable:
		return "pass a readable PEM file to --ca-file"
	case report.CauseCAFileNoPEM:
		return "pass a PEM-encoded CA certificate to --ca-file"
	case report.CauseUnknownAuthority:
		return "pass the registry's CA with --ca-file PATH (or, for a test registry only, --insecure-skip-tls-verify)"
	case report.CauseCertificateExpired:
		return "renew the registry's certificate (or check this machine's clock)"
	case report.CauseCertificateInvalid:
		return "fix the registry's certificate chain, or pass its CA with --ca-file PATH"
	case report.CauseCertificateHost:
		return "use a registry name the certificate covers, or reissue the certificate for " + host
	case report.CauseTLSToPlainHTTP:
		return "the registry speaks plain HTTP: pass --plain-http"
	case report.CausePlainHTTPToTLS:
		return "drop --plain-http (pass --ca-file PATH if its certificate is private)"
	case report.CauseTLSHandshake:
		return "check the registry's certificate, --ca-file and --plain-http"

	case report.CauseHTMLPage:
		return "point at the registry's API host, not its web UI or login portal; check proxies in between"
	case report.CauseHTMLManifestType:
		return "a proxy in between or the registry's configuration rewrites the Content-Type of manifests; runtimes refuse them so: fix it there"
	case report.CauseNoV2API:
		return "check the registry host; Helm and OCI clients need a registry that serves /v2/"
	case report.CauseNotRegistryAnswer:
		return "point at the registry's API host; check proxies that intercept /v2/"
	case report.CauseUnexpectedV2Status:
		return "check the registry host, port and --plain-http"

	case report.CauseUnauthorized:
		return "log in: docker login " + LoginHost(reg, "docker") + " (or helm registry login " + LoginHost(reg, "helm") +
			"; for a cluster, a pull secret: kubectl create secret docker-registry NAME --docker-server=" + f.CredentialKey + " ...)"
	case report.CauseTokenExpiredECR:
		return "log in again: aws ecr get-login-password --region " + ecrRegion(reg) + " | docker login --username AWS --password-stdin " + reg +
			" (the ecr-login credential helper renews it by itself: \"credHelpers\": {\"" + reg + "\": \"ecr-login\"})"
	case report.CauseDenied:
		return "grant this account pull access to " + repo + " (or refresh an expired registry token)"
	case report.CauseTokenForbidden:
		return "ask the registry's administrator to grant this account access to " + repo
	case report.CauseV2Forbidden:
		return "ask the registry's administrator for access for this account"
	case report.CausePullNotGranted:
		return "check the repository name, and grant this account pull access to " + repo
	case report.CausePushDenied:
		return "grant this account push (write) access to " + repo + ", or log in with an account that has it"
	case report.CauseReadOnly:
		return "push to the upstream registry, not to a read-only mirror"
	case report.CauseCatalogRefused:
		return "list the repositories in the registry's web UI, or ask its administrator"
	case report.CauseChallengeNoRealm:
		return "the registry's auth configuration is broken; report it to its administrator"
	case report.CauseInsecureRealm:
		return "configure the registry's token service with an https:// realm"
	case report.CauseTokenService:
		return "the registry's token service is failing; retry later, check the registry's status, and run with --debug to see the exchange"
	case report.CauseChallengeDropped:
		return "run with --debug to see the exchange"
	case report.CauseRateLimited:
		return "wait for the limit to reset, authenticate for a higher limit, or use a pull-through mirror"

	case report.CauseNameUnknown:
		return "check the repository name (what was pushed vs what is pulled); list what exists with: crane catalog " + reg
	case report.CauseManifestUnknown:
		return "check the tag or digest; " + tagsHint(to)
	case report.CauseNotFound:
		return "check the repository and tag; " + tagsHint(to)
	case report.CauseNameInvalid:
		return "use a repository name the registry accepts (lower case, [a-z0-9._-/])"
	case report.CausePushNameUnknown:
		return "create the repository (or project) " + repo + " on " + reg + " first"
	case report.CauseBareDigest:
		return "name the repository too: REPOSITORY@" + f.Input + " (e.g. registry.example.com/team/app@" + f.Input + ")"
	case report.CauseInvalidReference:
		return "use HOST/REPOSITORY[:TAG][@sha256:DIGEST], e.g. ghcr.io/org/app:1.0"

	case report.CauseServerError:
		return "the registry is failing; retry later or check its status page and logs"
	case report.CauseBrokenManifest:
		return "the registry served a broken manifest; retry, and report it to the registry's administrator"
	case report.CauseUnparsable:
		return "report the broken " + f.What + " to the registry's administrator"
	case report.CauseTagsUnreadable:
		return "retry; if it persists, report it to the registry's administrator"
	case report.CauseUnexpectedAnswer:
		return "run with --debug to see the exchange; report it to the registry's administrator"
	}
	return ""
}

// audienceFix is the fix where a Helm user's or a workload's differs from
// a kubectl user's, else "".
func audienceFix(f report.Fault, to Audience) string {
	reg, host := f.Registry, f.Host
	switch to {
	case ForHelm:
		switch f.Cause {
		case report.CauseUnauthorized:
			return "log in: helm registry login " + LoginHost(reg, "helm")
		case report.CauseTokenExpiredECR:
			return "log in again: aws ecr get-login-password --region " + ecrRegion(reg) + " | helm registry login --username AWS --password-stdin " + reg
		case report.CauseUnknownAuthority:
			return "pass the registry's CA with --ca-file PATH, to helm too (or, for a test registry only, --insecure-skip-tls-verify on both)"
		case report.CauseCertificateInvalid:
			return "fix the registry's certificate chain, or pass its CA with --ca-file PATH, to helm too"
		case report.CauseTLSToPlainHTTP:
			return "the registry speaks plain HTTP: pass --plain-http, to helm too (helm pull, push and install take it)"
		case report.CausePlainHTTPToTLS:
			return "drop --plain-http, from the helm command too (pass --ca-file PATH if its certificate is private)"
		}
	case ForWorkload:
		switch f.Cause {
		case report.CauseUnauthorized:
			return "give the pods a pull secret for " + f.CredentialKey + ": kubectl create secret docker-registry NAME --docker-server=" + f.CredentialKey +
				" ..., named in the pod's imagePullSecrets or its ServiceAccount's"
		case report.CauseUnknownAuthority, report.CauseCertificateInvalid, report.CauseTLSHandshake, report.CauseTLSToPlainHTTP, report.CausePlainHTTPToTLS:
			return "make the nodes trust " + reg + "'s certificate (the runtime's CA: containerd's certs.d/" + reg + "/hosts.toml, CRI-O's /etc/containers/certs.d), or fix http/https in the runtime's registry config"
		case report.CauseNoAnswer, report.CauseConnectionReset, report.CauseTimeout, report.CauseConnectionRefused:
			return "let the nodes reach " + host + ": their DNS, egress firewall and HTTP(S)_PROXY/NO_PROXY for the container runtime"
		}
	}
	return ""
}

// tagsHint is regcheck's own way to see which tags a repository has:
// the first tags its list gives are in the result's evidence, and
// --newer lists the newer versions for the workloads (kubectl) or the
// release (helm) that run it.
func tagsHint(to Audience) string {
	if to == ForHelm {
		return "the tags the repository lists are in evidence.tags (-o yaml), and helm regcheck release NAME --newer names the newer versions for a release that runs it"
	}
	return "the tags the repository lists are in evidence.tags (-o yaml), and kubectl regcheck TYPE/NAME --newer names the newer versions for a workload that runs it"
}

// ecrRegion is the region of an ECR registry host, else "REGION".
func ecrRegion(reg string) string {
	if labels := strings.Split(reg, "."); len(labels) >= 4 && strings.HasPrefix(labels[2], "ecr") {
		return labels[3]
	}
	return "REGION"
}
