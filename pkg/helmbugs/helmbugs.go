// Package helmbugs knows which Helm releases behave badly at an OCI
// registry: a table of known Helm client bugs (affected releases, the helm
// commands they hit, the symptom as users met it, the first fixed release
// and the upstream issue), and the token request a given release sends for
// a push. It only compares versions; asking Helm its version is the
// caller's job.
//
// Every row cites the upstream issue or pull request it comes from; a bug
// nobody can cite does not belong here.
package helmbugs

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Helm commands a bug can affect.
const (
	Push  = "push"
	Pull  = "pull"
	Login = "registry login"
)

// Range is one affected span of releases and the release that fixed it.
// Helm 3 and Helm 4 fixed some bugs separately: one Range each.
type Range struct {
	Constraint string // semver constraint, e.g. "> 3.13.1, < 3.15.0"
	FixedIn    string // first fixed release of this line, e.g. "v3.15.0"
}

// Bug is one known Helm OCI registry bug.
type Bug struct {
	ID       string   // stable short name, for evidence and tests
	Affected []Range  // releases that have it
	Commands []string // the helm commands it breaks
	Symptom  string   // what the user sees, in their words
	Cause    string   // why, in one clause
	Upstream []string // issues and pull requests, owner/repo#N
}

// Known is every known bug, most relevant to regcheck's users first.
var Known = []Bug{
	{
		// The seed incident (../shared/SEEDS.md, incident 1). Upstream the
		// issue stayed open and #13545 reports the same on v3.15.1; the
		// field notes, which SPEC follows, saw it fixed by v3.15.0.
		ID:       "anonymous-push-eof",
		Affected: []Range{{Constraint: "> 3.13.1, < 3.15.0", FixedIn: "v3.15.0"}},
		Commands: []string{Push},
		Symptom:  "helm push to a public or anonymous-push registry dies with `unexpected EOF`",
		Cause:    "it asks for push scope without credentials and the registry's token endpoint cuts its answer off",
		Upstream: []string{"helm/helm#12835"},
	},
	{
		// v3.13.0 set a hand-made Basic Authorization header (#12237);
		// v3.13.1 kept it; v3.13.2 reverted both changes (#12527).
		ID:       "basic-auth-header",
		Affected: []Range{{Constraint: ">= 3.13.0, < 3.13.2", FixedIn: "v3.13.2"}},
		Commands: []string{Pull, Push},
		Symptom:  "helm pull/template of an OCI chart fails with `401 Unauthorized` (`400 Bad Request` on public.ecr.aws) after helm registry login",
		Cause:    "it sends a hand-made Basic Authorization header that Docker Hub, ECR and ACR refuse",
		Upstream: []string{"helm/helm#12423", "helm/helm#12533", "helm/helm#12527"},
	},
	{
		// oras-go v2 (Helm 3.18+, Helm 4) asks a pull-only token for the
		// existence check and keeps it; Quay then refuses the push. Fixed
		// by sending pull,push up front: #31211 (Helm 4, in v4.2.4) and its
		// backport #32362 (first in v3.22.0).
		ID: "push-pull-only-token",
		Affected: []Range{
			{Constraint: ">= 3.18.0, < 3.22.0", FixedIn: "v3.22.0"},
			{Constraint: ">= 4.0.0-0, < 4.2.4", FixedIn: "v4.2.4"},
		},
		Commands: []string{Push},
		Symptom:  "helm push to Quay fails with `401 Unauthorized` on HEAD …/manifests/sha256:… although the robot may push",
		Cause:    "its first token request asks pull only and that pull-only token is reused for the push",
		Upstream: []string{"helm/helm#32144", "helm/helm#30987", "helm/helm#31117", "helm/helm#31211", "helm/helm#32362"},
	},
	{
		ID:       "login-docker-hub-key",
		Affected: []Range{{Constraint: ">= 3.18.0, < 3.18.2", FixedIn: "v3.18.2"}},
		Commands: []string{Login, Pull, Push},
		Symptom:  "after a successful helm registry login registry-1.docker.io, pulls still fail with `401 Unauthorized`",
		Cause:    "login stores the credentials under registry-1.docker.io instead of https://index.docker.io/v1/, where Helm and Docker look",
		Upstream: []string{"helm/helm#30929", "helm/helm#30937"},
	},
	{
		ID:       "empty-registry-config",
		Affected: []Range{{Constraint: ">= 3.18.0, < 3.18.2", FixedIn: "v3.18.2"}},
		Commands: []string{Login, Pull, Push},
		Symptom:  "helm registry login, pull and push fail at once when the registry config file exists but is empty",
		Cause:    "the move to oras-go v2 made an empty credential store file an error",
		Upstream: []string{"helm/helm#30932"},
	},
	{
		ID:       "login-with-scheme",
		Affected: []Range{{Constraint: ">= 3.18.0, < 3.18.1", FixedIn: "v3.18.1"}},
		Commands: []string{Login},
		Symptom:  "helm registry login https://HOST fails with `invalid reference: invalid registry`",
		Cause:    "oras-go v2 refuses a scheme in the registry host",
		Upstream: []string{"helm/helm#30922"},
	},
	{
		ID:       "docker-config-creds-store",
		Affected: []Range{{Constraint: ">= 3.0.0-0, < 3.8.0", FixedIn: "v3.8.0"}},
		Commands: []string{Pull, Push},
		Symptom:  "helm push/pull fails with `failed to fetch anonymous token: unexpected status: 401 Unauthorized` although docker login works",
		Cause:    "Helm ignores DOCKER_CONFIG and the credential helper (credsStore) Docker uses",
		Upstream: []string{"helm/helm#10536"},
	},
}

// Version is a Helm release as `helm version` names it.
type Version struct {
	v *semver.Version
}

// ParseVersion reads a release such as v3.14.4 or 3.14.4+g81c902a.
func ParseVersion(s string) (Version, error) {
	v, err := semver.NewVersion(strings.TrimSpace(s))
	if err != nil {
		return Version{}, fmt.Errorf("%q is not a Helm release version: %w", s, err)
	}
	return Version{v: v}, nil
}

// String is the release as Helm tags it: v3.14.4 (build metadata dropped).
func (v Version) String() string {
	if v.v == nil {
		return ""
	}
	s := fmt.Sprintf("v%d.%d.%d", v.v.Major(), v.v.Minor(), v.v.Patch())
	if p := v.v.Prerelease(); p != "" {
		s += "-" + p
	}
	return s
}

// Major is the major release line (3 or 4).
func (v Version) Major() uint64 { return v.v.Major() }

// in reports whether v satisfies a constraint. Build metadata (+g<commit>)
// never changes the answer.
func (v Version) in(constraint string) bool {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		panic(fmt.Sprintf("helmbugs: bad constraint %q: %v", constraint, err)) // a table typo, caught by the tests
	}
	return c.Check(v.v)
}

// Match is a bug a release has, with the fix for that release's line.
type Match struct {
	Bug
	FixedIn string
}

// Affecting returns the bugs v has that break any of commands, in table
// order. No commands means every command.
func Affecting(v Version, commands ...string) []Match {
	var out []Match
	for _, b := range Known {
		if !b.hits(commands) {
			continue
		}
		for _, r := range b.Affected {
			if v.in(r.Constraint) {
				out = append(out, Match{Bug: b, FixedIn: r.FixedIn})
				break
			}
		}
	}
	return out
}

func (b Bug) hits(commands []string) bool {
	if len(commands) == 0 {
		return true
	}
	for _, c := range commands {
		for _, bc := range b.Commands {
			if c == bc {
				return true
			}
		}
	}
	return false
}

// PushTokenRequest says which token request Helm release v sends first
// when it pushes to repository, and whether that is what regcheck's own
// probe asks (repository:R:pull,push in the first request). Sources:
// Helm up to 3.17 (oras-go v1) asks both scopes in one request
// (helm/helm#12121, #32144); 3.18 to 3.21 and 4.0 to 4.2.3 (oras-go v2)
// ask pull alone first (helm/helm#31117); v3.22.0 and v4.2.4 ask pull,push
// up front (helm/helm#32362, #31211).
func PushTokenRequest(v Version, repository string) (request string, same bool) {
	pull := "repository:" + repository + ":pull"
	push := "repository:" + repository + ":pull,push"
	switch {
	case v.in("< 3.18.0-0"):
		return fmt.Sprintf("one token request with two scopes, %s and %s", pull, push), false
	case v.in(">= 3.18.0-0, < 3.22.0-0"), v.in(">= 4.0.0-0, < 4.2.4-0"):
		return fmt.Sprintf("a token request for %s alone first, then one for %s", pull, push), false
	}
	return fmt.Sprintf("a token request for %s first", push), true
}
