package env

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// FaultProxy is a loopback reverse proxy in front of a Registry that
// injects faults into the requests its rules match: what a flaky network,
// a failing load balancer or a misconfigured front end does to a real
// registry. It rewrites the realm of the registry's Bearer challenge to
// itself, so token requests pass through it (and its rules) too.
type FaultProxy struct {
	Host string // 127.0.0.1:PORT, what the client talks to
	URL  string // http://Host

	rules    []*FaultRule
	upstream *url.URL
	srv      *http.Server
	done     chan struct{}
	tr       *http.Transport
	requests atomic.Int64
}

// FaultRule injects Fault into the requests it matches. The first rule
// that matches and is in its window applies; requests no rule takes go to
// the registry unchanged.
type FaultRule struct {
	Name   string
	Method string // "" for any
	Path   string // regexp on the URL path; "" for any
	// Skip lets the first Skip matching requests through; then Times
	// requests get the fault (0: every one after Skip).
	Skip, Times int
	Fault       Fault

	path     *regexp.Regexp
	matched  atomic.Int64
	injected atomic.Int64
}

// Matched is the number of requests the rule's method and path matched.
func (r *FaultRule) Matched() int64 { return r.matched.Load() }

// Injected is the number of requests the rule's fault was applied to.
func (r *FaultRule) Injected() int64 { return r.injected.Load() }

// take reports whether req gets the rule's fault, counting it.
func (r *FaultRule) take(req *http.Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	if r.path != nil && !r.path.MatchString(req.URL.Path) {
		return false
	}
	n := int(r.matched.Add(1))
	if n <= r.Skip || (r.Times > 0 && n > r.Skip+r.Times) {
		return false
	}
	r.injected.Add(1)
	return true
}

// Fault answers a request in place of the registry. upstream serves it
// from the registry (through the proxy's realm rewriting).
type Fault func(w http.ResponseWriter, r *http.Request, upstream http.Handler)

// Paths for rules.
const (
	PathPing     = `^/v2/?$`
	PathToken    = `^/token`
	PathManifest = `^/v2/.+/manifests/`
	PathUpload   = `^/v2/.+/blobs/uploads/`
)

// StartFaultProxy listens on a random loopback port in front of reg.
func StartFaultProxy(reg *Registry, rules ...*FaultRule) (*FaultProxy, error) {
	if reg.TLS {
		return nil, errors.New("fault proxy: plain-HTTP registries only")
	}
	u, err := url.Parse(reg.URL)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		if r.Path != "" {
			if r.path, err = regexp.Compile(r.Path); err != nil {
				return nil, fmt.Errorf("fault rule %q: %w", r.Name, err)
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &FaultProxy{
		Host:     ln.Addr().String(),
		rules:    rules,
		upstream: u,
		done:     make(chan struct{}),
		// No idle connections to the registry: nothing of the proxy's
		// outlives a request, so a goroutine-leak check sees only the client's.
		tr: &http.Transport{
			Proxy:             nil,
			DialContext:       (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			DisableKeepAlives: true,
		},
	}
	p.URL = "http://" + p.Host
	rp := RegistryReverseProxy(u, p.URL, p.tr)
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusBadGateway)
	}
	p.srv = &http.Server{
		Handler:           p.handler(rp),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

func (p *FaultProxy) handler(upstream http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		for _, rule := range p.rules {
			if rule.take(r) {
				rule.Fault(w, r, upstream)
				return
			}
		}
		upstream.ServeHTTP(w, r)
	})
}

// Requests is the number of requests the proxy received.
func (p *FaultProxy) Requests() int64 { return p.requests.Load() }

// Ref returns "HOST/repo:tag" through the proxy.
func (p *FaultProxy) Ref(repo, tag string) string { return p.Host + "/" + repo + ":" + tag }

// Close stops the proxy and closes every connection to it.
func (p *FaultProxy) Close() error {
	err := p.srv.Close()
	<-p.done
	p.tr.CloseIdleConnections()
	return err
}

// Latency delays the request by d (or until the client gives up), then
// serves it.
func Latency(d time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			upstream.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}
}

// Reset closes the connection with a TCP RST before any answer.
func Reset() Fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// Status answers code with a body of contentType, and header.
func Status(code int, contentType, body string, header http.Header) Fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// RateLimit answers 429 as Docker Hub does, with Retry-After when
// retryAfter is not empty.
func RateLimit(retryAfter string) Fault {
	h := http.Header{"Ratelimit-Limit": {"100;w=21600"}, "Ratelimit-Remaining": {"0;w=21600"}}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return Status(http.StatusTooManyRequests, "application/json",
		`{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`, h)
}

// ServerError answers code as what usually sends it does: a 502 is a load
// balancer's HTML page, other codes the registry's JSON error.
func ServerError(code int) Fault {
	if code == http.StatusBadGateway {
		return Status(code, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", nil)
	}
	return Status(code, "application/json", `{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}`, nil)
}

// LoginPage answers 200 with a single sign-on portal's HTML page.
func LoginPage() Fault {
	return Status(http.StatusOK, "text/html; charset=utf-8",
		"<!doctype html><html><head><title>Sign in - Example Corp SSO</title></head><body><form method=post></form></body></html>", nil)
}

// record serves the request from the registry into memory.
func record(r *http.Request, upstream http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	upstream.ServeHTTP(rec, r)
	return rec
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = vs
	}
}

// ContentType serves the registry's answer with its Content-Type replaced.
func ContentType(ct string) Fault {
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		rec := record(r, upstream)
		copyHeader(w.Header(), rec.Header())
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// DropHeader serves the registry's answer without header name.
func DropHeader(name string) Fault {
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		rec := record(r, upstream)
		copyHeader(w.Header(), rec.Header())
		w.Header().Del(name)
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// Truncate sends the registry's answer with its full Content-Length but
// only half its body, then closes the connection.
func Truncate() Fault {
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		rec := record(r, upstream)
		body := rec.Body.Bytes()
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		h := rec.Header().Clone()
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Del("Connection")
		writeHead(buf, rec.Code, h)
		_, _ = buf.Write(body[:len(body)/2])
		_ = buf.Flush()
	}
}

func writeHead(buf *bufio.ReadWriter, code int, h http.Header) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
}

// SlowBody sends the registry's answer one byte per interval, until the
// body is done or the client gives up.
func SlowBody(interval time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request, upstream http.Handler) {
		rec := record(r, upstream)
		body := rec.Body.Bytes()
		copyHeader(w.Header(), rec.Header())
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		t := time.NewTicker(interval)
		defer t.Stop()
		for i := range body {
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
			if _, err := w.Write(body[i : i+1]); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
		}
	}
}

// Oversized answers 200 with a JSON body of size bytes (a 1 GiB manifest or
// token response), generated as it is sent: never held in memory. It
// stops when the client stops reading. Sent counts the bytes written.
func Oversized(size int64, contentType string, sent *atomic.Int64) Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		head := []byte(`{"schemaVersion":2,"token":"`)
		chunk := make([]byte, 32<<10)
		for i := range chunk {
			chunk[i] = 'a'
		}
		left := size
		write := func(b []byte) bool {
			if int64(len(b)) > left {
				b = b[:left]
			}
			n, err := w.Write(b)
			left -= int64(n)
			if sent != nil {
				sent.Add(int64(n))
			}
			return err == nil && left > 0 && r.Context().Err() == nil
		}
		if !write(head) {
			return
		}
		for write(chunk) {
		}
	}
}

// RegistryReverseProxy forwards to the registry at upstream as if it were
// served at self (http://HOST): the Host the client used is kept, so what
// the registry builds from it (upload locations) points at the proxy, and
// the token realm of its challenges is rewritten to self's, so token
// requests go through the proxy too. The fault proxy and the benchmark's
// latency proxy both sit on it.
func RegistryReverseProxy(upstream *url.URL, self string, tr http.RoundTripper) *httputil.ReverseProxy {
	upstreamRealm := upstream.String() + "/token"
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Host = r.In.Host
		},
		Transport: tr,
		ModifyResponse: func(resp *http.Response) error {
			if vals := resp.Header.Values("Www-Authenticate"); len(vals) > 0 {
				resp.Header.Del("Www-Authenticate")
				for _, v := range vals {
					resp.Header.Add("Www-Authenticate", strings.ReplaceAll(v, upstreamRealm, self+"/token"))
				}
			}
			return nil
		},
	}
}
