package probe

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/credentials"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/report"
)

// Secrets with the characters shells and JSON mangle.
const (
	nastyPass  = `p"a\ss$w:o'rd`
	nastyToken = `id"tok\en$:'x`
)

func TestTraceNeverLeaksSecrets(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": nastyPass}, Grants: map[string][]string{"alice team/app": {"pull", "push"}},
		Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	var trace bytes.Buffer
	pr := New(newClient(t, registry.Options{PlainHTTP: true, Trace: &trace}))
	ctx := context.Background()
	rs := pr.Check(ctx, Target{Image: f.host() + "/team/app:1", Push: true, Pull: true,
		Lookup: credentials.Lookup{Credentials: []credentials.Credential{cred(dockerConfig, "alice", nastyPass)}}})
	if r := find(rs, report.CheckRegistryPush); r == nil || r.Status != report.StatusPass {
		t.Fatalf("push should pass:\n%s", dump(rs))
	}
	// A second check with an identity token (OAuth2 POST) and a wrong one.
	f.Users["<token>"] = nastyToken
	pr.Check(ctx, Target{Image: f.host() + "/team/app:1",
		Lookup: credentials.Lookup{Credentials: []credentials.Credential{{Source: "docker-config", Username: "<token>", IdentityToken: nastyToken + "-wrong"}}}})

	out := trace.String()
	if !strings.Contains(out, "GET http://"+f.host()+"/v2/") || !strings.Contains(out, "requested scope repository:team/app:pull,push") ||
		!strings.Contains(out, "challenge=Bearer") || !strings.Contains(out, `granted {"repository:team/app":["pull","push"]}`) {
		t.Errorf("trace lacks the exchange details:\n%s", out)
	}
	if !strings.Contains(out, "_state=REDACTED") {
		t.Errorf("upload state not redacted:\n%s", out)
	}
	secrets := []string{nastyPass, nastyToken, base64.StdEncoding.EncodeToString([]byte("alice:" + nastyPass)), "Basic YWxp", "eyJ", "c2VjcmV0LXN0YXRl"}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("trace leaks %q:\n%s", s, out)
		}
	}
	js, _ := json.Marshal(rs)
	for _, s := range secrets {
		if strings.Contains(string(js), s) {
			t.Errorf("results leak %q", s)
		}
	}
}

func TestCredentialsNotSentToAnotherHost(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", manifestDigest())
		_, _ = w.Write([]byte(testManifest))
	}))
	defer other.Close()
	f := &fake{Basic: "Basic", Users: map[string]string{"alice": nastyPass}, Grants: map[string][]string{"alice team/app": {"pull"}}}
	f.ManifestHandler = func(w http.ResponseWriter, r *http.Request) {
		if _, ok, _ := f.basicUser(r); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// A registry that sends manifests to a CDN on another host.
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}
	f.start(t)
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	rs := pr.Check(context.Background(), Target{Image: f.host() + "/team/app:1",
		Lookup: credentials.Lookup{Credentials: []credentials.Credential{cred(dockerConfig, "alice", nastyPass)}}})
	if r := find(rs, report.CheckRegistryPull); r == nil || r.Status != report.StatusPass {
		t.Fatalf("pull should pass through the redirect:\n%s", dump(rs))
	}
	if leaked.Load() {
		t.Fatal("the Authorization header was sent to another host")
	}
}

func TestUnreachableWithinDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never answer
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	pr := New(newClient(t, registry.Options{PlainHTTP: true, RequestTimeout: 300 * time.Millisecond}))
	start := time.Now()
	rs := pr.Check(context.Background(), Target{Image: ln.Addr().String() + "/team/app:1"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s, want about 300ms", d)
	}
	if len(rs) != 1 || rs[0].Check != report.CheckRegistryReachable || rs[0].Reason != report.ReasonUnreachable {
		t.Fatalf("want one Unreachable result:\n%s", dump(rs))
	}
	if rs[0].Evidence["cause"] != "timeout" {
		t.Errorf("cause = %v", rs[0].Evidence["cause"])
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	rs := New(newClient(t, registry.Options{PlainHTTP: true})).Check(context.Background(), Target{Image: addr + "/a:1"})
	if rs[0].Reason != report.ReasonUnreachable || rs[0].Evidence["cause"] != "connection refused" {
		t.Fatalf("%s", dump(rs))
	}
}

func TestTLS(t *testing.T) {
	f := &fake{Grants: map[string][]string{"* team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures are the point
	srv.StartTLS()
	defer srv.Close()
	f.srv = srv
	host := strings.TrimPrefix(srv.URL, "https://")
	image := host + "/team/app:1"

	rs := New(newClient(t, registry.Options{})).Check(context.Background(), Target{Image: image})
	r := rs[0]
	if r.Reason != report.ReasonTLSError || !strings.Contains(r.Remedy, "--ca-file") {
		t.Fatalf("unknown CA: %s", dump(rs))
	}
	for _, k := range []string{"subject", "issuer", "notAfter"} {
		if r.Evidence[k] == nil {
			t.Errorf("evidence lacks %s: %v", k, r.Evidence)
		}
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	rs = New(newClient(t, registry.Options{CAFile: ca})).Check(context.Background(), Target{Image: image})
	if r := find(rs, report.CheckRegistryPull); r == nil || r.Status != report.StatusPass {
		t.Fatalf("with --ca-file: %s", dump(rs))
	}

	// HTTPS spoken to a plain HTTP port.
	plain := &fake{}
	plain.start(t)
	rs = New(newClient(t, registry.Options{})).Check(context.Background(), Target{Image: plain.host() + "/a:1"})
	if rs[0].Reason != report.ReasonTLSError || !strings.Contains(rs[0].Remedy, "--plain-http") {
		t.Fatalf("https to http: %s", dump(rs))
	}
}

func TestCredentialProblemsAndReferences(t *testing.T) {
	f := &fake{Grants: map[string][]string{"* team/app": {"pull"}}, Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	rs := pr.Check(context.Background(), Target{Image: f.host() + "/team/app:1", Lookup: credentials.Lookup{
		Tried: []credentials.Store{dockerConfig},
		Problems: []credentials.Problem{{Source: "docker-config", Host: f.host(), Reason: report.ReasonIncompleteCredentials,
			Message: "username without a password for " + f.host()}},
	}})
	var got *report.Result
	for i := range rs {
		if rs[i].Reason == report.ReasonIncompleteCredentials {
			got = &rs[i]
		}
	}
	if got == nil || got.Check != report.CheckRegistryCredentials || got.Status != report.StatusFail || got.Remedy == "" {
		t.Fatalf("IncompleteCredentials result missing:\n%s", dump(rs))
	}

	for _, bad := range []string{"sha256:" + strings.Repeat("ab", 32), "team/App:1", "team/app::1", ""} {
		rs := pr.Check(context.Background(), Target{Image: bad})
		if len(rs) != 1 || rs[0].Check != report.CheckImageReference || rs[0].Reason != report.ReasonInvalidReference {
			t.Fatalf("%q: %s", bad, dump(rs))
		}
	}
	rs = pr.Check(context.Background(), Target{Image: "sha256:" + strings.Repeat("ab", 32)})
	if !strings.Contains(rs[0].Remedy, "@sha256:") {
		t.Errorf("remedy should suggest repo@sha256: %q", rs[0].Remedy)
	}
}

func TestCheckIsConcurrencySafe(t *testing.T) {
	f := &fake{Users: map[string]string{"alice": "pw"}, Grants: map[string][]string{"alice team/app": {"pull", "push"}},
		Repos: map[string][]string{"team/app": {"1"}}}
	f.start(t)
	pr := New(newClient(t, registry.Options{PlainHTTP: true}))
	done := make(chan []report.Result)
	for i := 0; i < 8; i++ {
		go func() {
			done <- pr.Check(context.Background(), Target{Image: f.host() + "/team/app:1", Push: true, Pull: true,
				Lookup: credentials.Lookup{Credentials: []credentials.Credential{cred(dockerConfig, "alice", "pw")}}})
		}()
	}
	for i := 0; i < 8; i++ {
		rs := <-done
		if r := find(rs, report.CheckRegistryPush); r == nil || r.Status != report.StatusPass {
			t.Fatalf("%s", dump(rs))
		}
	}
}
