package registry

import (
	"context"

	"github.com/regcheck/regcheck/pkg/credentials"
)

// maxScopesPerToken bounds one token request: every scope is a query
// parameter, and some front ends refuse URLs past 8 KiB.
const maxScopesPerToken = 50

// PrefetchPull asks one token for the pull scope of many repositories of
// one registry at once — the token spec allows several scope parameters,
// and distribution and Docker Hub grant them together — and files it under
// each repository whose pull it grants, so a scan of N repositories makes
// ⌈N/50⌉ token requests per credential instead of N. Only JWTs whose
// access claim says what was granted are filed; anything else (an opaque
// token, a refusal, a Basic registry) is left to each session's own
// exchange, which then reports precisely.
func (c *Client) PrefetchPull(ctx context.Context, ref Reference, repositories []string, cred credentials.Credential) {
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
	for start := 0; start < len(repositories); start += maxScopesPerToken {
		chunk := repositories[start:min(start+maxScopesPerToken, len(repositories))]
		scopes := make([]string, len(chunk))
		for i, repo := range chunk {
			scopes[i] = "repository:" + repo + ":pull"
		}
		s := &Session{c: c, ref: ref, cred: cred, actions: []string{"pull"}, scopes: scopes, method: "anonymous"}
		t, err := s.fetchToken(ctx, ch)
		if err != nil || !t.Known() {
			return
		}
		for i, repo := range chunk {
			if granted, _ := t.Grants(repo, "pull"); granted {
				c.tokens.put(tokenKey(ch.Params["realm"], ch.Params["service"], scopes[i:i+1], cred.Fingerprint()), t.narrowedTo(repo, scopes[i]))
			}
		}
	}
}

// narrowedTo is the same token as seen by one repository's session: its
// evidence then names that repository's scope and grant only.
func (t *Token) narrowedTo(repository, scope string) *Token {
	cp := *t
	cp.Scopes = []string{scope}
	cp.Granted = nil
	for _, a := range t.Granted {
		if a.Type == "repository" && a.Name == repository {
			cp.Granted = append(cp.Granted, a)
		}
	}
	return &cp
}
