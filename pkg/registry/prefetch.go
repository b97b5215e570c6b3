package registry

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/imageref"
)

// Batch bounds for one prefetch token request. Every scope is a query
// parameter (about 40 bytes), so 500 scopes make a 20 KiB URL: Go and most
// registries' token services take it; a front end that refuses it (414,
// 431, 400) makes the batch split in halves, down to minScopesPerToken.
// DefaultScopesPerToken is what Options.ScopesPerToken defaults to.
const (
	DefaultScopesPerToken = 50
	minScopesPerToken     = 25
)

// maxUnprovenToken is the largest batched token handed out without a
// proof on GET /v2/. The smallest limit common front ends put on one
// header line is 8 KiB (nginx's large_client_header_buffers, Apache's
// LimitRequestFieldSize 8190): a token of at most 6 KiB fits with room to
// spare, so proving it first would only add a round trip before every
// manifest request. make bench's token for 50 repositories is 5.3 KiB.
const maxUnprovenToken = 6 << 10

// PrefetchPull asks one token for the pull scope of many repositories of
// one registry at once — the token spec allows several scope parameters,
// and distribution and Docker Hub grant them together — and files it under
// each repository whose pull it grants, so a scan of N repositories makes
// one token request per credential instead of N. Only JWTs whose access
// claim says what was granted are filed; anything else (an opaque token, a
// refusal, a Basic registry) is left to each session's own exchange, which
// then reports precisely. A token larger than maxUnprovenToken is proven
// on GET /v2/ first; a smaller one is filed at once, the manifest request
// made with it being its proof. A registry that refuses the batched token
// on a later request because the header is too large gets each session's
// own token instead (see Session.do).
func (c *Client) PrefetchPull(ctx context.Context, ref imageref.Reference, repositories []string, cred credentials.Credential) {
	if cred.RegistryToken != "" || len(repositories) < 2 {
		return
	}
	ping, err := c.Ping(ctx, ref.Host)
	if err != nil {
		return
	}
	ch, ok := pickChallenge(ping.Challenges)
	if !ok || ch.Scheme != "bearer" {
		return
	}
	// Batches of equal size, asked at the same time: a batch costs the
	// same round trips (its token, then its proof) whatever its size.
	per := c.opts.ScopesPerToken
	if per <= 0 {
		per = DefaultScopesPerToken
	}
	n := (len(repositories) + per - 1) / per
	per = (len(repositories) + n - 1) / n
	var wg sync.WaitGroup
	for start := 0; start < len(repositories); start += per {
		wg.Go(func() { c.prefetchBatch(ctx, ref, ch, cred, repositories[start:min(start+per, len(repositories))]) })
	}
	wg.Wait()
}

// prefetchBatch asks one token for repos, splitting the batch when the
// request is too large for the server. false means stop prefetching: the
// token service refused or does not say what it grants.
func (c *Client) prefetchBatch(ctx context.Context, ref imageref.Reference, ch Challenge, cred credentials.Credential, repos []string) bool {
	scopes := make([]string, len(repos))
	for i, repo := range repos {
		scopes[i] = "repository:" + repo + ":pull"
	}
	s := &Session{c: c, ref: ref, cred: cred, actions: []string{"pull"}, scopes: scopes, method: AuthAnonymous}
	t, err := s.fetchToken(ctx, ch)
	if err != nil && requestTooLarge(err) && len(repos) >= 2*minScopesPerToken {
		half := len(repos) / 2
		return c.prefetchBatch(ctx, ref, ch, cred, repos[:half]) && c.prefetchBatch(ctx, ref, ch, cred, repos[half:])
	}
	if err != nil || !t.Known() {
		return false
	}
	if len(t.value) <= maxUnprovenToken {
		// Small enough for any front end: handed out at once. Each
		// session's manifest request is then the registry's check of it
		// (a 401 there is InvalidCredentials, as on GET /v2/; a refusal
		// of its size still trades it for the session's own, Session.do).
		t.unproven = true
		c.file(ch, cred, t, repos, scopes)
		return true
	}
	// Prove a larger token at the registry before handing it out: a token
	// for hundreds of repositories is tens of KiB, and a front end with
	// 8 KiB header buffers refuses it. Then the batch splits until its
	// token fits. The accepted GET /v2/ also verifies the credential for
	// every session that follows.
	r, err := c.exchange(ctx, request{method: http.MethodGet, url: c.baseURL(ref.Host), header: http.Header{"Authorization": {"Bearer " + t.value}}})
	switch {
	case err != nil:
		return false
	case headerTooLarge(r.Status) && len(repos) >= 2*minScopesPerToken:
		c.trace.printf("%s refused the header of a token for %d repositories; asking for two halves", ref.Host, len(repos))
		half := len(repos) / 2
		return c.prefetchBatch(ctx, ref, ch, cred, repos[:half]) && c.prefetchBatch(ctx, ref, ch, cred, repos[half:])
	case r.Status != http.StatusOK:
		return false // each session's own exchange will say why
	}
	c.verified.Store(verifiedKey(ref.Host, AuthBearer, cred), true)
	c.file(ch, cred, t, repos, scopes)
	return true
}

// file puts the batched token t under each repository of repos whose pull
// it grants.
func (c *Client) file(ch Challenge, cred credentials.Credential, t *Token, repos, scopes []string) {
	for i, repo := range repos {
		if granted, _ := t.Grants(repo, "pull"); granted {
			c.tokens.put(tokenKey(ch.Params["realm"], ch.Params["service"], scopes[i:i+1], cred.Fingerprint()), t.narrowedTo(repo, scopes[i]))
		}
	}
}

// requestTooLarge reports whether a failure is a server refusing the size
// of the request line or headers rather than what was asked.
func requestTooLarge(err error) bool {
	var f *Failure
	if !errors.As(err, &f) {
		return false
	}
	return headerTooLarge(f.HTTPStatus)
}

func headerTooLarge(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// narrowedTo is the same token as seen by one repository's session: its
// evidence then names that repository's scope and grant only. It is marked
// batched, so a session can trade it for its own when a registry refuses
// its size.
func (t *Token) narrowedTo(repository, scope string) *Token {
	cp := *t
	cp.Scopes = []string{scope}
	cp.Granted = nil
	cp.batched = true
	for _, a := range t.Granted {
		if a.Type == "repository" && a.Name == repository {
			cp.Granted = append(cp.Granted, a)
		}
	}
	return &cp
}
