package kube

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/regcheck/regcheck/pkg/report"
)

// Error says why nothing could be read: the API server is unreachable or
// too slow, rejects the credentials, or forbids every workload resource.
// Collect returns it only when no workload resource could be listed.
type Error struct {
	Reason  report.Reason // Unreachable, TLSError, InvalidCredentials, Forbidden, ServerError, RateLimited, NotServed
	Message string
	Remedy  string
	Err     error // the LIST errors, joined
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// cause is why one LIST failed, in words.
type cause struct {
	reason report.Reason
	// why completes "<resource> in namespace x ...": "may not be listed
	// (forbidden)", "could not be listed: the API server answered 503 ...".
	why    string
	remedy string
	// key groups causes that read the same but for a duration.
	key    string
	status int // HTTP status; 0 when there was no answer
	// fatal: the credentials were rejected, so nothing else can be read.
	fatal bool
}

// classify names why a LIST of resource in ns failed. ctx is the run's
// context and took is how long the LIST took, so a timeout can say how
// long was waited. Classification uses the error's types, never its text.
func classify(ctx context.Context, err error, resource, ns string, took time.Duration) cause {
	listing := fmt.Sprintf("kubectl auth can-i list %s%s", resource, nsFlag(ns))
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code != 0 {
		code := int(status.Status().Code)
		switch {
		case apierrors.IsUnauthorized(err):
			return cause{
				reason: report.ReasonInvalidCredentials, status: code, fatal: true,
				why:    "could not be listed: the API server rejected the kubeconfig's credentials (401 Unauthorized)",
				remedy: "renew the kubeconfig user's credentials (log in again, or a new token or client certificate); kubectl auth whoami shows whether the API server accepts them",
			}
		case apierrors.IsForbidden(err):
			return cause{
				reason: report.ReasonForbidden, status: code,
				why:    "may not be listed (forbidden)",
				remedy: fmt.Sprintf("ask for get and list on %s, or use a context that has them (%s)", resource, listing),
			}
		case apierrors.IsNotFound(err), apierrors.IsMethodNotSupported(err):
			return cause{
				reason: report.ReasonNotServed, status: code,
				why:    "are not served by this cluster",
				remedy: "nothing to do unless this cluster should serve them: kubectl api-resources lists what it serves",
			}
		case apierrors.IsTooManyRequests(err):
			return cause{
				reason: report.ReasonRateLimited, status: code,
				why:    fmt.Sprintf("could not be listed: the API server answered 429 (too many requests) after client-go's retries%s", statusDetail(status)),
				remedy: "the API server is shedding load (API priority and fairness): retry later, or scan one namespace at a time (-n)",
			}
		}
		return cause{
			reason: report.ReasonServerError, status: code,
			why:    fmt.Sprintf("could not be listed: the API server answered %d (%s)%s", code, statusText(status), statusDetail(status)),
			remedy: "the API server (or the aggregated API behind it) is failing: check kubectl get --raw '/readyz?verbose' and its logs, then retry",
		}
	}

	unreachable := func(why string) cause {
		return cause{
			reason: report.ReasonUnreachable,
			why:    "could not be listed: " + why,
			remedy: "check that the API server is up and reachable (kubectl cluster-info, kubectl get --raw /readyz) and retry",
		}
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		record    tls.RecordHeaderError
		dns       *net.DNSError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded), utilnet.IsTimeout(err):
		within := "in time"
		if took > 0 {
			within = "within " + round(took).String()
		}
		c := unreachable("the API server did not answer " + within)
		c.key = "timeout"
		c.remedy = "the API server is slow or unreachable: check it (kubectl get --raw '/readyz?verbose') and retry; a slow API server needs a longer --timeout or --request-timeout"
		return c
	case errors.Is(err, context.Canceled):
		return unreachable("the run was cancelled")
	case errors.Is(err, syscall.ECONNREFUSED):
		var uerr *url.Error
		if !errors.As(err, &uerr) {
			return unreachable("the API server is not answering (connection refused)")
		}
		host := uerr.URL
		if u, perr := url.Parse(uerr.URL); perr == nil {
			host = u.Host
		}
		c := unreachable("the API server at " + host + " is not answering (connection refused)")
		if host == "localhost:8080" {
			// client-go's last resort, as kubectl's: no kubeconfig was
			// found and no in-cluster config applies.
			c.why += "; no kubeconfig was found, so localhost:8080 was tried, as kubectl does"
			c.remedy = "point regcheck at a cluster: set KUBECONFIG, or pass --kubeconfig and --context (kubectl config get-contexts lists them)"
		}
		return c
	case errors.Is(err, syscall.ECONNRESET):
		return unreachable("the API server dropped the connection (connection reset)")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), utilnet.IsProbableEOF(err):
		return unreachable("the API server closed the connection before answering (EOF)")
	case errors.As(err, &dns):
		return unreachable(fmt.Sprintf("the API server's host %s does not resolve", dns.Name))
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname), errors.As(err, &record):
		return cause{
			reason: report.ReasonTLSError,
			why:    "could not be listed: the API server's TLS certificate is not trusted (" + tlsDetail(err, unknownCA, hostname) + ")",
			remedy: "check the kubeconfig's certificate-authority(-data) and server for this cluster (kubectl config view --minify)",
		}
	}
	return cause{
		reason: report.ReasonServerError,
		why:    "could not be listed: " + err.Error(),
		remedy: "check that the API server is healthy (kubectl get --raw '/readyz?verbose') and retry",
	}
}

func statusText(status apierrors.APIStatus) string {
	if r := status.Status().Reason; r != "" {
		return string(r)
	}
	return http.StatusText(int(status.Status().Code))
}

// statusDetail is the server's message, cut to one short line.
func statusDetail(status apierrors.APIStatus) string {
	msg := strings.Join(strings.Fields(status.Status().Message), " ")
	if msg == "" {
		return ""
	}
	if len(msg) > 120 {
		msg = msg[:117] + "..."
	}
	return ": " + msg
}

func tlsDetail(err error, unknownCA *x509.UnknownAuthorityError, hostname x509.HostnameError) string {
	switch {
	case unknownCA != nil:
		return "signed by an unknown authority"
	case hostname.Certificate != nil:
		return "issued for another host"
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
		return "expired or not yet valid"
	}
	return "the TLS handshake failed"
}

func round(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

func nsFlag(ns string) string {
	if ns == "" {
		return " -A"
	}
	return " -n " + ns
}

// failure is one resource that could not be listed.
type failure struct {
	resource string
	err      error
	cause    cause
	took     time.Duration
}

// nothingRead builds the error Collect returns when no workload resource
// could be listed: the first failure's reason and remedy (pods come
// first), one message that names every resource and why.
func nothingRead(ns string, failures []failure) *Error {
	first, longest := failures[0], failures[0]
	var errs []error
	var parts, names []string
	same := true
	for _, f := range failures {
		errs = append(errs, fmt.Errorf("listing %s%s: %w", f.resource, inNamespace(ns), f.err))
		parts = append(parts, f.resource+" "+f.cause.why)
		names = append(names, f.resource)
		same = same && f.cause.groupKey() == first.cause.groupKey()
		if f.took > longest.took {
			longest = f
		}
	}
	msg := fmt.Sprintf("no workload could be read%s: %s", inNamespace(ns), strings.Join(parts, "; "))
	if same {
		msg = fmt.Sprintf("no workload could be read%s: %s %s", inNamespace(ns), strings.Join(names, ", "), longest.cause.why)
	}
	return &Error{Reason: first.cause.reason, Message: msg, Remedy: first.cause.remedy, Err: errors.Join(errs...)}
}

func (c cause) groupKey() string {
	if c.key != "" {
		return c.key
	}
	return c.why
}
