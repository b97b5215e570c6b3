package env

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// APIProxy is a loopback TLS reverse proxy in front of the cluster's real
// kube-apiserver, to show what clients do when the API server is slow,
// fails one kind, or goes away mid-run. It speaks to the API server as one
// identity (its rest.Config: the viewer, so nothing behind it can write)
// and lets a test's Intercept answer, delay or drop any request first.
type APIProxy struct {
	URL        string // https://127.0.0.1:PORT
	Kubeconfig string // one context, APIProxyContext, trusting the proxy's CA; no credentials
	// Intercept, when set, handles every request instead of the proxy;
	// calling next forwards it to the API server.
	Intercept func(w http.ResponseWriter, r *http.Request, next http.Handler)

	srv      *httptest.Server
	mu       sync.Mutex
	requests []ProxiedRequest
	gone     chan struct{}
	goneOnce sync.Once
}

// APIProxyContext is the only context of an APIProxy's kubeconfig.
const APIProxyContext = "apiproxy"

// ProxiedRequest is one request the proxy received, whatever became of it.
type ProxiedRequest struct {
	Method    string
	Path      string
	Query     url.Values
	UserAgent string
}

// StartAPIProxy starts a proxy to the API server that authenticates as
// upstream. dir receives its kubeconfig; Close stops it.
func (c *Cluster) StartAPIProxy(upstream *rest.Config, dir string) (*APIProxy, error) {
	target, err := url.Parse(c.Server)
	if err != nil {
		return nil, fmt.Errorf("parsing the API server URL: %w", err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("building the proxy's transport: %w", err)
	}
	ca, err := NewCA("regcheck e2e API proxy CA")
	if err != nil {
		return nil, err
	}
	cert, err := ca.Issue("127.0.0.1", "localhost")
	if err != nil {
		return nil, err
	}
	p := &APIProxy{gone: make(chan struct{})}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = target.Host
			// The proxy is the client the API server sees: its identity,
			// never the caller's headers.
			pr.Out.Header.Del("Authorization")
		},
		Transport: transport,
		// Faults cut requests short on purpose; the test asserts what
		// the client saw.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, ProxiedRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), UserAgent: r.UserAgent()})
		intercept := p.Intercept
		p.mu.Unlock()
		if intercept != nil {
			intercept(w, r, rp)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	p.URL = p.srv.URL

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[APIProxyContext] = &clientcmdapi.Cluster{Server: p.URL, CertificateAuthorityData: ca.CertPEM}
	cfg.AuthInfos[APIProxyContext] = &clientcmdapi.AuthInfo{}
	cfg.Contexts[APIProxyContext] = &clientcmdapi.Context{Cluster: APIProxyContext, AuthInfo: APIProxyContext, Namespace: "default"}
	cfg.CurrentContext = APIProxyContext
	p.Kubeconfig = filepath.Join(dir, "apiproxy.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p.Kubeconfig); err != nil {
		p.srv.Close()
		return nil, fmt.Errorf("writing the proxy's kubeconfig: %w", err)
	}
	return p, nil
}

// SetIntercept replaces the interceptor while the proxy runs.
func (p *APIProxy) SetIntercept(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Intercept = f
}

// Requests returns the requests received so far.
func (p *APIProxy) Requests() []ProxiedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ProxiedRequest(nil), p.requests...)
}

// ResetRequests forgets the requests received so far.
func (p *APIProxy) ResetRequests() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = nil
}

// Go makes the API server vanish: the proxy stops listening (new
// connections are refused) and drops every open connection. Handlers
// waiting on Gone are released. It is safe to call more than once.
func (p *APIProxy) Go() {
	p.goneOnce.Do(func() {
		_ = p.srv.Listener.Close()
		close(p.gone)
		p.srv.CloseClientConnections()
	})
}

// Gone is closed once Go has been called.
func (p *APIProxy) Gone() <-chan struct{} { return p.gone }

// Close stops the proxy.
func (p *APIProxy) Close() {
	p.Go()
	p.srv.Close()
}

// WriteAPIStatus answers as the API server does when it fails: a
// metav1.Status with code and reason.
func WriteAPIStatus(w http.ResponseWriter, code int, reason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,"code":%d}`, message, reason, code)
}
