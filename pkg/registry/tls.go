package registry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// httpsTransport is the registry client's own transport: net/http's
// defaults, TLS 1.2 at least, trusting the system roots plus CAFile.
//
// The roots load in the background from here on, so the scan reads the
// cluster meanwhile: parsing the system's roots takes about 12 ms, spent
// before the first LIST when --ca-file is given and in the first
// registry handshake when not. CAFile is read and checked now, so a file
// that cannot be used is still NewClient's error.
func httpsTransport(o Options) (http.RoundTripper, error) {
	if o.CAFile == "" {
		// crypto/x509 loads the system roots once; verification uses them.
		go func() { _, _ = x509.SystemCertPool() }()
		return newHTTPSTransport(o, nil), nil
	}
	pem, err := readCAFile(o.CAFile)
	if err != nil {
		return nil, err
	}
	d := &rootsPending{ready: make(chan struct{})}
	go func() {
		defer close(d.ready)
		d.next = newHTTPSTransport(o, withSystemRoots(pem))
	}()
	return d, nil
}

// newHTTPSTransport is a copy of net/http's default transport trusting
// roots (nil: the system's).
func newHTTPSTransport(o Options, roots *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, InsecureSkipVerify: o.InsecureSkipTLSVerify} //nolint:gosec // the user asked for it
	return t
}

// rootsPending is the transport until its roots are loaded: a request
// waits for them (or for its context), then goes through next.
type rootsPending struct {
	ready chan struct{}
	next  *http.Transport // set before ready is closed
}

func (d *rootsPending) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case <-d.ready:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, req.Context().Err()
	}
	return d.next.RoundTrip(req)
}

// CloseIdleConnections reaches the transport once it is built.
func (d *rootsPending) CloseIdleConnections() {
	select {
	case <-d.ready:
		d.next.CloseIdleConnections()
	default: // nothing dialed yet
	}
}

// RootCAs are the roots regcheck trusts: the system's plus caFile's (nil,
// meaning the system pool, when caFile is empty). The error is a
// *Failure (TLSError) naming the file. Every TLS check uses this one
// loader, so the registry client and the doctor's certificate check
// never disagree on what is trusted.
func RootCAs(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, nil
	}
	pem, err := readCAFile(caFile)
	if err != nil {
		return nil, err
	}
	return withSystemRoots(pem), nil
}

// readCAFile reads caFile and checks that it holds a PEM certificate; the
// error is a *Failure (TLSError) naming the file.
func readCAFile(caFile string) ([]byte, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, &Failure{
			Reason:   report.ReasonTLSError,
			Fault:    report.Fault{Cause: report.CauseCAFileUnreadable, Input: caFile},
			Evidence: report.Evidence{"caFile": caFile},
		}
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, &Failure{
			Reason:   report.ReasonTLSError,
			Fault:    report.Fault{Cause: report.CauseCAFileNoPEM, Input: caFile},
			Evidence: report.Evidence{"caFile": caFile},
		}
	}
	return pem, nil
}

// withSystemRoots is the system's roots plus pem's certificates.
func withSystemRoots(pem []byte) *x509.CertPool {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AppendCertsFromPEM(pem)
	return pool
}

// tlsFailure names a TLS error, or returns nil when err is not one.
func tlsFailure(err error, host string) *Failure {
	ev := report.Evidence{"host": host}
	var leaf *x509.Certificate
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) && len(verr.UnverifiedCertificates) > 0 {
		leaf = verr.UnverifiedCertificates[0]
	}
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
	)
	f := &Failure{Reason: report.ReasonTLSError, Evidence: ev, Fault: report.Fault{Host: host}}
	switch {
	case errors.As(err, &unknown):
		if unknown.Cert != nil {
			leaf = unknown.Cert
		}
		f.Cause = report.CauseUnknownAuthority
	case errors.As(err, &invalid):
		if invalid.Cert != nil {
			leaf = invalid.Cert
		}
		if invalid.Reason == x509.Expired {
			f.Cause = report.CauseCertificateExpired
		} else {
			f.Cause = report.CauseCertificateInvalid
		}
	case errors.As(err, &hostname):
		if hostname.Certificate != nil {
			leaf = hostname.Certificate
			ev["certificateNames"] = certNames(leaf)
		}
		f.Cause = report.CauseCertificateHost
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch):
		f.Cause = report.CauseTLSToPlainHTTP
		ev["detail"] = "HTTPS spoken to an HTTP port"
	default:
		var alert tls.AlertError
		if verr == nil && !errors.As(err, &alert) {
			return nil
		}
		f.Cause = report.CauseTLSHandshake
	}
	if leaf != nil {
		ev["subject"] = leaf.Subject.String()
		ev["issuer"] = leaf.Issuer.String()
		ev["notAfter"] = leaf.NotAfter.UTC().Format(time.RFC3339)
	}
	return f
}

func certNames(c *x509.Certificate) []string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}
