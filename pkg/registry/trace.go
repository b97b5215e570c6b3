package registry

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tracer writes the --debug trace. It prints only what a person needs to
// follow the auth flow — method, redacted URL, status, challenge, scopes,
// duration — and never a header value that carries a secret or a body.
type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *tracer) printf(format string, args ...any) {
	if t == nil || t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "regcheck: "+format+"\n", args...)
}

// traceTransport traces every hop, redirects included.
type traceTransport struct {
	next http.RoundTripper
	t    *tracer
}

func (tt *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := tt.next.RoundTrip(req)
	d := time.Since(start).Round(time.Millisecond)
	auth := "none"
	if v := req.Header.Get("Authorization"); v != "" {
		// The scheme only: the value is the secret.
		auth, _, _ = strings.Cut(v, " ")
	}
	if err != nil {
		tt.t.printf("%s %s auth=%s -> no answer after %s", req.Method, redactURL(req.URL), auth, d)
		return nil, err
	}
	line := fmt.Sprintf("%s %s auth=%s -> %d (%s)", req.Method, redactURL(req.URL), auth, resp.StatusCode, d)
	if chs := resp.Header.Values("WWW-Authenticate"); len(chs) > 0 {
		line += " challenge=" + strings.Join(challengeStrings(ParseChallenges(chs...)), " | ")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		line += " content-type=" + ct
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		if u, perr := req.URL.Parse(loc); perr == nil {
			line += " location=" + redactURL(u)
		}
	}
	tt.t.printf("%s", line)
	return resp, nil
}

// CloseIdleConnections reaches the transport under the trace.
func (tt *traceTransport) CloseIdleConnections() {
	if c, ok := tt.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// safeQuery lists query parameters that are never secret; every other value
// is redacted (presigned URLs, upload state, tokens in query strings).
var safeQuery = map[string]bool{
	"scope": true, "service": true, "account": true, "client_id": true,
	"n": true, "last": true, "digest": true, "mount": true, "from": true,
}

// redactURL renders u without user info and with secret query values
// replaced.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			if safeQuery[strings.ToLower(k)] {
				continue
			}
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
