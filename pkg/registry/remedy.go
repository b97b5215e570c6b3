package registry

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

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

// ecrTokenExpired reports ECR's answer to a login whose 12-hour token has
// run out: 403 with "denied: Your authorization token has expired.
// Reauthenticate and try again." (../shared/REGISTRIES.md). ECR gives it
// no error code of its own (DENIED, or a text body), so its words are the
// only sign; the credentials were refused, not short of a permission.
func ecrTokenExpired(r *response) bool {
	return r != nil && r.Status == http.StatusForbidden && bytes.Contains(r.Body, []byte("Your authorization token has expired"))
}

// ecrExpired is the InvalidCredentials failure of an expired ECR login,
// with the re-login for its region.
func ecrExpired(ref imageref.Reference, cred string, r *response) *Failure {
	region := "REGION"
	if labels := strings.Split(ref.Registry, "."); len(labels) >= 4 && strings.HasPrefix(labels[2], "ecr") {
		region = labels[3]
	}
	return (&Failure{Reason: report.ReasonInvalidCredentials, Evidence: responseEvidence(r),
		Message: ref.Registry + " says the ECR authorization token from " + cred + " has expired (403; ECR logins last 12 hours)",
		Remedy: "log in again: aws ecr get-login-password --region " + region + " | docker login --username AWS --password-stdin " + ref.Registry +
			" (the ecr-login credential helper renews it by itself: \"credHelpers\": {\"" + ref.Registry + "\": \"ecr-login\"})"}).answered(r)
}
