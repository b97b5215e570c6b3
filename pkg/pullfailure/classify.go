// Package pullfailure reads what the kubelet says about a failed image
// pull — its waiting reason and the container runtime's message, as
// containerd (1.6, 1.7, 2.x), CRI-O and dockershim word it — and names the
// cause with one of SPEC's reasons. One job: classify. Reading the pods
// and Events is pkg/kube's, replaying the pull is pkg/scan's.
//
// The message is text written by another program on another machine: no
// library parses it, and no error type survives the CRI. So this is the
// one place in regcheck that matches message strings, from one table.
package pullfailure

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// The kubelet's waiting reasons and event reasons for image pulls
// (k8s.io/kubernetes pkg/kubelet/images and pkg/kubelet/events).
const (
	WaitingErrImagePull             = "ErrImagePull"
	WaitingImagePullBackOff         = "ImagePullBackOff"
	WaitingInvalidImageName         = "InvalidImageName"
	WaitingErrImageNeverPull        = "ErrImageNeverPull"
	EventFailed                     = "Failed"
	EventBackOff                    = "BackOff"
	EventFailedToRetrievePullSecret = "FailedToRetrieveImagePullSecret"
	EventErrImageNeverPull          = "ErrImageNeverPull"
)

// IsPullWaiting reports whether a container's state.waiting.reason says
// the kubelet could not pull its image.
func IsPullWaiting(reason string) bool {
	switch reason {
	case WaitingErrImagePull, WaitingImagePullBackOff, WaitingInvalidImageName, WaitingErrImageNeverPull:
		return true
	}
	return false
}

// IsPullEvent reports whether an Event reason can be about an image pull.
func IsPullEvent(reason string) bool {
	switch reason {
	case EventFailed, EventBackOff, EventFailedToRetrievePullSecret, EventErrImageNeverPull:
		return true
	}
	return false
}

// Cause is what a message says.
type Cause struct {
	// Reason is SPEC's word for the cause; empty when no row matched.
	Reason report.Reason
	// Row names the table row that matched (for tests and evidence).
	Row string
	// Status is the HTTP status the message quotes, 0 when none.
	Status int
	// Ambiguous is set when the runtime's words cannot tell two reasons
	// apart and the replay must: a bare "not found" (containerd says it
	// for a missing repository and a missing tag alike: Reason is
	// TagNotFound, RepositoryNotFound is possible) or a bare 401: with
	// containerd 1.6, basic auth answers the same without credentials and
	// with wrong ones (Reason is CredentialsRequired, InvalidCredentials
	// when the pod presented credentials for the host); with 1.7 and 2.x
	// it means credentials were refused (Reason is InvalidCredentials,
	// CredentialsRequired when the pod presented none and the replay
	// agrees: a registry that sends no challenge).
	Ambiguous bool
}

// RowNoCredentials is the row of a runtime saying it had no credentials
// to send: whatever the pod references, none reached the registry.
const RowNoCredentials = "no-credentials"

// row is one pattern of the table.
type row struct {
	name   string
	reason report.Reason
	// ambiguous marks the rows whose reason the replay may refine.
	ambiguous bool
	// match on the kubelet's waiting or event reason (exact) ...
	kubelet []string
	// ... or on the message, case-insensitive substrings ...
	contains []string
	// ... or on the HTTP status the message quotes.
	status func(code int) bool
	// need, when set, must hold as well as one of the above.
	need func(code int) bool
}

// table is every pattern, first match wins: the order matters (a 429 in a
// message that also says "pull access denied" is a rate limit; "pull access
// denied" is not the "denied" of a 403). Each row has test cases with the
// real messages it was written from (classify_test.go).
var table = []row{
	{name: "never-pull", reason: report.ReasonNeverPull,
		kubelet:  []string{WaitingErrImageNeverPull},
		contains: []string{"with pull policy of never"}},
	{name: "invalid-name", reason: report.ReasonInvalidReference,
		kubelet:  []string{WaitingInvalidImageName},
		contains: []string{"invalid reference format", "couldn't parse image name", "failed to apply default image tag"}},
	{name: "pull-secret-missing", reason: report.ReasonIncompleteCredentials,
		kubelet:  []string{EventFailedToRetrievePullSecret},
		contains: []string{"unable to retrieve some image pull secrets"}},
	{name: "rate-limited", reason: report.ReasonRateLimited,
		contains: []string{"toomanyrequests", "too many requests", "pull rate limit"},
		status:   func(c int) bool { return c == http.StatusTooManyRequests }},
	{name: "server-error", reason: report.ReasonServerError,
		status: func(c int) bool { return c >= 500 && c <= 599 }},
	{name: "tls", reason: report.ReasonTLSError,
		contains: []string{"x509:", "tls: ", "server gave http response to https client", "first record does not look like a tls handshake", "certificate signed by unknown authority"}},
	{name: "unreachable", reason: report.ReasonUnreachable,
		contains: []string{"no such host", "connection refused", "i/o timeout", "dial tcp", "connection reset by peer", "network is unreachable", "no route to host", "tls handshake timeout", "client.timeout exceeded", "context deadline exceeded", "proxyconnect tcp", ": eof"}},
	// containerd 1.7 and 2.x with no credentials for a basic-auth registry
	// (seen with 2.4.2 on the real node): the authorizer's own words, never
	// a registry's; 1.6 answered with a bare 401 (see "unauthorized").
	{name: RowNoCredentials, reason: report.ReasonCredentialsRequired,
		contains: []string{"no basic auth credentials"}},
	{name: "token-refused", reason: report.ReasonInvalidCredentials,
		contains: []string{"failed to fetch oauth token", "incorrect username or password"},
		need:     func(c int) bool { return c == 0 || c == http.StatusUnauthorized }},
	{name: "anonymous-refused", reason: report.ReasonCredentialsRequired,
		contains: []string{"failed to fetch anonymous token", "insufficient_scope", "pull access denied", "may require authorization", "may require 'docker login'", "authentication required"}},
	// containerd 1.7 and 2.x: a bare 401 after the authorizer had
	// credentials to send (without any it says "no basic auth
	// credentials"): the registry refused them. Seen with 2.4.2 on the real
	// node for a wrong password. Ambiguous: a registry answering 401 with
	// no challenge reads the same, and the replay tells.
	{name: "credentials-refused", reason: report.ReasonInvalidCredentials, ambiguous: true,
		contains: []string{"unexpected status from "},
		need:     func(c int) bool { return c == http.StatusUnauthorized }},
	{name: "unauthorized", reason: report.ReasonCredentialsRequired, ambiguous: true,
		contains: []string{"unauthorized"},
		status:   func(c int) bool { return c == http.StatusUnauthorized }},
	{name: "forbidden", reason: report.ReasonForbidden,
		contains: []string{"denied: ", "access to the resource is denied", "access denied", "forbidden"},
		status:   func(c int) bool { return c == http.StatusForbidden }},
	{name: "repository-unknown", reason: report.ReasonRepositoryNotFound,
		contains: []string{"name unknown", "name_unknown", "repository name not known"}},
	{name: "manifest-unknown", reason: report.ReasonTagNotFound,
		contains: []string{"manifest unknown", "manifest_unknown"}},
	{name: "not-found", reason: report.ReasonTagNotFound, ambiguous: true,
		contains: []string{": not found", "not found"},
		status:   func(c int) bool { return c == http.StatusNotFound }},
	// containerd answers a plain-HTTP request to a TLS port with the
	// registry's 400 (seen with containerd 1.6.20, ../shared/KUBELET.md).
	{name: "http-to-tls-port", reason: report.ReasonTLSError,
		status: func(c int) bool { return c == http.StatusBadRequest }},
}

// maxMessage bounds the text classified: a message is one line a person
// reads; more is noise (and a cost to a crafted one).
const maxMessage = 8 << 10

// quoted are the quoted parts of a message: image names and URLs, which
// hold words ("denied", "not-found") that must not match a pattern; and
// the URLs containerd 1.7 and 2.x write unquoted ("unexpected status from
// HEAD request to http://HOST/v2/REPO/manifests/TAG: 401 Unauthorized").
var quoted = regexp.MustCompile(`"[^"]*"|\bhttps?://[^\s"]*`)

// statusRE finds "NNN Status Text" as Go's net/http prints a status.
var statusRE = regexp.MustCompile(`\b([1-5][0-9][0-9]) ([A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)*)`)

// Classify names the cause of a pull failure from the kubelet's reason
// (a waiting reason or an Event reason) and its message. An unknown
// message gives an empty Reason: the replay is then all there is.
func Classify(kubeletReason, message string) Cause {
	if len(message) > maxMessage {
		message = message[:maxMessage]
	}
	text := strings.ToLower(quoted.ReplaceAllString(message, `""`))
	code := Status(message)
	for _, r := range table {
		if r.matches(kubeletReason, text, code) {
			c := Cause{Reason: r.reason, Row: r.name, Ambiguous: r.ambiguous}
			if code != 0 {
				c.Status = code
			}
			return c
		}
	}
	return Cause{Status: code}
}

func (r row) matches(kubeletReason, text string, code int) bool {
	if r.need != nil && !r.need(code) {
		return false
	}
	for _, k := range r.kubelet {
		if k == kubeletReason {
			return true
		}
	}
	for _, s := range r.contains {
		if strings.Contains(text, s) {
			return true
		}
	}
	return r.status != nil && code != 0 && r.status(code)
}

// Status is the HTTP status a message quotes ("429 Too Many Requests"),
// recognised only with Go's own status text so an image tag or a port
// is never taken for one; 0 when there is none. Quoted parts (image
// names, URLs) are not read.
func Status(message string) int {
	if len(message) > maxMessage {
		message = message[:maxMessage]
	}
	message = quoted.ReplaceAllString(message, `""`)
	for _, m := range statusRE.FindAllStringSubmatch(message, -1) {
		code, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		if text := http.StatusText(code); text != "" && strings.HasPrefix(m[2], text) {
			return code
		}
	}
	return 0
}
