// Package env builds the end-to-end test environment: a real OCI registry
// (distribution/v3, in process) with anonymous, htpasswd or token auth,
// optional TLS from a throw-away CA, and helpers to push content into it.
// Nothing here needs *testing.T, so a demo program can use it too.
package env

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// Access controllers register themselves by name.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
)

// AuthMode selects how the registry authenticates clients.
type AuthMode int

const (
	// AuthNone lets everyone pull and push anonymously.
	AuthNone AuthMode = iota
	// AuthBasic uses distribution's htpasswd controller: every valid user may
	// pull and push everything (htpasswd has no per-repository grants), and
	// anonymous clients may do nothing.
	AuthBasic
	// AuthToken uses distribution's token controller with the TokenServer
	// served at /token on the same host:port; User.Pull/Push and
	// RegistryOptions.Public decide the grants.
	AuthToken
)

func (m AuthMode) String() string {
	switch m {
	case AuthNone:
		return "none"
	case AuthBasic:
		return "basic"
	case AuthToken:
		return "token"
	}
	return fmt.Sprintf("AuthMode(%d)", int(m))
}

// RegistryOptions configure StartRegistry. The zero value is an anonymous
// plain-HTTP registry.
type RegistryOptions struct {
	Auth AuthMode
	// TLS serves HTTPS with a certificate for 127.0.0.1 and localhost signed
	// by a CA created for this registry (see Registry.CAFile, CAPool).
	TLS bool
	// Users are the accounts for AuthBasic and AuthToken.
	Users map[string]User
	// Public lists repository patterns anonymous clients may pull (AuthToken).
	Public []string
	// Service and Issuer name the token audience and issuer (AuthToken);
	// defaults "regcheck-e2e-registry" and "regcheck-e2e-token-issuer".
	Service string
	Issuer  string
	// TokenTTL is the token lifetime (default 300s).
	TokenTTL time.Duration
	// Wrap puts middleware (fault injection, emulation of other registries)
	// in front of everything, the token endpoint included. Stats count
	// requests before Wrap sees them.
	Wrap func(http.Handler) http.Handler
	// Dir receives the htpasswd file, token root bundle and CA file. When
	// empty a temporary directory is created and removed by Close.
	Dir string
}

// Stats counts requests by kind, as the client sent them.
type Stats struct {
	Token        int64 // anything under /token
	Ping         int64 // GET or HEAD /v2/
	ManifestHead int64
	ManifestGet  int64
	Other        int64
}

type registryCounters struct {
	token, ping, manifestHead, manifestGet, other atomic.Int64
}

// Registry is a running in-process registry on 127.0.0.1.
type Registry struct {
	Host   string // 127.0.0.1:PORT
	URL    string // http(s)://127.0.0.1:PORT
	Auth   AuthMode
	TLS    bool
	CA     *CA            // nil unless TLS
	CAFile string         // PEM of CA, for --ca-file; empty unless TLS
	CAPool *x509.CertPool // trusts only CA; nil unless TLS
	// Service and Realm are what the registry's Bearer challenge announces (AuthToken).
	Service string
	Realm   string
	Users   map[string]User
	Tokens  *TokenServer // nil unless AuthToken

	driver    storagedriver.StorageDriver
	app       *handlers.App
	srv       *http.Server
	serveDone chan struct{}
	transport *http.Transport
	stats     registryCounters
	dir       string
	ownDir    bool
	closeOnce sync.Once
	closeErr  error
}

const handoffDriverName = "regcheck-e2e-inmemory"

var (
	registryDriverOnce sync.Once
	registryQuietOnce  sync.Once
)

// handoffFactory lets us build the in-memory driver ourselves (to walk it in
// Snapshot) and hand it to distribution through the storage parameters,
// since handlers.App keeps its driver private.
type handoffFactory struct{}

func (handoffFactory) Create(_ context.Context, params map[string]any) (storagedriver.StorageDriver, error) {
	d, ok := params["driver"].(storagedriver.StorageDriver)
	if !ok {
		return nil, errors.New("regcheck e2e storage: no driver in parameters")
	}
	return d, nil
}

// StartRegistry starts a registry listening on a random loopback port.
func StartRegistry(opts RegistryOptions) (reg *Registry, err error) {
	registryDriverOnce.Do(func() { factory.Register(handoffDriverName, handoffFactory{}) })
	// distribution logs through the global logrus logger; a test log full of
	// "response completed with error" for every expected 401 hides real failures.
	registryQuietOnce.Do(func() {
		logrus.SetLevel(logrus.ErrorLevel)
		logrus.SetOutput(io.Discard)
	})

	if opts.Service == "" {
		opts.Service = "regcheck-e2e-registry"
	}
	if opts.Issuer == "" {
		opts.Issuer = "regcheck-e2e-token-issuer"
	}

	reg = &Registry{Auth: opts.Auth, TLS: opts.TLS, Users: opts.Users, dir: opts.Dir}
	if reg.dir == "" {
		reg.dir, err = os.MkdirTemp("", "regcheck-registry-")
		if err != nil {
			return nil, fmt.Errorf("creating registry directory: %w", err)
		}
		reg.ownDir = true
	}
	// Undo partial work on failure; Close copes with missing pieces.
	defer func() {
		if err != nil {
			_ = reg.Close()
			reg = nil
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return reg, fmt.Errorf("listening on loopback: %w", err)
	}
	reg.Host = ln.Addr().String()
	scheme := "http"
	reg.transport = &http.Transport{
		Proxy:               nil, // loopback only; never an environment proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	if opts.TLS {
		scheme = "https"
		if reg.CA, err = NewCA("regcheck e2e registry CA"); err != nil {
			_ = ln.Close()
			return reg, err
		}
		var leaf tls.Certificate
		if leaf, err = reg.CA.Issue("127.0.0.1", "localhost", "::1"); err != nil {
			_ = ln.Close()
			return reg, err
		}
		if reg.CAFile, err = reg.CA.WriteCertFile(reg.dir, "ca.pem"); err != nil {
			_ = ln.Close()
			return reg, err
		}
		reg.CAPool = reg.CA.Pool
		reg.transport.TLSClientConfig = &tls.Config{RootCAs: reg.CAPool, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{leaf},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"},
		})
	}
	reg.URL = scheme + "://" + reg.Host

	config, err := reg.configure(opts)
	if err != nil {
		_ = ln.Close()
		return reg, err
	}
	reg.driver = inmemory.New()
	config.Storage[handoffDriverName] = configuration.Parameters{"driver": reg.driver}
	if reg.app, err = newDistributionApp(config); err != nil {
		_ = ln.Close()
		return reg, err
	}

	var handler http.Handler = reg.app
	if opts.Auth == AuthToken {
		mux := http.NewServeMux()
		mux.Handle("/token", reg.Tokens)
		mux.Handle("/", reg.app)
		handler = mux
	}
	if opts.Wrap != nil {
		handler = opts.Wrap(handler)
	}
	handler = reg.count(handler)

	reg.srv = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Handshake failures are what the TLS tests provoke; keep them off stderr.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	reg.serveDone = make(chan struct{})
	go func() {
		defer close(reg.serveDone)
		// Serve returns ErrServerClosed on Close; nothing else is actionable here.
		_ = reg.srv.Serve(ln)
	}()
	return reg, nil
}

// configure builds the distribution configuration and the auth files.
func (reg *Registry) configure(opts RegistryOptions) (*configuration.Configuration, error) {
	config := &configuration.Configuration{
		Version: configuration.CurrentVersion,
		Storage: configuration.Storage{
			"delete":   configuration.Parameters{"enabled": true},
			"redirect": configuration.Parameters{"disable": true},
			// The purger would otherwise run a goroutine per registry for a day.
			"maintenance": configuration.Parameters{
				"uploadpurging": map[any]any{"enabled": false},
			},
		},
	}
	config.Log.Level = "error"
	// configuration.Parse fills these from YAML; built in code they stay 0,
	// and then _catalog and tags/list answer with empty lists.
	config.Catalog.MaxEntries = 1000
	config.Tags.MaxTags = 1000
	config.HTTP.Addr = reg.Host
	// A fixed secret avoids distribution's "generating a random secret" warning;
	// it only signs upload state, which never leaves one process.
	config.HTTP.Secret = "regcheck-e2e-upload-state-secret"

	switch opts.Auth {
	case AuthNone:
	case AuthBasic:
		p, err := writeRegistryHtpasswd(reg.dir, opts.Users)
		if err != nil {
			return nil, err
		}
		config.Auth = configuration.Auth{"htpasswd": configuration.Parameters{
			"realm": "regcheck-e2e",
			"path":  p,
		}}
	case AuthToken:
		ts, err := NewTokenServer(TokenServerOptions{
			Service: opts.Service,
			Issuer:  opts.Issuer,
			TTL:     opts.TokenTTL,
			Users:   opts.Users,
			Public:  opts.Public,
		})
		if err != nil {
			return nil, err
		}
		bundle := filepath.Join(reg.dir, "token-root.pem")
		if err := os.WriteFile(bundle, ts.RootCertPEM(), 0o644); err != nil {
			return nil, fmt.Errorf("writing token root bundle: %w", err)
		}
		reg.Tokens = ts
		reg.Service = opts.Service
		reg.Realm = reg.URL + "/token"
		config.Auth = configuration.Auth{"token": configuration.Parameters{
			"realm":             reg.Realm,
			"service":           opts.Service,
			"issuer":            opts.Issuer,
			"rootcertbundle":    bundle,
			"signingalgorithms": []any{"ES256"},
		}}
	default:
		return nil, fmt.Errorf("unknown auth mode %v", opts.Auth)
	}
	return config, nil
}

// newDistributionApp turns distribution's configuration panics into errors.
func newDistributionApp(config *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("starting distribution: %v", r)
		}
	}()
	return handlers.NewApp(context.Background(), config), nil
}

// writeRegistryHtpasswd writes bcrypt entries at the minimum cost: the hashes only
// need to be bcrypt for distribution to accept them, not strong.
func writeRegistryHtpasswd(dir string, users map[string]User) (string, error) {
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		if strings.ContainsAny(name, ":\n") {
			return "", fmt.Errorf("htpasswd: invalid user name %q", name)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(users[name].Password), bcrypt.MinCost)
		if err != nil {
			return "", fmt.Errorf("hashing password of %q: %w", name, err)
		}
		fmt.Fprintf(&b, "%s:%s\n", name, hash)
	}
	p := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("writing htpasswd: %w", err)
	}
	return p, nil
}

func (reg *Registry) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/token" || strings.HasPrefix(p, "/token/"):
			reg.stats.token.Add(1)
		case (p == "/v2/" || p == "/v2") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			reg.stats.ping.Add(1)
		case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/manifests/") && r.Method == http.MethodHead:
			reg.stats.manifestHead.Add(1)
		case strings.HasPrefix(p, "/v2/") && strings.Contains(p, "/manifests/") && r.Method == http.MethodGet:
			reg.stats.manifestGet.Add(1)
		default:
			reg.stats.other.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// Stats returns the request counts so far.
func (reg *Registry) Stats() Stats {
	return Stats{
		Token:        reg.stats.token.Load(),
		Ping:         reg.stats.ping.Load(),
		ManifestHead: reg.stats.manifestHead.Load(),
		ManifestGet:  reg.stats.manifestGet.Load(),
		Other:        reg.stats.other.Load(),
	}
}

// ResetStats zeroes the registryCounters, e.g. after seeding content.
func (reg *Registry) ResetStats() {
	reg.stats.token.Store(0)
	reg.stats.ping.Store(0)
	reg.stats.manifestHead.Store(0)
	reg.stats.manifestGet.Store(0)
	reg.stats.other.Store(0)
}

// Total is the number of requests of every kind.
func (s Stats) Total() int64 {
	return s.Token + s.Ping + s.ManifestHead + s.ManifestGet + s.Other
}

// Transport returns a transport that trusts the registry's CA (when TLS) and
// nothing else. It is shared, so its idle connections are closed by Close.
func (reg *Registry) Transport() http.RoundTripper { return reg.transport }

// Client is an *http.Client over Transport that does not follow redirects,
// so tests see exactly what the registry answered.
func (reg *Registry) Client() *http.Client {
	return &http.Client{
		Transport: reg.transport,
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Ref returns "HOST/repo:tag".
func (reg *Registry) Ref(repo, tag string) string { return reg.Host + "/" + repo + ":" + tag }

// Snapshot lists every file in the registry's storage (blobs, links, tags and
// upload state under _uploads) with its size and content hash, leaving out
// what no client can observe:
//   - directories: distribution leaves empty ones behind (e.g. _uploads after a
//     cancelled upload);
//   - the hash state of a cancelled upload: distribution v3.1.2's
//     CancelBlobUpload deletes the upload and then, in a deferred Close, writes
//     _uploads/<id>/hashstates/sha256/0 back. Without its startedat file the
//     upload is dead (resuming it answers BLOB_UPLOAD_UNKNOWN).
//
// An upload that was started and not cancelled keeps its startedat and data
// files and so shows up. RawSnapshot lists everything.
func (reg *Registry) Snapshot() (map[string]string, error) {
	all, err := reg.RawSnapshot()
	if err != nil {
		return nil, err
	}
	live := map[string]bool{} // upload directories that still have startedat
	for p := range all {
		if dir, rest, ok := splitUploadPath(p); ok && rest == "startedat" {
			live[dir] = true
		}
	}
	out := make(map[string]string, len(all))
	for p, v := range all {
		if dir, _, ok := splitUploadPath(p); ok && !live[dir] {
			continue
		}
		out[p] = v
	}
	return out, nil
}

// splitUploadPath splits ".../_uploads/<id>/rest" into ".../_uploads/<id>" and "rest".
func splitUploadPath(p string) (dir, rest string, ok bool) {
	i := strings.Index(p, "/_uploads/")
	if i < 0 {
		return "", "", false
	}
	tail := p[i+len("/_uploads/"):]
	id, rest, ok := strings.Cut(tail, "/")
	if !ok || id == "" {
		return "", "", false
	}
	return p[:i+len("/_uploads/")] + id, rest, true
}

// RawSnapshot is Snapshot without the filtering of dead upload leftovers.
func (reg *Registry) RawSnapshot() (map[string]string, error) {
	ctx := context.Background()
	out := map[string]string{}
	err := reg.driver.Walk(ctx, "/", func(fi storagedriver.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		content, err := reg.driver.GetContent(ctx, fi.Path())
		if err != nil {
			return fmt.Errorf("reading %s: %w", fi.Path(), err)
		}
		sum := sha256.Sum256(content)
		out[fi.Path()] = fmt.Sprintf("%d:sha256:%s", len(content), hex.EncodeToString(sum[:]))
		return nil
	})
	var notFound storagedriver.PathNotFoundError
	if errors.As(err, &notFound) {
		return out, nil // nothing stored yet
	}
	if err != nil {
		return nil, fmt.Errorf("walking registry storage: %w", err)
	}
	return out, nil
}

// DiffSnapshots describes how after differs from before, one line per path;
// empty when they are identical.
func DiffSnapshots(before, after map[string]string) []string {
	var diff []string
	for p, v := range before {
		switch w, ok := after[p]; {
		case !ok:
			diff = append(diff, "removed "+p)
		case w != v:
			diff = append(diff, fmt.Sprintf("changed %s: %s -> %s", p, v, w))
		}
	}
	for p, w := range after {
		if _, ok := before[p]; !ok {
			diff = append(diff, fmt.Sprintf("added %s (%s)", p, w))
		}
	}
	sort.Strings(diff)
	return diff
}

// Close stops the server, shuts the application down and removes the
// temporary directory it created. distribution's event broadcaster goroutine
// has no way to be stopped and stays behind.
func (reg *Registry) Close() error {
	reg.closeOnce.Do(func() {
		var errs []error
		if reg.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := reg.srv.Shutdown(ctx); err != nil {
				// Hung handlers (a test's blocking middleware) must not hang Close.
				errs = append(errs, reg.srv.Close())
			}
			cancel()
			<-reg.serveDone
		}
		if reg.app != nil {
			if err := reg.app.Shutdown(); err != nil {
				errs = append(errs, fmt.Errorf("shutting down distribution: %w", err))
			}
		}
		if reg.transport != nil {
			reg.transport.CloseIdleConnections()
		}
		if reg.ownDir && reg.dir != "" {
			if err := os.RemoveAll(reg.dir); err != nil {
				errs = append(errs, fmt.Errorf("removing registry directory: %w", err))
			}
		}
		reg.closeErr = errors.Join(errs...)
	})
	return reg.closeErr
}
