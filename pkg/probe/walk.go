package probe

import (
	"context"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// attempt is one candidate credential walked through the flow.
type attempt struct {
	cred credentials.Credential
	at   int // its position among the walk's candidates

	// The push-scoped session, when a push is checked: its token request
	// asks pull,push first, as Helm does.
	pushSess    *registry.Session
	pushAuth    *registry.AuthResult
	pushAuthErr *registry.Failure

	sess     *registry.Session // the session the pull used
	auth     *registry.AuthResult
	authErr  *registry.Failure
	manifest *registry.Manifest
	pullErr  *registry.Failure

	upload  *registry.Upload
	pushErr *registry.Failure
	pushed  bool // the push step ran
}

func (a *attempt) source() string {
	if a.cred.Anonymous() {
		return credentials.SourceAnonymous
	}
	return a.cred.Source
}

func (a *attempt) anonymous() bool { return a.cred.Anonymous() }

// ok reports whether the candidate did what was asked of it before push:
// pull, or just authenticate when the pull is not checked.
func (a *attempt) ok(checkPull bool) bool {
	if !checkPull {
		return a.authErr == nil
	}
	return a.authErr == nil && a.pullErr == nil && a.manifest != nil
}

// walk is one Check's state.
type walk struct {
	p         *Prober
	ref       imageref.Reference
	push      bool
	checkPull bool
	login     bool // a registry alone: sessions ask a token for no repository
	cands     []credentials.Credential
	attempts  []*attempt
	winner    *attempt
}

// pull tries the candidates in order until one pulls.
func (w *walk) pull(ctx context.Context) {
	for i, cred := range w.cands {
		a := w.authenticate(ctx, cred)
		a.at = i
		if a.authErr == nil && w.checkPull {
			m, err := a.sess.HeadManifest(ctx)
			if err != nil {
				a.pullErr = registry.AsFailure(err)
			} else {
				a.manifest = m
			}
		}
		w.attempts = append(w.attempts, a)
		if a.ok(w.checkPull) {
			w.winner = a
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// authenticate opens the sessions of one candidate: the push-scoped one
// first when a push is checked, falling back to a pull-only one for the
// pull when the push-scoped token is refused.
func (w *walk) authenticate(ctx context.Context, cred credentials.Credential) *attempt {
	a := &attempt{cred: cred}
	if w.push {
		a.pushSess = w.p.c.NewSession(w.ref, cred, "pull", "push")
		res, err := a.pushSess.Authenticate(ctx)
		if err == nil {
			a.pushAuth, a.sess, a.auth = res, a.pushSess, res
			return a
		}
		a.pushAuthErr = registry.AsFailure(err)
	}
	s := w.p.c.NewSession(w.ref, cred, "pull")
	if w.login {
		s = w.p.c.NewLoginSession(w.ref, cred)
	}
	res, err := s.Authenticate(ctx)
	if err != nil {
		a.authErr = registry.AsFailure(err)
		return a
	}
	a.sess, a.auth = s, res
	return a
}

// primary is the attempt the results describe: the one that pulled, else
// the first (the most specific credential).
func (w *walk) primary() *attempt {
	if w.winner != nil {
		return w.winner
	}
	return w.attempts[0]
}

// triedEvidence lists the sources tried and why the failed ones failed,
// one element per attempt in order: two candidates may share a source.
func (w *walk) triedEvidence(ev report.Evidence, attempts []*attempt, failed func(*attempt) *registry.Failure) {
	if len(w.cands) < 2 {
		return
	}
	tried := make([]string, 0, len(attempts))
	var failures []report.FailedAttempt
	for _, a := range attempts {
		tried = append(tried, a.source())
		if f := failed(a); f != nil {
			failures = append(failures, report.FailedAttempt{Credential: a.source(), Key: a.cred.Key, Reason: f.Reason})
		}
	}
	ev["tried"] = tried
	if len(failures) > 0 {
		ev["failures"] = failures
	}
}

// pushAttempts checks push with each candidate in order, starting with the
// one that pulled, until an upload session opens.
func (w *walk) pushAttempts(ctx context.Context) []*attempt {
	order := make([]*attempt, 0, len(w.cands))
	if w.winner != nil {
		order = append(order, w.winner)
	}
	for i, cred := range w.cands {
		if i < len(w.attempts) {
			if w.attempts[i] != w.winner {
				order = append(order, w.attempts[i])
			}
			continue
		}
		order = append(order, &attempt{cred: cred, at: i})
	}
	var done []*attempt
	for _, a := range order {
		w.pushOne(ctx, a)
		done = append(done, a)
		if a.pushErr == nil || ctx.Err() != nil {
			break
		}
	}
	return done
}

func (w *walk) pushOne(ctx context.Context, a *attempt) {
	a.pushed = true
	if a.pushSess == nil {
		a.pushSess = w.p.c.NewSession(w.ref, a.cred, "pull", "push")
		res, err := a.pushSess.Authenticate(ctx)
		if err != nil {
			a.pushAuthErr = registry.AsFailure(err)
		}
		a.pushAuth = res
	}
	if a.pushAuthErr != nil {
		a.pushErr = a.pushAuthErr
		return
	}
	up, err := a.pushSess.StartUpload(ctx)
	if err != nil {
		a.pushErr = registry.AsFailure(err)
		return
	}
	// Cancel before returning, synchronously: nothing is left behind that
	// the registry would not expire on its own.
	a.pushSess.CancelUpload(ctx, up)
	a.upload = up
}
