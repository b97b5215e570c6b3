package registry

import (
	"strconv"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// LoginHost is the host a login command takes for ref's registry: Docker
// Hub is "docker.io" for docker and registry-1.docker.io for helm.
func LoginHost(ref imageref.Reference, tool string) string {
	if ref.Registry == imageref.DockerHubDomain && tool == "helm" {
		return imageref.DockerHubAPI
	}
	return ref.Registry
}

// loginHint is the generic remedy for missing or refused credentials; the
// probe replaces it with the command for the credential source in use.
func loginHint(ref imageref.Reference) string {
	return "log in: docker login " + LoginHost(ref, "docker") + " (or helm registry login " + LoginHost(ref, "helm") +
		"; for a cluster, a pull secret: kubectl create secret docker-registry NAME --docker-server=" + ref.CredentialKey + " ...)"
}

func rateLimited(ref imageref.Reference, r *response) *Failure {
	msg := ref.Registry + " is rate limiting (429)"
	if ra := r.Header.Get("Retry-After"); ra != "" {
		msg += "; retry after " + ra
		if _, err := strconv.Atoi(ra); err == nil {
			msg += "s"
		}
	}
	return (&Failure{Reason: report.ReasonRateLimited, Evidence: responseEvidence(r), Message: msg,
		Remedy: "wait for the limit to reset, authenticate for a higher limit, or use a pull-through mirror"}).answered(r)
}

func serverError(ref imageref.Reference, r *response) *Failure {
	return (&Failure{Reason: report.ReasonServerError, Evidence: responseEvidence(r),
		Message: ref.Registry + " failed with HTTP " + strconv.Itoa(r.Status) + " on " + r.Method + " " + r.URL.Path,
		Remedy:  "the registry is failing; retry later or check its status page and logs"}).answered(r)
}

// fail scrubs a failure of anything the server may have echoed back from
// the session's secrets.
func (s *Session) fail(f *Failure) *Failure {
	if f == nil {
		return nil
	}
	f.Message = s.scrub(f.Message)
	for k, v := range f.Evidence {
		switch x := v.(type) {
		case string:
			f.Evidence[k] = s.scrub(x)
		case []string:
			out := make([]string, len(x))
			for i := range x {
				out[i] = s.scrub(x[i])
			}
			f.Evidence[k] = out
		}
	}
	return f
}
