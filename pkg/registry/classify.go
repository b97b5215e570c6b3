package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/net/html"

	"github.com/regcheck/regcheck/pkg/report"
)

// transportFailure names an exchange that got no HTTP answer.
func (c *Client) transportFailure(err error, u *url.URL, d time.Duration) *Failure {
	host := u.Host
	if f := tlsFailure(err, host); f != nil {
		f.PlainHTTP = c.opts.PlainHTTP
		return f
	}
	ev := report.Evidence{"url": redactURL(u), "elapsed": d.Round(time.Millisecond).String()}
	f := &Failure{Reason: report.ReasonUnreachable, Evidence: ev,
		Fault: report.Fault{Cause: report.CauseNoAnswer, Host: host, PlainHTTP: c.opts.PlainHTTP}}
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.Is(err, errTooManyRedirects):
		f.Reason = report.ReasonNotARegistry
		f.Cause = report.CauseRedirectLoop
	case errors.As(err, &dns):
		f.Silence, f.DNSName = report.SilenceDNS, dns.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		f.Cause = report.CauseConnectionRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		f.Silence, f.Timeout = report.SilenceTimeout, c.opts.RequestTimeout
	case errors.Is(err, context.Canceled):
		f.Silence = report.SilenceCancelled
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		f.Cause = report.CauseConnectionReset
	default:
		f.Silence = report.SilenceNetwork
	}
	ev["cause"] = silenceEvidence(f.Fault)
	return f
}

// silenceEvidence shows why no answer came, for a person, from the typed
// facts (the cause, or the silence: its values are what evidence shows).
func silenceEvidence(f report.Fault) string {
	switch f.Cause {
	case report.CauseRedirectLoop:
		return "redirect loop"
	case report.CauseConnectionRefused:
		return "connection refused"
	case report.CauseConnectionReset:
		return "connection reset"
	}
	return string(f.Silence)
}

// mediaType is the Content-Type without parameters, lower-cased.
func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// isHTML reports whether a body is a web page (a login portal, a proxy's
// error page) rather than the registry API: by content type or by sniffing.
func isHTML(r *response) bool {
	if mt := mediaType(r.Header); mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	if len(r.Body) == 0 {
		return false
	}
	return strings.HasPrefix(http.DetectContentType(r.Body), "text/html")
}

// pageTitle is the <title> of an HTML body, for evidence.
func pageTitle(body []byte) string {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "title" {
				if z.Next() == html.TextToken {
					t := strings.Join(strings.Fields(string(z.Text())), " ")
					if len(t) > 120 {
						t = t[:120] + "…"
					}
					return t
				}
				return ""
			}
		}
	}
}

// isJSON reports whether a body parses as JSON.
func isJSON(b []byte) bool { return json.Valid(bytes.TrimSpace(b)) }

// registryError parses an OCI error body with go-containerregistry; nil
// when the body holds no error codes.
func registryError(r *response) *transport.Error {
	hr := &http.Response{StatusCode: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body))}
	var te *transport.Error
	if err := transport.CheckError(hr, http.StatusOK); errors.As(err, &te) && len(te.Errors) > 0 {
		return te
	}
	return nil
}

// hasCode reports whether the OCI error body carries code.
func hasCode(te *transport.Error, code transport.ErrorCode) bool {
	if te == nil {
		return false
	}
	for _, d := range te.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// firstMessage is the registry's own words, for messages ("denied: ...").
func firstMessage(te *transport.Error) string {
	if te == nil || len(te.Errors) == 0 {
		return ""
	}
	d := te.Errors[0]
	msg := string(d.Code)
	if d.Message != "" {
		msg += ": " + d.Message
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// responseEvidence is what every failed exchange shows.
func responseEvidence(r *response) report.Evidence {
	ev := report.Evidence{
		"request":    r.Method + " " + redactURL(r.URL),
		"httpStatus": r.Status,
	}
	if chs := r.Header.Values("WWW-Authenticate"); len(chs) > 0 {
		ev["challenge"] = challengeStrings(ParseChallenges(chs...))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		ev["contentType"] = ct
	}
	if te := registryError(r); te != nil {
		codes := make([]string, 0, len(te.Errors))
		for _, d := range te.Errors {
			codes = append(codes, string(d.Code))
		}
		ev["errorCodes"] = codes
		ev["registryMessage"] = firstMessage(te)
	}
	if p := bodyEvidence(r.BodyErr); p != "" {
		ev["body"] = p
	}
	for k, v := range rateLimitEvidence(r.Header) {
		ev[k] = v
	}
	r.Attempts.evidence(ev)
	return ev
}

// rateLimitOf reads Docker Hub's rate-limit headers and Retry-After.
func rateLimitOf(h http.Header) report.RateLimit {
	return report.RateLimit{Limit: h.Get("ratelimit-limit"), Remaining: h.Get("ratelimit-remaining"), RetryAfter: h.Get("retry-after")}
}

// rateLimitEvidence is the display copy of rateLimitOf: the headers sent,
// under their own names.
func rateLimitEvidence(h http.Header) report.Evidence {
	return rateLimitOf(h).Evidence()
}

// insufficientScope reports a Bearer challenge with error="insufficient_scope".
func insufficientScope(h http.Header) bool {
	for _, c := range ParseChallenges(h.Values("WWW-Authenticate")...) {
		if c.Params["error"] == "insufficient_scope" {
			return true
		}
	}
	return false
}
