package probe

import (
	"context"
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// base fills the fields every result of one target shares.
type base struct {
	image string
	ref   imageref.Reference
	tried []credentials.Store
	// audience words the registry faults' fixes (remedy.Registry).
	audience remedy.Audience
	// workload is who holds cluster credentials, nil for the user's own.
	workload *remedy.Workload
}

func (b base) result(check report.Check, status report.Status, reason report.Reason, msg, remedy, source string, ev report.Evidence) report.Result {
	return report.Result{
		Check:            check,
		Status:           status,
		Reason:           reason,
		Message:          msg,
		Remedy:           remedy,
		Evidence:         ev,
		Image:            b.image,
		Registry:         b.ref.Registry,
		Repository:       b.ref.Repository,
		CredentialSource: source,
	}
}

func (b base) pass(check report.Check, msg string, ev report.Evidence, source string) report.Result {
	return b.result(check, report.StatusPass, report.ReasonOk, msg, "", source, ev)
}

// fail turns a Failure into a failed result; credential remedies name the
// command for the source in use.
func (b base) fail(check report.Check, f *registry.Failure) report.Result {
	return b.failFrom(check, f, "", credentials.OriginAnonymous, remedy.Message(f.Fault))
}

// failFrom is fail for a request made with the credential from source, of
// origin: the login remedy follows the origin, never the source's wording.
func (b base) failFrom(check report.Check, f *registry.Failure, source string, origin credentials.Origin, msg string) report.Result {
	fix := remedy.Registry(f.Fault, b.audience)
	switch f.Reason {
	case report.ReasonCredentialsRequired, report.ReasonAnonymousPushDenied, report.ReasonInvalidCredentials:
		fix = b.loginRemedy(f.Reason, source, origin)
	}
	return b.result(check, report.StatusFail, f.Reason, msg, fix, source, copyEvidence(f.Evidence))
}

// problem reports a fault found in a credential source. It warns when
// another credential authenticated, so the fault did not decide anything.
func (b base) problem(pr credentials.Problem, otherWorked bool) report.Result {
	status := report.StatusFail
	if otherWorked {
		status = report.StatusWarn
	}
	remedy := pr.Remedy
	if remedy == "" {
		remedy = "fix or remove the entry in " + pr.Source
	}
	ev := report.Evidence{"source": pr.Source}
	if pr.Host != "" {
		ev["host"] = pr.Host
	}
	return b.result(report.CheckRegistryCredentials, status, pr.Reason, pr.Message, remedy, pr.Source, ev)
}

func copyEvidence(ev report.Evidence) report.Evidence {
	out := report.Evidence{}
	for k, v := range ev {
		out[k] = v
	}
	return out
}

func reachableMessage(ref imageref.Reference, p *registry.PingResult) string {
	switch p.Method() {
	case registry.AuthAnonymous:
		return fmt.Sprintf("%s answers the registry API (GET /v2/ → %d, no credentials asked)", ref.Host, p.Status)
	default:
		return fmt.Sprintf("%s answers the registry API (GET /v2/ → %d, %s challenge)", ref.Host, p.Status, p.Method())
	}
}

// keyEvidence names the config entry the credential is filed under (the
// one entry Docker or Helm would use for the host), never its secret.
func keyEvidence(ev report.Evidence, a *attempt) {
	if !a.anonymous() && a.cred.Key != "" {
		ev["credentialKey"] = a.cred.Key
	}
}

// credentialsResult says which method and credential are in use, or why
// the credential could not authenticate.
func (w *walk) credentialsResult(b base) report.Result {
	a := w.primary()
	if f := a.authErr; f != nil && !(a.anonymous() && f.Reason == report.ReasonCredentialsRequired) {
		ev := copyEvidence(f.Evidence)
		w.triedEvidence(ev, w.attempts, func(x *attempt) *registry.Failure { return x.authErr })
		keyEvidence(ev, a)
		r := b.failFrom(report.CheckRegistryCredentials, f, a.source(), a.cred.Origin, remedy.Message(f.Fault))
		r.Evidence = ev
		return r
	}
	ev := report.Evidence{"method": string(registry.AuthAnonymous)}
	if a.auth != nil {
		ev = a.auth.Evidence()
		if a.auth.Unchallenged {
			ev["note"] = remedy.Unchallenged
		}
	}
	w.triedEvidence(ev, w.attempts, func(x *attempt) *registry.Failure {
		if x.authErr != nil {
			return x.authErr
		}
		return x.pullErr
	})
	if len(b.tried) > 0 {
		ev["searched"] = credentials.Sources(b.tried)
	}
	keyEvidence(ev, a)
	var msg string
	switch {
	case a.anonymous():
		msg = fmt.Sprintf("no credentials for %s%s; requests are anonymous", b.ref.Registry, searched(credentials.Sources(b.tried)))
		if a.auth != nil && a.auth.Method == registry.AuthBearer {
			msg += " (an anonymous token is exchanged)"
		}
	case a.auth.Method == registry.AuthBearer:
		msg = fmt.Sprintf("%s exchanged for a bearer token at %s and accepted by %s", a.cred.String(), a.auth.Token.Realm, b.ref.Host)
		if a.auth.Token.Method == registry.TokenFromConfig {
			msg = fmt.Sprintf("registry token from %s accepted by %s", a.cred.String(), b.ref.Host)
		}
	case a.auth.Method == registry.AuthBasic:
		msg = fmt.Sprintf("basic credentials from %s accepted by %s", a.cred.String(), b.ref.Host)
	default:
		msg = fmt.Sprintf("%s asks for no credentials; %s is held in reserve", b.ref.Host, a.cred.String())
	}
	return b.pass(report.CheckRegistryCredentials, msg, ev, a.source())
}

func searched(tried []string) string {
	if len(tried) == 0 {
		return ""
	}
	return " (searched " + strings.Join(tried, ", ") + ")"
}

// pullResult says whether the image can be pulled.
func (w *walk) pullResult(b base) report.Result {
	a := w.primary()
	f := a.authErr
	if f == nil {
		f = a.pullErr
	}
	if f != nil {
		msg := remedy.Message(f.Fault)
		if a.authErr != nil && f.Reason != report.ReasonCredentialsRequired {
			msg = "cannot pull " + b.ref.String() + ": " + msg
		}
		r := b.failFrom(report.CheckRegistryPull, f, a.source(), a.cred.Origin, msg)
		r.RateLimit = rateLimit(f.RateLimit)
		w.triedEvidence(r.Evidence, w.attempts, func(x *attempt) *registry.Failure {
			if x.authErr != nil {
				return x.authErr
			}
			return x.pullErr
		})
		return r
	}
	ev := a.manifest.Evidence()
	if a.auth != nil {
		ev["method"] = string(a.auth.Method)
		if t := a.auth.Token; t != nil {
			ev["requestedScope"] = t.Scopes
			ev["granted"] = t.GrantEvidence()
		}
	}
	w.triedEvidence(ev, w.attempts, func(x *attempt) *registry.Failure {
		if x.authErr != nil {
			return x.authErr
		}
		return x.pullErr
	})
	msg := fmt.Sprintf("%s resolves to %s (%s) with %s", b.ref.String(), a.manifest.Digest, a.manifest.MediaType, a.source())
	r := b.pass(report.CheckRegistryPull, msg, ev, a.source())
	r.Digests = &report.Digests{Current: a.manifest.Digest}
	r.RateLimit = rateLimit(a.manifest.RateLimit())
	return r
}

// pushResult opens (and cancels) an upload session to decide push: a
// token is never taken as proof, the upload's answer is. The attempt is
// the one the result describes.
func (w *walk) pushResult(ctx context.Context, b base) (report.Result, *attempt) {
	done := w.pushAttempts(ctx)
	failed := func(x *attempt) *registry.Failure { return x.pushErr }
	for _, a := range done {
		if a.pushErr != nil || a.upload == nil {
			continue
		}
		ev := a.upload.Evidence()
		note := remedy.UploadNote(a.upload.Cancel)
		if note != "" {
			ev["uploadSession"] = note
		}
		if a.pushAuth != nil {
			ev["method"] = string(a.pushAuth.Method)
			if t := a.pushAuth.Token; t != nil {
				ev["requestedScope"] = t.Scopes
				ev["granted"] = t.GrantEvidence()
			}
		}
		w.triedEvidence(ev, done, failed)
		msg := fmt.Sprintf("push to %s/%s would be authorized for %s (upload session opened with 202, then %s)",
			b.ref.Registry, b.ref.Repository, a.source(), note)
		return b.pass(report.CheckRegistryPush, msg, ev, a.source()), a
	}
	a := done[0]
	r := b.failFrom(report.CheckRegistryPush, a.pushErr, a.source(), a.cred.Origin, remedy.Message(a.pushErr.Fault))
	w.triedEvidence(r.Evidence, done, failed)
	return r, a
}

// loginRemedy is the fix for missing or refused credentials, worded by
// pkg/remedy for whoever holds them: the pods of a namespace when they
// came from the cluster, else the user's own stores that were in play.
func (b base) loginRemedy(reason report.Reason, source string, origin credentials.Origin) string {
	var local remedy.Local
	cluster := b.workload != nil
	origins := []credentials.Origin{origin}
	for _, s := range b.tried {
		origins = append(origins, s.Origin)
	}
	for _, o := range origins {
		switch o {
		case credentials.OriginHelmConfig:
			local.HelmConfig = true
		case credentials.OriginDockerConfig:
			local.DockerConfig = true
		case credentials.OriginHelper:
			local.Helper = true
		case credentials.OriginDockerAuthConfig:
			local.DockerAuthConfig = true
		case credentials.OriginFlags:
			local.Flags = true
		case credentials.OriginCluster:
			cluster = true
		}
	}
	if cluster {
		w := remedy.Workload{}
		if b.workload != nil {
			w = *b.workload
		}
		if r := w.Credentials(reason, b.ref.Registry, "", source); r != "" {
			return r
		}
	}
	return local.Login(reason, b.ref.Registry, remedy.LoginHost(b.ref.Registry, "docker"), remedy.LoginHost(b.ref.Registry, "helm"))
}

// rateLimit is the typed rate limit of a result: nil when nothing was announced.
func rateLimit(rl report.RateLimit) *report.RateLimit {
	if rl.Empty() {
		return nil
	}
	return &rl
}
