package kube

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport"
)

// slowHandshakeServer is an HTTP/2 TLS server whose handshakes take
// 200 ms, so every request a test starts together is waiting for a
// connection when the first one is up, even on a loaded machine; conns
// counts the connections made.
func slowHandshakeServer(t *testing.T) (srv *httptest.Server, conns *atomic.Int32) {
	t.Helper()
	conns = &atomic.Int32{}
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the bare client's closed spares
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	srv.TLS.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		time.Sleep(200 * time.Millisecond)
		return nil, nil
	}
	t.Cleanup(srv.Close)
	return srv, conns
}

// clientFor is client-go's own HTTP client for srv (TLS, HTTP/2), as a
// clientset builds it, wrapped by wrap when it is not nil.
func clientFor(t *testing.T, srv *httptest.Server, wrap transport.WrapperFunc) *http.Client {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	if wrap != nil {
		cfg.Wrap(wrap)
	}
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// getTogether sends n GETs to url at once through c and returns their
// errors.
func getTogether(ctx context.Context, c *http.Client, url string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

func TestOneDialFirst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wrap  transport.WrapperFunc
		conns int32
	}{
		// Without it, each of the nine requests dials its own, as a
		// scan's LISTs did; eight are closed once HTTP/2 is known.
		{"bare transport", nil, 9},
		{"one dial first", OneDialFirst, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, conns := slowHandshakeServer(t)
			for i, err := range getTogether(context.Background(), clientFor(t, srv, tc.wrap), srv.URL, 9) {
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if got := conns.Load(); got != tc.conns {
				t.Errorf("connections = %d, want %d", got, tc.conns)
			}
		})
	}
}

// A first request that cannot connect lets the others go: each ends with
// its own error, none waits forever.
func TestOneDialFirstFailedDialReleasesTheRest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused

	c := &http.Client{Transport: OneDialFirst(&http.Transport{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, err := range getTogether(ctx, c, "http://"+addr+"/", 5) {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("request %d: err = %v, want the refused dial's", i, err)
		}
	}
}

// A waiting request whose own context ends gives up then, without
// waiting for the first one's connection.
func TestOneDialFirstWaiterKeepsItsOwnDeadline(t *testing.T) {
	srv, _ := slowHandshakeServer(t)
	srv.TLS.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		time.Sleep(500 * time.Millisecond)
		return nil, nil
	}
	c := clientFor(t, srv, OneDialFirst)
	go getTogether(context.Background(), c, srv.URL, 1) // the first, stuck in its handshake
	time.Sleep(10 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := getTogether(ctx, c, srv.URL, 1)[0]
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want its own deadline", err)
	}
	if waited := time.Since(start); waited > 400*time.Millisecond {
		t.Errorf("waited %v for the first request's handshake", waited)
	}
}
