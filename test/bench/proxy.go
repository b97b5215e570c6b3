package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// latencyProxy is a loopback reverse proxy in front of the registry that
// makes it look far away: every response waits delay before it is sent
// upstream, as one network round trip would. It counts what passes by kind
// (the same kinds as env.Stats), and rewrites the realm of the registry's
// Bearer challenge to itself, so token requests are delayed and counted too.
//
// It is one real loopback TCP server that speaks both HTTPS (TLS with a
// certificate of the bench's test CA; HTTP/2 or HTTP/1.1 by ALPN, as real
// registries do) and plain HTTP/1.1 on the same address, told apart by the
// first byte of each connection: the pods name one host:port, and both rows
// of the benchmark must look up the same references.
type latencyProxy struct {
	Host string // 127.0.0.1:PORT, what regcheck and crane talk to

	delay    time.Duration
	upstream *url.URL
	srv      *http.Server
	done     chan struct{}
	tr       *http.Transport

	ping, token, manifestHead, manifestGet, tagsList, other atomic.Int64
	pingAuth, tokenScopes                                   atomic.Int64
	http2, conns, tlsConns                                  atomic.Int64
	// first request in and last response out since Reset, UnixNano.
	first, last atomic.Int64

	mu        sync.Mutex
	timeline  []event         // every request since Reset, in arrival order of its end
	manifests map[string]int  // manifest URL path → requests (HEAD and GET)
	scopes    map[string]bool // distinct scopes asked of the token endpoint
}

// event is one request's time at the proxy, from arrival to the end of
// its response (the delay included), UnixNano.
type event struct {
	kind       string // ping, token, manifest, tags or other
	start, end int64
}

// proxyStats are the counts since the last reset.
type proxyStats struct {
	// Phases splits Span where the time went (see phases).
	Phases                                        phases
	Ping, Token, ManifestHead, ManifestGet, Other int64
	// TagsList counts GET /v2/NAME/tags/list pages (--newer).
	TagsList int64
	// PingAuth counts the pings (GET /v2/) that carried an Authorization
	// header (credential checks), out of Ping.
	PingAuth int64
	// DistinctScopes is the number of different scopes over all token
	// requests: Token > DistinctScopes means the same token was fetched twice.
	DistinctScopes int
	// Span is from the first request's arrival to the last response's
	// end: how long the client spent talking to the registry.
	Span time.Duration
	// TokenScopes is the number of scope parameters over all token requests.
	TokenScopes int64
	// MaxPerManifest is the most requests one manifest URL got (any method).
	MaxPerManifest int
	// DistinctManifests is the number of distinct manifest URLs requested.
	DistinctManifests int
	// HTTP2 counts the requests that came over HTTP/2.
	HTTP2 int64
	// Conns counts the TCP connections opened, TLSConns those of them that
	// were TLS (one handshake each).
	Conns, TLSConns int64
}

func (s proxyStats) total() int64 {
	return s.Ping + s.Token + s.ManifestHead + s.ManifestGet + s.TagsList + s.Other
}

// startProxy listens on a random loopback port and forwards to upstream
// (http://HOST:PORT of the registry). TLS connections are served with cert.
func startProxy(upstream string, delay time.Duration, cert tls.Certificate) (*latencyProxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	p := &latencyProxy{
		Host:      inner.Addr().String(),
		delay:     delay,
		upstream:  u,
		done:      make(chan struct{}),
		manifests: map[string]int{},
		scopes:    map[string]bool{},
		tr: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 1024,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	ln := newSniffListener(inner, tlsConfig, &p.conns, &p.tlsConns)
	// The Bearer realm names the proxy with the scheme the client came in on.
	plain := env.RegistryReverseProxy(u, "http://"+p.Host, p.tr)
	secure := env.RegistryReverseProxy(u, "https://"+p.Host, p.tr)
	p.srv = &http.Server{
		Handler: p.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.TLS != nil {
				secure.ServeHTTP(w, r)
			} else {
				plain.ServeHTTP(w, r)
			}
		})),
		ReadHeaderTimeout: 10 * time.Second,
		// In the plain row crane's https:// probe is refused (it does not
		// trust the CA there) by design; other errors are still logged.
		ErrorLog: log.New(dropLines{w: os.Stderr, containing: "TLS handshake error"}, "", log.LstdFlags),
		// Serve reads it to offer HTTP/2 on the *tls.Conn the listener hands out.
		TLSConfig: tlsConfig,
	}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

func (p *latencyProxy) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now().UnixNano()
		p.first.CompareAndSwap(0, start)
		kind := p.count(r)
		if r.ProtoMajor == 2 {
			p.http2.Add(1)
		}
		defer func() {
			now := time.Now().UnixNano()
			p.mu.Lock()
			p.timeline = append(p.timeline, event{kind: kind, start: start, end: now})
			p.mu.Unlock()
			for {
				last := p.last.Load()
				if last >= now || p.last.CompareAndSwap(last, now) {
					return
				}
			}
		}()
		// The round trip the client waits for: the answer comes delay later.
		t := time.NewTimer(p.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (p *latencyProxy) count(r *http.Request) (kind string) {
	path := r.URL.Path
	switch {
	case path == "/token" || strings.HasPrefix(path, "/token/"):
		kind = "token"
		p.token.Add(1)
		scopes := tokenScopes(r)
		p.tokenScopes.Add(int64(len(scopes)))
		p.mu.Lock()
		for _, s := range scopes {
			p.scopes[s] = true
		}
		p.mu.Unlock()
	case (path == "/v2/" || path == "/v2") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		kind = "ping"
		p.ping.Add(1)
		if r.Header.Get("Authorization") != "" {
			p.pingAuth.Add(1)
		}
	case strings.HasPrefix(path, "/v2/") && strings.Contains(path, "/manifests/") && (r.Method == http.MethodHead || r.Method == http.MethodGet):
		kind = "manifest"
		if r.Method == http.MethodHead {
			p.manifestHead.Add(1)
		} else {
			p.manifestGet.Add(1)
		}
		p.mu.Lock()
		p.manifests[path]++
		p.mu.Unlock()
	case strings.HasPrefix(path, "/v2/") && strings.HasSuffix(path, "/tags/list") && r.Method == http.MethodGet:
		kind = "tags"
		p.tagsList.Add(1)
	default:
		kind = "other"
		p.other.Add(1)
	}
	return kind
}

// tokenScopes lists the scopes a token request asks for: query parameters
// for GET, form fields for POST (OAuth2 refresh/password grants), several
// space-separated scopes in one parameter each counting.
func tokenScopes(r *http.Request) []string {
	vals := r.URL.Query()["scope"]
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err == nil {
			if form, err := url.ParseQuery(string(body)); err == nil {
				vals = append(vals, form["scope"]...)
			}
		}
	}
	var out []string
	for _, v := range vals {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// Stats returns the counts since the last Reset.
func (p *latencyProxy) Stats() proxyStats {
	s := proxyStats{
		Ping:         p.ping.Load(),
		Token:        p.token.Load(),
		ManifestHead: p.manifestHead.Load(),
		ManifestGet:  p.manifestGet.Load(),
		Other:        p.other.Load(),
		TagsList:     p.tagsList.Load(),
		PingAuth:     p.pingAuth.Load(),
		TokenScopes:  p.tokenScopes.Load(),
		HTTP2:        p.http2.Load(),
		Conns:        p.conns.Load(),
		TLSConns:     p.tlsConns.Load(),
	}
	if first, last := p.first.Load(), p.last.Load(); first != 0 && last > first {
		s.Span = time.Duration(last - first)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s.Phases = phasesOf(p.timeline)
	s.DistinctScopes = len(p.scopes)
	s.DistinctManifests = len(p.manifests)
	for _, n := range p.manifests {
		s.MaxPerManifest = max(s.MaxPerManifest, n)
	}
	return s
}

// Reset zeroes the counts.
func (p *latencyProxy) Reset() {
	for _, c := range []*atomic.Int64{&p.ping, &p.token, &p.manifestHead, &p.manifestGet, &p.tagsList, &p.other, &p.pingAuth, &p.tokenScopes, &p.http2, &p.conns, &p.tlsConns, &p.first, &p.last} {
		c.Store(0)
	}
	p.mu.Lock()
	p.manifests = map[string]int{}
	p.scopes = map[string]bool{}
	p.timeline = nil
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *latencyProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = p.srv.Close()
	}
	<-p.done
	p.tr.CloseIdleConnections()
	return err
}

// sniffListener hands out each accepted connection as TLS (its first byte
// is a TLS handshake record, 0x16) or as plain HTTP, so one address serves
// both. Written by hand: net/http serves one or the other per listener, and
// this is a benchmark's few lines, not worth a dependency (cmux). The peek
// happens off the accept loop, so a slow client holds up no other.
type sniffListener struct {
	net.Listener
	tls             *tls.Config
	conns, tlsConns *atomic.Int64
	ready           chan net.Conn
	done            chan struct{}
	closeOnce       sync.Once
	errOnce         sync.Once
	err             error
	failed          chan struct{}
}

func newSniffListener(inner net.Listener, cfg *tls.Config, conns, tlsConns *atomic.Int64) *sniffListener {
	l := &sniffListener{Listener: inner, tls: cfg, conns: conns, tlsConns: tlsConns,
		ready: make(chan net.Conn), done: make(chan struct{}), failed: make(chan struct{})}
	go l.loop()
	return l
}

func (l *sniffListener) loop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.errOnce.Do(func() { l.err = err; close(l.failed) })
			return
		}
		l.conns.Add(1)
		go l.sniff(c)
	}
}

func (l *sniffListener) sniff(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	first, err := br.Peek(1)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		_ = c.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: c, r: br}
	if first[0] == 0x16 { // TLS record type: handshake
		l.tlsConns.Add(1)
		out = tls.Server(out, l.tls)
	}
	select {
	case l.ready <- out:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.failed:
		return nil, l.err
	}
}

func (l *sniffListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// peekedConn reads through the buffer that holds the sniffed byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// dropLines writes to w every log line but those containing a string.
type dropLines struct {
	w          io.Writer
	containing string
}

func (d dropLines) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte(d.containing)) {
		return len(b), nil
	}
	return d.w.Write(b)
}

// phases is where a client's registry span went, from the proxy's side:
// Setup from the first request's arrival to the first manifest request's
// (pings, tokens, whatever came first), Manifests from there to the end of
// the last manifest response, Tail after it (tags lists and whatever came
// last). InFlight is the mean number of requests in flight during the
// manifests phase: at --concurrency 16 the floor keeps 16.
type phases struct {
	Setup, Manifests, Tail time.Duration
	// SetupRequests counts the requests of the setup phase by kind
	// (ping=1 token=1 ...), in arrival order of their kinds.
	SetupRequests string
	InFlight      float64
	// ManifestMean is a manifest request's mean time at the proxy: the
	// delay plus what the registry behind it took.
	ManifestMean time.Duration
}

func phasesOf(events []event) phases {
	var ph phases
	if len(events) == 0 {
		return ph
	}
	first, last := events[0].start, events[0].end
	var mFirst, mLast int64
	var busy, n int64
	for _, e := range events {
		first, last = min(first, e.start), max(last, e.end)
		if e.kind == "manifest" {
			if mFirst == 0 || e.start < mFirst {
				mFirst = e.start
			}
			mLast = max(mLast, e.end)
			busy += e.end - e.start
			n++
		}
	}
	if mFirst == 0 {
		ph.Setup = time.Duration(last - first)
		return ph
	}
	ph.Setup = time.Duration(mFirst - first)
	ph.Manifests = time.Duration(mLast - mFirst)
	ph.Tail = time.Duration(last - mLast)
	if ph.Manifests > 0 {
		ph.InFlight = float64(busy) / float64(ph.Manifests)
	}
	ph.ManifestMean = time.Duration(busy / n)
	counts := map[string]int{}
	var kinds []string
	for _, e := range events {
		if e.start < mFirst {
			if counts[e.kind] == 0 {
				kinds = append(kinds, e.kind)
			}
			counts[e.kind]++
		}
	}
	var b strings.Builder
	for i, k := range kinds {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", k, counts[k])
	}
	ph.SetupRequests = b.String()
	return ph
}
