package registry

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// PingResult is what an anonymous GET /v2/ showed.
type PingResult struct {
	Host        string
	URL         string
	Status      int
	Challenges  []Challenge
	ContentType string
	Title       string // the <title> when the body is HTML
	APIVersion  string // Docker-Distribution-API-Version
	Duration    time.Duration
	Attempts    int     // requests it took; more than 1 when retried
	Retried     []Retry // why each retry was made
}

// Evidence is the ping as result evidence.
func (p *PingResult) Evidence() report.Evidence {
	ev := report.Evidence{"request": "GET " + p.URL, "httpStatus": p.Status}
	if len(p.Challenges) > 0 {
		ev["challenge"] = challengeStrings(p.Challenges)
	}
	if p.ContentType != "" {
		ev["contentType"] = p.ContentType
	}
	if p.Title != "" {
		ev["pageTitle"] = p.Title
	}
	if p.APIVersion != "" {
		ev["apiVersion"] = p.APIVersion
	}
	if p.Attempts > 1 {
		ev["attempts"] = p.Attempts
		ev["retried"] = retryStrings(p.Retried)
	}
	return ev
}

// Method names the auth the registry asks for: bearer, basic or
// anonymous (no challenge).
func (p *PingResult) Method() AuthMethod {
	if c, ok := pickChallenge(p.Challenges); ok {
		return AuthMethod(c.Scheme) // pickChallenge picks only bearer or basic
	}
	return AuthAnonymous
}

type pingEntry struct {
	ready chan struct{}
	res   *PingResult
	err   error
}

// Ping sends an anonymous GET /v2/ to host (a registry domain or API
// host) and checks the answer is the registry API. The outcome is cached
// per host for the client's life, so a scan pings each registry once.
func (c *Client) Ping(ctx context.Context, host string) (*PingResult, error) {
	host = imageref.APIHost(host)
	c.pingMu.Lock()
	e, ok := c.pings[host]
	if !ok {
		e = &pingEntry{ready: make(chan struct{})}
		c.pings[host] = e
	}
	c.pingMu.Unlock()
	if ok {
		select {
		case <-e.ready:
			return e.res, cloneErr(e.err)
		case <-ctx.Done():
			return nil, c.transportFailure(ctx.Err(), c.baseURL(host), 0)
		}
	}
	e.res, e.err = c.ping(ctx, host)
	close(e.ready)
	return e.res, cloneErr(e.err)
}

// cloneErr copies a cached *Failure so callers may add evidence to theirs.
func cloneErr(err error) error {
	f, ok := err.(*Failure)
	if !ok || f == nil {
		return err
	}
	c := *f
	c.Evidence = report.Evidence{}
	for k, v := range f.Evidence {
		c.Evidence[k] = v
	}
	return &c
}

func (c *Client) ping(ctx context.Context, host string) (_ *PingResult, err error) {
	u := c.baseURL(host)
	r, err := c.exchange(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		return nil, err
	}
	defer func() {
		var f *Failure
		if errors.As(err, &f) {
			f.answered(r)
			f.Step = report.StepPing
		}
	}()
	p := &PingResult{
		Host:        host,
		URL:         redactURL(r.URL),
		Status:      r.Status,
		Challenges:  ParseChallenges(r.Header.Values("WWW-Authenticate")...),
		ContentType: r.Header.Get("Content-Type"),
		APIVersion:  r.Header.Get("Docker-Distribution-API-Version"),
		Duration:    r.Duration,
		Attempts:    r.Attempts.attempts,
		Retried:     r.Attempts.retried,
	}
	html := isHTML(r)
	if html {
		p.Title = pageTitle(r.Body)
	}
	ev := p.Evidence()
	r.Attempts.evidence(ev)
	registryLike := len(p.Challenges) > 0 || p.APIVersion != ""
	switch {
	case c.opts.PlainHTTP && r.Status == http.StatusBadRequest && bytes.Contains(r.Body, []byte("HTTPS")):
		return nil, &Failure{Reason: report.ReasonTLSError, Evidence: ev,
			Fault: c.fault(report.CausePlainHTTPToTLS, host)}
	case html && !registryLike && r.Status < 500 && r.Status != http.StatusTooManyRequests:
		// A 5xx or 429 page is a gateway in front of the registry saying
		// it fails or throttles: ServerError or RateLimited below.
		f := &Failure{Reason: report.ReasonNotARegistry, Evidence: ev, Fault: c.fault(report.CauseHTMLPage, host)}
		f.PageTitle = p.Title
		return nil, f
	case r.Status == http.StatusTooManyRequests:
		return nil, rateLimited(c.fault(report.CauseRateLimited, host), r)
	case r.Status >= 500:
		return nil, &Failure{Reason: report.ReasonServerError, Evidence: ev,
			Fault: c.fault(report.CauseServerError, host)}
	case r.Status == http.StatusNotFound:
		return nil, &Failure{Reason: report.ReasonNotARegistry, Evidence: ev,
			Fault: c.fault(report.CauseNoV2API, host)}
	case errors.Is(r.BodyErr, errBodyTooLarge) && !registryLike:
		ev["body"] = bodyEvidence(r.BodyErr)
		f := &Failure{Reason: report.ReasonNotARegistry, Evidence: ev, Fault: c.fault(report.CauseNotRegistryAnswer, host)}
		f.BodyLimit = maxSmallBody
		return nil, f
	case r.Status == http.StatusOK && len(bytes.TrimSpace(r.Body)) > 0 && !isJSON(r.Body) && p.APIVersion == "":
		return nil, &Failure{Reason: report.ReasonNotARegistry, Evidence: ev,
			Fault: c.fault(report.CauseNotRegistryAnswer, host)}
	case r.Status != http.StatusOK && r.Status != http.StatusUnauthorized && r.Status != http.StatusForbidden:
		return nil, &Failure{Reason: report.ReasonNotARegistry, Evidence: ev,
			Fault: c.fault(report.CauseUnexpectedV2Status, host)}
	}
	return p, nil
}
