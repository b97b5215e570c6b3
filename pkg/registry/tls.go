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

// tlsConfig trusts the system roots plus CAFile.
func tlsConfig(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.InsecureSkipTLSVerify} //nolint:gosec // the user asked for it
	pool, err := RootCAs(o.CAFile)
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = pool
	return cfg, nil
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
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, &Failure{
			Reason:   report.ReasonTLSError,
			Fault:    report.Fault{Cause: report.CauseCAFileUnreadable, Input: caFile},
			Evidence: report.Evidence{"caFile": caFile},
		}
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &Failure{
			Reason:   report.ReasonTLSError,
			Fault:    report.Fault{Cause: report.CauseCAFileNoPEM, Input: caFile},
			Evidence: report.Evidence{"caFile": caFile},
		}
	}
	return pool, nil
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
