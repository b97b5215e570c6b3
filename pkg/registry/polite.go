package registry

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Request is one HTTP request a Client sent, as Options.Observe sees it:
// the host asked, what kind of request it was, and the answer's status
// code ("" when no answer came). It never holds a URL path, a header or
// a credential, so it can be a metric's labels.
type Request struct {
	Host string
	Kind string // RequestKinds
	Code string // "200", "401", ...; "" without an answer
}

// The kinds of request a Client sends, by the Distribution API's routes:
// a bounded set for a metric's label.
const (
	KindPing         = "ping"          // GET /v2/
	KindToken        = "token"         // the token realm (outside /v2/)
	KindManifestHead = "manifest_head" // HEAD /v2/NAME/manifests/REF
	KindManifestGet  = "manifest_get"  // GET /v2/NAME/manifests/REF
	KindTags         = "tags"          // /v2/NAME/tags/list
	KindBlob         = "blob"          // /v2/NAME/blobs/DIGEST
	KindUpload       = "upload"        // /v2/NAME/blobs/uploads/
	KindCatalog      = "catalog"       // /v2/_catalog
	KindOther        = "other"
)

// requestKind names what r asks by its method and path.
func requestKind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/v2/" || p == "/v2":
		return KindPing
	case !strings.HasPrefix(p, "/v2/"):
		return KindToken
	case p == "/v2/_catalog":
		return KindCatalog
	case strings.Contains(p, "/manifests/"):
		if r.Method == http.MethodHead {
			return KindManifestHead
		}
		return KindManifestGet
	case strings.HasSuffix(p, "/tags/list"):
		return KindTags
	case strings.Contains(p, "/blobs/uploads"):
		return KindUpload
	case strings.Contains(p, "/blobs/"):
		return KindBlob
	}
	return KindOther
}

// retryAttempt marks a request's context when exchange sends it again:
// its retry policy already waited out a Retry-After it chose to honour.
type retryAttempt struct{}

// heldHeader marks a 429 the client answered itself: the registry asked
// earlier to wait (Retry-After) and that time has not come.
const heldHeader = "X-Regcheck-Held"

// politeTransport is what a long-running client owes the registries it
// asks again and again: at most Options.QPS requests a second per host
// (x/time/rate), and, with Options.HoldRetryAfter, no request to a host
// that answered 429 with a Retry-After before that time has passed, even
// in a later scan; until
// then it answers that 429 itself, with the time left, and marks it
// (heldHeader). Hand-written: no library keeps Retry-After across a
// client's requests (ggcr and regclient honour it within one request).
type politeTransport struct {
	next    http.RoundTripper
	qps     float64
	observe func(Request)
	hold    bool
	now     func() time.Time

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	until    map[string]time.Time // host → not before
}

func newPoliteTransport(next http.RoundTripper, qps float64, observe func(Request), hold bool) *politeTransport {
	return &politeTransport{next: next, qps: qps, observe: observe, hold: hold, now: time.Now,
		limiters: map[string]*rate.Limiter{}, until: map[string]time.Time{}}
}

func (p *politeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	if wait := p.held(host); wait > 0 && req.Context().Value(retryAttempt{}) == nil {
		return heldResponse(req, wait), nil
	}
	if l := p.limiter(host); l != nil {
		if err := l.Wait(req.Context()); err != nil {
			return nil, err
		}
	}
	resp, err := p.next.RoundTrip(req)
	if p.observe != nil {
		code := ""
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		p.observe(Request{Host: host, Kind: requestKind(req), Code: code})
	}
	if p.hold && err == nil && resp.StatusCode == http.StatusTooManyRequests {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), p.now()); ok && d > 0 {
			p.mu.Lock()
			p.until[host] = p.now().Add(d)
			p.mu.Unlock()
		}
	}
	return resp, err
}

// held is how long host still asked to be left alone; 0 when it did not.
func (p *politeTransport) held(host string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.until[host]
	if !ok {
		return 0
	}
	if d := until.Sub(p.now()); d > 0 {
		return d
	}
	delete(p.until, host)
	return 0
}

func (p *politeTransport) limiter(host string) *rate.Limiter {
	if p.qps <= 0 {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limiters[host]
	if !ok {
		l = rate.NewLimiter(rate.Limit(p.qps), int(math.Max(1, math.Ceil(p.qps))))
		p.limiters[host] = l
	}
	return l
}

// heldResponse is the 429 the registry would give again: Retry-After says
// the seconds left (rounded up), and heldHeader says no request was sent.
func heldResponse(req *http.Request, wait time.Duration) *http.Response {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	h.Set(heldHeader, "1")
	h.Set("Content-Type", "text/plain")
	return &http.Response{
		Status: "429 Too Many Requests", StatusCode: http.StatusTooManyRequests,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(strings.NewReader("")), Request: req,
	}
}

func (p *politeTransport) CloseIdleConnections() {
	if c, ok := p.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
