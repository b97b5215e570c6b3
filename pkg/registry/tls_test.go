package registry

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// The CA file is checked when the client is built; the roots it adds to
// the system's load in the background and are trusted by the first
// request.
func TestNewClientCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	serverCA := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	for _, tc := range []struct {
		name      string
		caFile    string
		wantCause report.Cause // NewClient's
		unknownCA bool         // the first request's error, when built
	}{
		{"server's CA", serverCA, "", false},
		{"system roots only", "", "", true},
		{"no such file", filepath.Join(dir, "missing.pem"), report.CauseCAFileUnreadable, false},
		{"no certificate in it", write("empty.pem", []byte("not a certificate\n")), report.CauseCAFileNoPEM, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(Options{CAFile: tc.caFile})
			if tc.wantCause != "" {
				var f *Failure
				if !errors.As(err, &f) || f.Reason != report.ReasonTLSError || f.Cause != tc.wantCause {
					t.Fatalf("NewClient err = %v, want TLSError %s", err, tc.wantCause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdleConnections)
			resp, err := c.http.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
			var unknown x509.UnknownAuthorityError
			if got := errors.As(err, &unknown); got != tc.unknownCA || (err != nil && !got) {
				t.Errorf("GET err = %v, want an unknown authority: %v", err, tc.unknownCA)
			}
		})
	}
}

// A request waiting for the roots gives up with its own context.
func TestRootsPendingKeepsTheRequestsContext(t *testing.T) {
	d := &rootsPending{ready: make(chan struct{})} // roots never loaded
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://registry.invalid/v2/", nil)
	if _, err := d.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	d.CloseIdleConnections() // nothing built yet: nothing to close, no wait
}
