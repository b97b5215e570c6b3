package kube

import (
	"net/http"
	"net/http/httptrace"
	"sync"
)

// OneDialFirst wraps a client's transport so that its first request goes
// alone until it has a connection, and the requests made meanwhile wait
// for that connection instead of each dialing their own.
//
// Why by hand: net/http dials once per request that finds no idle
// connection, and learns that the API server speaks HTTP/2 (one
// connection carries every request) only when the first handshake ends.
// A scan starts its eight LISTs together, so it paid nine TLS handshakes
// with client-certificate auth and threw eight away (strace: 9 connects).
// Neither client-go nor net/http has a setting for this.
//
// A waiting request goes on when the first one has its connection
// (httptrace GotConn) or has ended, whichever is sooner, or gives up with
// its own context. It is never held longer than its own timeout: the
// first request's timer started no later than its own, and a failed first
// dial lets the others try for themselves, as without the wrapper.
//
// The cost: an API server reached over HTTP/1.1 only (a proxy in front of
// it, or DISABLE_HTTP2) gets its other connections one handshake later.
// On the bench's loopback API server the scan took the same time either
// way (8 runs of each, ABBA order); what it saves is eight handshakes, on
// both ends, per scan.
func OneDialFirst(next http.RoundTripper) http.RoundTripper {
	return &oneDialFirst{next: next, up: make(chan struct{})}
}

type oneDialFirst struct {
	next    http.RoundTripper
	started sync.Once
	up      chan struct{} // closed once the first request has a connection or has ended
	upOnce  sync.Once
}

func (o *oneDialFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	first := false
	o.started.Do(func() { first = true })
	if first {
		release := func() { o.upOnce.Do(func() { close(o.up) }) }
		defer release()
		trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { release() }}
		return o.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	}
	select {
	case <-o.up:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, req.Context().Err()
	}
	return o.next.RoundTrip(req)
}

// WrappedRoundTripper lets client-go's debugging wrappers see through.
func (o *oneDialFirst) WrappedRoundTripper() http.RoundTripper { return o.next }
