package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// Body caps: a registry that streams more than this is misbehaving, and
// regcheck must stay bounded whatever a server sends.
const (
	maxManifestBody = 4 << 20
	maxSmallBody    = 1 << 20 // token, error and /v2/ bodies
)

// DefaultRequestTimeout bounds one exchange when Options leave it zero.
const DefaultRequestTimeout = 20 * time.Second

// Options configure a Client.
type Options struct {
	PlainHTTP             bool          // talk http:// to registries (as helm --plain-http)
	InsecureSkipTLSVerify bool          // accept any certificate
	CAFile                string        // extra PEM roots on top of the system pool
	RequestTimeout        time.Duration // per exchange; DefaultRequestTimeout when zero
	Trace                 io.Writer     // redacted trace of every exchange (--debug); nil for none
	Transport             http.RoundTripper
	UserAgent             string
	// ScopesPerToken bounds the repositories one prefetched token asks for
	// (PrefetchPull); DefaultScopesPerToken when zero.
	ScopesPerToken int
	// QPS bounds the requests a second to each host (0: no bound), for a
	// client that asks again and again (serve's --registry-qps).
	QPS float64
	// Observe, when set, sees every request sent (for serve's
	// regcheck_registry_requests_total); the 429s the client answers
	// itself while a Retry-After runs are not sent, so not seen.
	Observe func(Request)
	// HoldRetryAfter keeps a 429's Retry-After for the client's life: no
	// request goes to that host before then (serve, whose one client
	// spans scans). Without it a Retry-After is honoured within one
	// request only, as the retry policy allows.
	HoldRetryAfter bool
}

// Client is a diagnostic registry client, safe for concurrent use.
type Client struct {
	opts   Options
	http   *http.Client
	trace  *tracer
	tokens *tokenCache
	retry  retryPolicy

	pingMu sync.Mutex
	pings  map[string]*pingEntry

	configMu sync.Mutex
	configs  map[string]string // manifest digest → config digest

	// verified holds host + method + credential fingerprint of credentials
	// a registry already accepted on GET /v2/ in this run: a scan of many
	// repositories proves each credential once, not once per session.
	verified sync.Map
	// verifying holds the GET /v2/ proofs in flight, by the same key, so
	// sessions that start together share one (Session.verifyOnce).
	verifying sync.Map

	// tagLists holds one tags list per repository and credential (tags.go).
	tagLists sync.Map
}

// NewClient builds a client. Its only error is a CA file that cannot be
// used, as a *Failure with TLSError.
func NewClient(o Options) (*Client, error) {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "regcheck"
	}
	base := o.Transport
	if base == nil {
		t, err := httpsTransport(o)
		if err != nil {
			return nil, err
		}
		base = t
	}
	tr := &tracer{w: o.Trace}
	c := &Client{
		opts:    o,
		trace:   tr,
		tokens:  newTokenCache(),
		retry:   defaultRetryPolicy(),
		pings:   map[string]*pingEntry{},
		configs: map[string]string{},
	}
	polite := newPoliteTransport(base, o.QPS, o.Observe, o.HoldRetryAfter)
	c.http = &http.Client{
		Transport:     &traceTransport{next: polite, t: tr},
		CheckRedirect: checkRedirect,
	}
	return c, nil
}

// NewScan forgets what a scan learned that may change before the next
// one: the registries' /v2/ answers, which credentials they accepted,
// and tags lists. Tokens stay until they expire (expires_in), manifest
// configs stay (a digest's config never changes), and so do a
// registry's Retry-After and the connections. serve calls it before
// each scan of a client it keeps; call it between scans, not during one.
func (c *Client) NewScan() {
	c.pingMu.Lock()
	c.pings = map[string]*pingEntry{}
	c.pingMu.Unlock()
	c.verified.Clear()
	c.tagLists.Clear()
}

// CloseIdleConnections closes the connections kept alive for reuse; call
// it when a run is over so nothing outlives it.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// checkRedirect follows at most ten redirects and never carries
// credentials to another host or down from https to http: Go itself would
// still forward them to subdomains.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errTooManyRedirects
	}
	first := via[0].URL
	if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
		req.Header.Del("Authorization")
	}
	return nil
}

func (c *Client) scheme() string {
	if c.opts.PlainHTTP {
		return "http"
	}
	return "https"
}

func (c *Client) baseURL(host string) *url.URL {
	return &url.URL{Scheme: c.scheme(), Host: host, Path: "/v2/"}
}

// response is one finished exchange: the body is read (capped) and closed,
// so callers never hold a connection or a deadline.
type response struct {
	Status   int
	Header   http.Header
	Body     []byte
	BodyErr  error // errBodyTooLarge, io.ErrUnexpectedEOF, ...
	URL      *url.URL
	Method   string
	Duration time.Duration
	Attempts attemptLog // how many requests it took, and why the retries
}

var (
	errBodyTooLarge     = errors.New("body larger than the limit")
	errTooManyRedirects = errors.New("stopped after 10 redirects")
	errBodyDeadline     = errors.New("body cut off by the deadline")
)

// request is what exchange sends.
type request struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
	limit  int64 // body cap; 0 for maxSmallBody
	retry  bool  // idempotent whatever the method (the token endpoint's POST)
}

// exchange sends r, retrying an idempotent request that met a transient
// failure (see retryPolicy), and reads the body. Each attempt has its own
// deadline; the retries stay inside the caller's. Transport errors come
// back as a classified *Failure; the response or failure says how many
// attempts it took.
func (c *Client) exchange(ctx context.Context, r request) (*response, error) {
	var log attemptLog
	for attempt := 1; ; attempt++ {
		log.attempts = attempt
		attemptCtx := ctx
		if attempt > 1 {
			// The retry policy waited what a 429's Retry-After asked.
			attemptCtx = context.WithValue(ctx, retryAttempt{}, true)
		}
		resp, d, err := c.exchangeOnce(attemptCtx, r)
		wait, why, again := c.retry.next(ctx, r, attempt, &log, resp, err)
		if again {
			c.trace.printf("retry %d/%d of %s %s in %s after %s",
				attempt+1, c.retry.maxRetries+1, r.method, redactURL(r.url), wait.Round(time.Millisecond), why.String())
			log.retried = append(log.retried, why)
			if c.retry.sleep(ctx, wait) == nil {
				continue
			}
			log.retried = log.retried[:len(log.retried)-1]
		}
		if err != nil {
			f, ok := err.(*Failure)
			if !ok {
				f = c.transportFailure(err, r.url, d)
			}
			log.evidence(f.Evidence)
			return nil, f
		}
		resp.Attempts = log
		return resp, nil
	}
}

// exchangeOnce sends one request under its own deadline and reads its
// body; err is the transport's, unclassified.
func (c *Client) exchangeOnce(ctx context.Context, r request) (*response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, 0, &Failure{
			Reason: report.ReasonInvalidReference,
			Fault: report.Fault{Cause: report.CauseBadRequestURL, Host: r.url.Host, PlainHTTP: c.opts.PlainHTTP,
				Seen: report.Seen{URL: redactURL(r.url)}},
			Evidence: report.Evidence{"url": redactURL(r.url)},
		}
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, time.Since(start), err
	}
	defer resp.Body.Close()
	limit := r.limit
	if limit <= 0 {
		limit = maxSmallBody
	}
	out := &response{
		Status: resp.StatusCode,
		Header: resp.Header,
		URL:    resp.Request.URL,
		Method: r.method,
	}
	out.Body, out.BodyErr = readCapped(resp.Body, limit)
	out.Duration = time.Since(start)
	return out, out.Duration, nil
}

// readCapped reads at most limit bytes; more is errBodyTooLarge.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return b, fmt.Errorf("%w: %w", errBodyDeadline, io.ErrUnexpectedEOF)
		}
		return b, io.ErrUnexpectedEOF // the server cut the body short
	}
	if int64(len(b)) > limit {
		return b[:limit], errBodyTooLarge
	}
	return b, nil
}

// bodyProblem is the typed fact of a body read error ("" for none).
func bodyProblem(err error) report.BodyProblem {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errBodyTooLarge):
		return report.BodyTooLarge
	case errors.Is(err, errBodyDeadline):
		return report.BodyDeadline
	default:
		return report.BodyCut
	}
}

// bodyEvidence shows a body problem in evidence ("" for none): what
// happened to the body, for a person; code reads bodyProblem.
func bodyEvidence(err error) string { return bodyProblem(err).Phrase() }
