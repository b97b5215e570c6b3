package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

func newClient(t *testing.T, o registry.Options) *registry.Client {
	t.Helper()
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 2 * time.Second
	}
	c, err := registry.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The stores of the test credentials, each with its typed origin.
var (
	dockerConfig = credentials.Store{Source: credentials.SourceDockerConfig, Origin: credentials.OriginDockerConfig}
	helmConfig   = credentials.Store{Source: credentials.SourceHelmRegistryConfig, Origin: credentials.OriginHelmConfig}
	flagsStore   = credentials.Store{Source: credentials.SourceFlags, Origin: credentials.OriginFlags}
)

func helperStore(name string) credentials.Store {
	return credentials.Store{Source: "credential-helper/" + name, Origin: credentials.OriginHelper}
}

func secretStore(ref string) credentials.Store {
	return credentials.Store{Source: "secret/" + ref, Origin: credentials.OriginCluster}
}

func cred(from credentials.Store, user, pass string) credentials.Credential {
	return credentials.Credential{Source: from.Source, Origin: from.Origin, Username: user, Password: pass}
}

func keyed(c credentials.Credential, key string) credentials.Credential {
	c.Key = key
	return c
}

func find(rs []report.Result, check report.Check) *report.Result {
	for i := range rs {
		if rs[i].Check == check && rs[i].Reason != report.ReasonIncompleteCredentials {
			return &rs[i]
		}
	}
	return nil
}

type want struct {
	check    report.Check
	status   report.Status
	reason   report.Reason
	source   string   // credentialSource, when set
	evidence []string // substrings of the evidence JSON
	remedy   string   // substring of the remedy
}

func TestCheck(t *testing.T) {
	public := map[string][]string{"* library/nginx": {"pull"}, "alice library/nginx": {"pull"}}
	tests := []struct {
		name   string
		fake   *fake
		image  string // REPO:TAG on the fake
		push   bool
		noPull bool // a push-only target, as helm push-auth sends
		creds  []credentials.Credential
		tried  []credentials.Store
		wants  []want
		absent []report.Check
	}{
		{
			name:  "Docker Hub: anonymous pull of a public image, rate-limit headers in evidence",
			fake:  &fake{Grants: public, Repos: map[string][]string{"library/nginx": {"latest"}}, RateLimit: true},
			image: "library/nginx:latest",
			wants: []want{
				{check: report.CheckRegistryReachable, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{`Bearer realm=`}},
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, source: "anonymous"},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{`"ratelimit-remaining":"99;w=21600"`, `"digest":"sha256:`}},
			},
		},
		{
			name:  "Docker Hub: anonymous push gets a token for any scope, then 401 insufficient_scope",
			fake:  &fake{Grants: public, Repos: map[string][]string{"library/nginx": {"latest"}}},
			image: "library/nginx:latest", push: true,
			tried: []credentials.Store{dockerConfig},
			wants: []want{
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
				{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonAnonymousPushDenied, evidence: []string{`insufficient_scope`, `repository:library/nginx:pull,push`}, remedy: "docker login 127.0.0.1"},
			},
		},
		{
			name:  "Docker Hub: credentials with pull only, push asked → ScopeNotGranted with requested and granted",
			fake:  &fake{Users: map[string]string{"alice": "pw"}, Grants: public, Repos: map[string][]string{"library/nginx": {"latest"}}},
			image: "library/nginx:latest", push: true,
			creds: []credentials.Credential{cred(dockerConfig, "alice", "pw")},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, source: "docker-config", evidence: []string{`"method":"bearer"`, `"tokenKind":"jwt"`}},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
				{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonScopeNotGranted, source: "docker-config", evidence: []string{`"requestedScope":["repository:library/nginx:pull,push"]`, `"grantedActions":["pull"]`}},
			},
		},
		{
			name:  "Docker Hub: wrong password → InvalidCredentials at the token endpoint",
			fake:  &fake{Users: map[string]string{"alice": "pw"}, Grants: public, Repos: map[string][]string{"library/nginx": {"latest"}}},
			image: "library/nginx:latest",
			creds: []credentials.Credential{cred(helmConfig, "alice", "wrong")},
			tried: []credentials.Store{helmConfig},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonInvalidCredentials, evidence: []string{`incorrect username or password`}, remedy: "helm registry login 127.0.0.1"},
				{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonInvalidCredentials},
			},
		},
		{
			name: "GHCR: opaque GET-only token, push allowed, DELETE of the upload 405 → pass, session left to expire",
			fake: &fake{Opaque: true, TokenGETOnly: true, DeleteStatus: http.StatusMethodNotAllowed, Users: map[string]string{"bob": "ghp_x"},
				Grants: map[string][]string{"bob org/app": {"pull", "push"}}, Repos: map[string][]string{"org/app": {"1.0"}}},
			image: "org/app:1.0", push: true,
			creds: []credentials.Credential{cred(dockerConfig, "bob", "ghp_x")},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{"opaque token, grant unknown"}},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
				{check: report.CheckRegistryPush, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{"left to expire", `"uploadLocation":"/v2/org/app/blobs/uploads/1234-uuid"`}},
			},
		},
		{
			name: "GHCR: push denied with 403 DENIED on the upload → Forbidden (opaque token)",
			fake: &fake{Opaque: true, TokenGETOnly: true, UploadDenial: http.StatusForbidden, Users: map[string]string{"bob": "ghp_x"},
				Grants: map[string][]string{"bob org/app": {"pull"}}, Repos: map[string][]string{"org/app": {"1.0"}}},
			image: "org/app:1.0", push: true,
			creds: []credentials.Credential{cred(dockerConfig, "bob", "ghp_x")},
			wants: []want{{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonForbidden, evidence: []string{`DENIED`}}},
		},
		{
			name:  "Quay: anonymous push-scoped token request gets a cut-off body → AnonymousPushDenied (seed 1), pull still passes",
			fake:  &fake{AnonPushCut: true, Grants: map[string][]string{"* org/chart": {"pull"}}, Repos: map[string][]string{"org/chart": {"0.1.0"}}},
			image: "org/chart:0.1.0", push: true,
			tried: []credentials.Store{helmConfig},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, source: "anonymous"},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
				{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonAnonymousPushDenied, evidence: []string{"unexpected EOF", `pull,push`}, remedy: "helm registry login 127.0.0.1"},
			},
		},
		{
			name:  "helm push-auth: push-only target skips the pull check",
			fake:  &fake{AnonPushCut: true, Grants: map[string][]string{"* org/chart": {"pull"}}, Repos: map[string][]string{"org/chart": {"0.1.0"}}},
			image: "org/chart:0.1.0", push: true, noPull: true,
			wants:  []want{{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonAnonymousPushDenied}},
			absent: []report.Check{report.CheckRegistryPull},
		},
		{
			name: "Quay (self-hosted): /v2/ answers an HTML page → NotARegistry with its title",
			fake: &fake{ExtraV2Handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Quay Container Registry</title></head><body></body></html>")
			}},
			image:  "org/app:1.0",
			wants:  []want{{check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonNotARegistry, evidence: []string{`"pageTitle":"Quay Container Registry"`, `text/html`}}},
			absent: []report.Check{report.CheckRegistryPull},
		},
		{
			name: "HTML login portal: /v2/ redirects to a sign-in page → NotARegistry",
			fake: &fake{ExtraV2Handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/login?next=%2Fv2%2F", http.StatusFound)
			}},
			image: "team/app:1.0",
			wants: []want{{check: report.CheckRegistryReachable, status: report.StatusFail, reason: report.ReasonNotARegistry}},
		},
		{
			name: "Harbor: robot account with a pull-only token, push denied → ScopeNotGranted",
			fake: &fake{Users: map[string]string{"robot$ci": `p"a\ss$:'w`}, Grants: map[string][]string{"robot$ci proj/app": {"pull"}},
				Repos: map[string][]string{"proj/app": {"v1"}}},
			image: "proj/app:v1", push: true,
			creds: []credentials.Credential{cred(secretStore("shop/harbor"), "robot$ci", `p"a\ss$:'w`)},
			wants: []want{
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk, source: "secret/shop/harbor"},
				{check: report.CheckRegistryPush, status: report.StatusFail, reason: report.ReasonScopeNotGranted},
			},
		},
		{
			name: "ECR: Basic challenge with text/plain body, valid credentials → basic pass",
			fake: &fake{Basic: "Basic", Users: map[string]string{"AWS": "ecr-token"}, Grants: map[string][]string{"AWS team/app": {"pull", "push"}},
				Repos: map[string][]string{"team/app": {"1"}}},
			image: "team/app:1", push: true,
			creds: []credentials.Credential{cred(helperStore("ecr-login"), "AWS", "ecr-token")},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{`"method":"basic"`}},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
				{check: report.CheckRegistryPush, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{`cancelled (DELETE answered 204)`}},
			},
		},
		{
			name:  "ECR: no credentials → CredentialsRequired, naming a possibly private or missing repository",
			fake:  &fake{Basic: "Basic", Repos: map[string][]string{"team/app": {"1"}}},
			image: "team/app:1",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonCredentialsRequired, remedy: "log in"}},
		},
		{
			name: "Nexus: BASIC in capitals",
			fake: &fake{Basic: "BASIC", Users: map[string]string{"admin": "admin123"}, Grants: map[string][]string{"admin repo/app": {"pull"}},
				Repos: map[string][]string{"repo/app": {"1"}}},
			image: "repo/app:1",
			creds: []credentials.Credential{cred(dockerConfig, "admin", "admin123")},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, evidence: []string{`"method":"basic"`}},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk},
			},
		},
		{
			name:  "Docker Hub: 429 with Retry-After → RateLimited is a warning when nothing else failed",
			fake:  &fake{Grants: public, ManifestStatus: http.StatusTooManyRequests, RetryAfter: "30", RateLimit: true},
			image: "library/nginx:latest",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusWarn, reason: report.ReasonRateLimited, evidence: []string{`"retry-after":"30"`, `"ratelimit-limit"`}}},
		},
		{
			name:  "429 without Retry-After",
			fake:  &fake{Grants: public, ManifestStatus: http.StatusTooManyRequests},
			image: "library/nginx:latest",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusWarn, reason: report.ReasonRateLimited}},
		},
		{
			name:  "500 on the manifest → ServerError",
			fake:  &fake{Grants: public, ManifestStatus: http.StatusInternalServerError},
			image: "library/nginx:latest",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonServerError}},
		},
		{
			name:  "token endpoint 500 → TokenEndpointError",
			fake:  &fake{Grants: public, TokenStatus: http.StatusInternalServerError},
			image: "library/nginx:latest",
			creds: []credentials.Credential{cred(dockerConfig, "alice", "pw")},
			wants: []want{{check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError, evidence: []string{`"httpStatus":500`}}},
		},
		{
			name:  "token endpoint answers HTML → TokenEndpointError",
			fake:  &fake{Grants: public, TokenHTML: true},
			image: "library/nginx:latest",
			wants: []want{{check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonTokenEndpointError, evidence: []string{`"pageTitle":"Sign in"`}}},
		},
		{
			name:  "repository does not exist → RepositoryNotFound",
			fake:  &fake{Grants: map[string][]string{"* modelops-bundles": {"pull"}}, Repos: map[string][]string{"smoke_bundle": {"latest"}}},
			image: "modelops-bundles:latest",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonRepositoryNotFound, evidence: []string{"NAME_UNKNOWN"}}},
		},
		{
			name:  "tag does not exist → TagNotFound",
			fake:  &fake{Grants: public, Repos: map[string][]string{"library/nginx": {"latest"}}},
			image: "library/nginx:nope",
			wants: []want{{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonTagNotFound, remedy: "--newer"}},
		},
		{
			name: "seed 3: basic credentials on a Bearer registry are followed to a real token and a real request",
			fake: &fake{RejectTokensV2: true, Users: map[string]string{"alice": "pw"}, Grants: public,
				Repos: map[string][]string{"library/nginx": {"latest"}}},
			image: "library/nginx:latest",
			creds: []credentials.Credential{cred(flagsStore, "alice", "pw")},
			wants: []want{{check: report.CheckRegistryCredentials, status: report.StatusFail, reason: report.ReasonInvalidCredentials, evidence: []string{`"httpStatus":401`}}},
		},
		{
			name:  "several candidates: the first is refused, the second works",
			fake:  &fake{Users: map[string]string{"alice": "pw"}, Grants: map[string][]string{"alice team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}},
			image: "team/app:1",
			creds: []credentials.Credential{cred(secretStore("ns/old"), "alice", "old"), cred(secretStore("ns/new"), "alice", "pw")},
			wants: []want{
				{check: report.CheckRegistryCredentials, status: report.StatusPass, reason: report.ReasonOk, source: "secret/ns/new", evidence: []string{`"tried":["secret/ns/old","secret/ns/new"]`, `"failures":[{"credential":"secret/ns/old","reason":"InvalidCredentials"}]`}},
				{check: report.CheckRegistryPull, status: report.StatusPass, reason: report.ReasonOk, source: "secret/ns/new"},
			},
		},
		{
			// Two entries of one pull secret share its source: each
			// attempt is its own element, not one merged key.
			name:  "one secret's two entries, both refused: each is named with its entry",
			fake:  &fake{Users: map[string]string{"alice": "pw"}, Grants: map[string][]string{"alice team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}},
			image: "team/app:1",
			creds: []credentials.Credential{keyed(cred(secretStore("ns/both"), "alice", "old"), "HOST/team"), keyed(cred(secretStore("ns/both"), "alice", "older"), "HOST")},
			wants: []want{
				{check: report.CheckRegistryPull, status: report.StatusFail, reason: report.ReasonInvalidCredentials, evidence: []string{
					`"failures":[{"credential":"secret/ns/both","key":"HOST/team","reason":"InvalidCredentials"},{"credential":"secret/ns/both","key":"HOST","reason":"InvalidCredentials"}]`}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fake.start(t)
			image := tc.fake.host() + "/" + tc.image
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			pr := New(newClient(t, registry.Options{PlainHTTP: true}))
			rs := pr.Check(ctx, Target{Image: image, Push: tc.push, Pull: !tc.noPull,
				Lookup: credentials.Lookup{Credentials: tc.creds, Tried: tc.tried}})
			if testing.Verbose() {
				t.Log("\n" + dump(rs))
			}
			for _, w := range tc.wants {
				r := find(rs, w.check)
				if r == nil {
					t.Fatalf("no %s result in %s", w.check, dump(rs))
				}
				if r.Status != w.status || r.Reason != w.reason {
					t.Fatalf("%s = %s/%s, want %s/%s\n%s", w.check, r.Status, r.Reason, w.status, w.reason, dump(rs))
				}
				if w.source != "" && r.CredentialSource != w.source {
					t.Errorf("%s credentialSource = %q, want %q", w.check, r.CredentialSource, w.source)
				}
				ev, _ := json.Marshal(r.Evidence)
				for _, s := range w.evidence {
					if !strings.Contains(string(ev), s) {
						t.Errorf("%s evidence lacks %q: %s", w.check, s, ev)
					}
				}
				if !strings.Contains(r.Remedy, w.remedy) {
					t.Errorf("%s remedy %q lacks %q", w.check, r.Remedy, w.remedy)
				}
				if r.Message == "" || strings.Contains(r.Message, "\n") {
					t.Errorf("%s message must be one line: %q", w.check, r.Message)
				}
				if r.Status != report.StatusPass && r.Remedy == "" {
					t.Errorf("%s has no remedy", w.check)
				}
				if r.Image != image || r.Registry != tc.fake.host() {
					t.Errorf("%s image/registry = %q/%q", w.check, r.Image, r.Registry)
				}
			}
			for _, c := range tc.absent {
				if find(rs, c) != nil {
					t.Errorf("unexpected %s result: %s", c, dump(rs))
				}
			}
			if tc.fake.saw("PUT") || tc.fake.saw("PATCH") {
				t.Error("regcheck wrote to the registry")
			}
			if tc.push && find(rs, report.CheckRegistryPush).Status == report.StatusPass && !tc.fake.saw("DELETE /v2/") {
				t.Error("the upload session was not cancelled")
			}
		})
	}
}

func dump(rs []report.Result) string {
	var b bytes.Buffer
	for _, r := range rs {
		ev, _ := json.Marshal(r.Evidence)
		fmt.Fprintf(&b, "  %s %s %s [%s] %s | %s | %s\n", r.Check, r.Status, r.Reason, r.CredentialSource, r.Message, r.Remedy, ev)
	}
	return b.String()
}

// TestCheckHelperFailureStops: a credential helper that fails for the host
// stops Docker and Helm, so the walk stops too: one registry.credentials
// result, the failure, and no anonymous pass or pull after it.
func TestCheckHelperFailureStops(t *testing.T) {
	f := &fake{Grants: map[string][]string{"* team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	problem := credentials.Problem{Source: "credential-helper/broken", Host: f.host(), Reason: report.ReasonCredentialsUnreadable,
		Message: "docker-credential-broken get failed (exit status 1)", Remedy: "check the helper works"}
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	rs := pr.Check(context.Background(), Target{Image: f.host() + "/team/app:1", Lookup: credentials.Lookup{
		Tried: []credentials.Store{dockerConfig, helperStore("broken")}, Problems: []credentials.Problem{problem}, Halted: true}})
	var creds []report.Result
	for _, r := range rs {
		if r.Check == report.CheckRegistryCredentials {
			creds = append(creds, r)
		}
		if r.Check == report.CheckRegistryPull || r.Check == report.CheckRegistryPush {
			t.Errorf("the walk went on past the helper's failure: %s", dump(rs))
		}
	}
	if len(creds) != 1 || creds[0].Status != report.StatusFail || creds[0].Reason != report.ReasonCredentialsUnreadable {
		t.Errorf("want one registry.credentials fail, got:\n%s", dump(rs))
	}
}

// TestLoginRemedyFollowsOrigin: the login remedy is chosen by the typed
// origin of the credential and of the stores tried, never by reading their
// source strings back: a source worded unlike any constant still gets its
// store's login, and a cluster secret the workload's.
func TestLoginRemedyFollowsOrigin(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": "pw"}, Grants: map[string][]string{"alice team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	for _, tc := range []struct {
		from credentials.Store
		want string
	}{
		{credentials.Store{Source: "helm's store", Origin: credentials.OriginHelmConfig}, "helm registry login"},
		{credentials.Store{Source: "secret/looks/local", Origin: credentials.OriginDockerConfig}, "docker login"},
		{credentials.Store{Source: "docker-config", Origin: credentials.OriginCluster}, "kubectl"},
	} {
		rs := pr.Check(context.Background(), Target{Image: f.host() + "/team/app:1", Pull: true, Lookup: credentials.Lookup{
			Credentials: []credentials.Credential{cred(tc.from, "alice", "wrong")}, Tried: []credentials.Store{tc.from}}})
		c := find(rs, report.CheckRegistryCredentials)
		if c == nil || c.Reason != report.ReasonInvalidCredentials || !strings.Contains(c.Remedy, tc.want) {
			t.Errorf("%+v: want an InvalidCredentials remedy with %q, got:\n%s", tc.from, tc.want, dump(rs))
		}
	}
}

// A registry alone is checked as docker login does: a token asked for no
// repository, proven by GET /v2/; nothing is asked of a repository.
func TestCheckRegistryAlone(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": "secret"}, Grants: map[string][]string{"alice team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	rs := pr.Check(context.Background(), Target{Registry: f.host(), Lookup: credentials.Lookup{
		Credentials: []credentials.Credential{cred(dockerConfig, "alice", "secret")}}})
	c := find(rs, report.CheckRegistryCredentials)
	if c == nil || c.Status != report.StatusPass || c.Registry != f.host() || c.Repository != "" || c.CredentialSource != "docker-config" {
		t.Fatalf("want a registry.credentials pass for the registry, got:\n%s", dump(rs))
	}
	if find(rs, report.CheckRegistryPull) != nil || find(rs, report.CheckRegistryPush) != nil {
		t.Errorf("a registry alone has no pull or push to check:\n%s", dump(rs))
	}
	if !f.saw("GET /token") {
		t.Errorf("no token was asked")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		if strings.Contains(r, "scope=") || strings.Contains(r, "/manifests/") || strings.Contains(r, "team") {
			t.Errorf("a login check asked about a repository: %s", r)
		}
	}
}

// TestWalkNamesTheCredentialUsed: two credentials of one store share a
// source (an old password first); Outcome names the one each result
// describes by its position, so a caller asks the registry again with
// the right one. The zero Outcome of a walk without credentials names none.
func TestWalkNamesTheCredentialUsed(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": "new"}, Grants: map[string][]string{"alice team/app": {"pull", "push"}}, Repos: map[string][]string{"team/app": {"1.0"}}}
	f.start(t)
	p := New(newClient(t, registry.Options{PlainHTTP: true}))
	creds := []credentials.Credential{cred(dockerConfig, "alice", "old"), cred(dockerConfig, "alice", "new")}
	o := p.Walk(t.Context(), Target{Image: f.host() + "/team/app:1.0", Pull: true, Push: true, Lookup: credentials.Lookup{Credentials: creds}})
	if pull := find(o.Results, report.CheckRegistryPull); pull == nil || pull.Status != report.StatusPass {
		t.Fatalf("registry.pull: %s", dump(o.Results))
	}
	for step, u := range map[string]registry.Used{"credentials": o.Credential, "pull": o.Pull.Used, "push": o.Push.Used} {
		if i, ok := u.In(creds); !ok || i != 1 {
			t.Errorf("%s describes position %d (ok=%v), want 1, the current password", step, i, ok)
		}
	}
	anon := p.Walk(t.Context(), Target{Image: f.host() + "/team/app:1.0"})
	if _, ok := anon.Pull.Used.In(creds); ok || len(anon.Results) == 0 {
		t.Errorf("a walk without credentials names one: %+v", anon.Pull.Used)
	}
}

// TestOutcomeParts: an Outcome's parts are its results by part, with the
// registry's typed answer beside the pull and push, so a caller files
// each by field and decides on the typed failure, never on a result's
// Check or Reason.
func TestOutcomeParts(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": "pw"}, Grants: map[string][]string{"alice team/app": {"pull"}, "alice team/gone": {"pull"}},
		Repos: map[string][]string{"team/app": {"1.0"}}}
	f.start(t)
	p := New(newClient(t, registry.Options{PlainHTTP: true}))
	creds := []credentials.Credential{cred(dockerConfig, "alice", "pw")}
	problem := credentials.Problem{Source: "docker config", Reason: report.ReasonMalformedCredentials, Message: "entry is not an auth object"}
	lookup := credentials.Lookup{Credentials: creds, Problems: []credentials.Problem{problem}}
	checks := func(rs ...*report.Result) []report.Check {
		var out []report.Check
		for _, r := range rs {
			if r != nil {
				out = append(out, r.Check)
			}
		}
		return out
	}

	o := p.Walk(t.Context(), Target{Image: f.host() + "/team/app:1.0", Pull: true, Push: true, Lookup: lookup})
	if o.Reference != nil || o.Reachable == nil || o.Credentials == nil || o.Pull == nil || o.Push == nil || len(o.Problems) != 1 {
		t.Fatalf("parts missing: %+v", o)
	}
	parts := append([]report.Result{*o.Reachable}, o.Problems...)
	parts = append(parts, *o.Credentials, o.Pull.Result, o.Push.Result)
	if !reflect.DeepEqual(parts, o.Results) {
		t.Errorf("parts are not the results in order:\nparts %v\nresults %v", checks(&parts[0], &parts[1], &parts[2], &parts[3], &parts[4]), dump(o.Results))
	}
	if o.Pull.Failure != nil || o.Pull.Manifest == nil || o.Pull.Manifest.Digest != o.Pull.Result.Digests.Current {
		t.Errorf("pull passed: failure %v, manifest %+v, result %s", o.Pull.Failure, o.Pull.Manifest, o.Pull.Result.Message)
	}
	if o.Push.Failure == nil || o.Push.Failure.Reason != o.Push.Result.Reason || o.Push.Result.Status != report.StatusFail {
		t.Errorf("push (no push grant) failure %v, result %s/%s", o.Push.Failure, o.Push.Result.Status, o.Push.Result.Reason)
	}

	missing := p.Walk(t.Context(), Target{Image: f.host() + "/team/gone:1.0", Lookup: lookup})
	if missing.Pull == nil || missing.Pull.Failure == nil || missing.Pull.Failure.Reason != report.ReasonRepositoryNotFound || missing.Pull.Manifest != nil || missing.Push != nil {
		t.Errorf("a missing repository's pull: %+v", missing.Pull)
	}

	bad := p.Walk(t.Context(), Target{Image: "not a reference"})
	if got := checks(bad.Reference, bad.Reachable, bad.Credentials); len(got) != 1 || got[0] != report.CheckImageReference || bad.Pull != nil {
		t.Errorf("an invalid reference's parts: %v", got)
	}
}
