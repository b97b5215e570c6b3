package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/regcheck/regcheck/pkg/bounded"
	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

// reachability checks every host named by flags or references.
func (d *run) reachability(ctx context.Context) {
	for _, r := range d.cfg.Registries {
		if h := registryHost(r); h != "" {
			d.hostOf(h)
		}
	}
	for _, s := range d.subjects {
		if s.ok {
			d.hostOf(s.ref.Registry)
		}
	}
	out := make([]report.Result, len(d.hosts))
	bounded.ForEach(ctx, len(d.hosts), d.cfg.Concurrency, func(i int) {
		out[i] = d.reachable(ctx, d.hosts[i])
	}, nil)
	for i, r := range out {
		if r.Status == report.StatusFail {
			d.hosts[i].failed = &out[i]
		}
		d.add(Reachable, r)
	}
}

// reachable walks one host from the network up: DNS, TCP, TLS (the
// certificate as evidence), then GET /v2/ through the registry client,
// whose answer the probe reuses.
func (d *run) reachable(ctx context.Context, h *host) report.Result {
	r := report.Result{Check: report.CheckRegistryReachable, Registry: h.registry, Evidence: report.Evidence{}}
	ev := r.Evidence
	fail := func(reason report.Reason, msg, remedy string) report.Result {
		r.Status, r.Reason, r.Message, r.Remedy = report.StatusFail, reason, msg, remedy
		return r
	}
	timeout := d.cfg.Dial.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	hostname, port := splitHostPort(h.api, d.cfg.Dial.PlainHTTP)

	if net.ParseIP(hostname) == nil {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		addrs, err := net.DefaultResolver.LookupHost(dctx, hostname)
		cancel()
		if err != nil {
			ev["dns"] = err.Error()
			return fail(report.ReasonUnreachable, "cannot resolve "+hostname,
				"check the registry host name and this machine's DNS (resolv.conf, VPN, corporate resolver)")
		}
		ev["dns"] = addrs[:min(len(addrs), 4)]
	}

	addr := net.JoinHostPort(hostname, port)
	dialer := &net.Dialer{Timeout: timeout}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		ev["tcp"] = err.Error()
		return fail(report.ReasonUnreachable, "cannot connect to "+addr+" (TCP)",
			"check that the registry listens on "+addr+", and firewalls and proxies (HTTPS_PROXY/NO_PROXY) in between")
	}
	ev["tcp"] = "connected to " + conn.RemoteAddr().String()

	var cert certificate
	if d.cfg.Dial.PlainHTTP {
		ev["tls"] = "not used (--plain-http)"
		conn.Close()
	} else {
		cert = d.tlsEvidence(ctx, conn, hostname, timeout, ev)
	}
	skew := cert.skew

	ping, err := d.deps.Registry.Ping(ctx, h.api)
	if err != nil {
		f := registry.AsFailure(err)
		for k, v := range f.Evidence {
			ev[k] = v
		}
		fix := remedy.Registry(f.Fault, d.cfg.Audience)
		if skew != "" {
			fix = skew + "; " + fix
		}
		return fail(f.Reason, remedy.Message(f.Fault), fix)
	}
	for k, v := range ping.Evidence() {
		ev[k] = v
	}
	r.Status, r.Reason = report.StatusPass, report.ReasonOk
	r.Message = fmt.Sprintf("%s resolves, connects and answers the registry API (GET /v2/ → %d, %s)", h.api, ping.Status, ping.Method())
	if cert.seen && cert.daysLeft < 14 {
		r.Status, r.Reason = report.StatusWarn, report.ReasonTLSError
		r.Message = fmt.Sprintf("%s answers the registry API, but its certificate expires in %d days", h.api, cert.daysLeft)
		r.Remedy = "renew the registry's certificate before " + cert.notAfter
	}
	return r
}

// certificate is what the doctor decides on about a registry's
// certificate; evidence holds its display copy.
type certificate struct {
	seen     bool   // a certificate was presented
	daysLeft int    // until notAfter
	notAfter string // RFC 3339
	skew     string // a clock-skew hint when it is not valid yet
}

// tlsEvidence handshakes on conn to record the certificate (subject,
// issuer, validity, days left) whatever its validity, then verifies it as
// the client will.
func (d *run) tlsEvidence(ctx context.Context, conn net.Conn, hostname string, timeout time.Duration, ev report.Evidence) certificate {
	//nolint:gosec // verified below, by hand, so the certificate is evidence even when it is bad
	tc := tls.Client(conn, &tls.Config{ServerName: hostname, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	defer tc.Close()
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		ev["tls"] = "handshake failed: " + err.Error()
		return certificate{}
	}
	st := tc.ConnectionState()
	ev["tls"] = tls.VersionName(st.Version)
	if len(st.PeerCertificates) == 0 {
		return certificate{}
	}
	leaf := st.PeerCertificates[0]
	now := time.Now()
	cert := certificate{seen: true, daysLeft: int(leaf.NotAfter.Sub(now).Hours() / 24), notAfter: leaf.NotAfter.UTC().Format(time.RFC3339)}
	ev["subject"] = leaf.Subject.String()
	ev["issuer"] = leaf.Issuer.String()
	ev["notBefore"] = leaf.NotBefore.UTC().Format(time.RFC3339)
	ev["notAfter"] = cert.notAfter
	ev["daysLeft"] = cert.daysLeft
	if now.Before(leaf.NotBefore) {
		cert.skew = "the certificate is valid only from " + leaf.NotBefore.UTC().Format(time.RFC3339) +
			" but this machine's clock says " + now.UTC().Format(time.RFC3339) + ": check the clock (NTP) here and on the registry"
		ev["clockSkew"] = cert.skew
	}
	if d.cfg.Dial.InsecureSkipTLSVerify {
		ev["verified"] = "no (--insecure-skip-tls-verify)"
		return cert
	}
	roots, err := registry.RootCAs(d.cfg.Dial.CAFile)
	if err != nil {
		f := registry.AsFailure(err)
		ev["verified"] = "no: " + remedy.Line(f.Reason, f.Fault)
		return cert
	}
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: hostname, Roots: roots, Intermediates: inter}); err != nil {
		ev["verified"] = "no: " + err.Error()
	} else {
		ev["verified"] = "yes"
	}
	return cert
}

func splitHostPort(hostport string, plain bool) (string, string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	if plain {
		return hostport, "80"
	}
	return hostport, "443"
}
