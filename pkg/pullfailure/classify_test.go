package pullfailure

import (
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// The rows are real messages as the kubelet writes them in
// state.waiting.message and in Failed events: containerd 1.6.20 and 2.4.2
// observed on a real node (../shared/KUBELET.md, test/e2e's
// TestRealPullFailures); other containerd 1.7 and 2.x messages, CRI-O and
// dockershim as their sources word them and as users reported them.
// Hosts and images are this project's test ones.
var cases = []struct {
	runtime string
	kubelet string // waiting or event reason
	message string
	reason  report.Reason
	row     string
	status  int
	ambig   bool
}{
	// containerd 1.6.20, observed (KUBELET.md).
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5000/shop/api:1.0": failed to resolve reference "127.0.0.1:5000/shop/api:1.0": pulling from host 127.0.0.1:5000 failed with status code [manifests v1]: 401 Unauthorized`,
		report.ReasonCredentialsRequired, "unauthorized", 401, true},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5000/shop/api:1.0": failed to resolve reference "127.0.0.1:5000/shop/api:1.0": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
		report.ReasonCredentialsRequired, "anonymous-refused", 0, false},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5000/shop/api:1.0": failed to resolve reference "127.0.0.1:5000/shop/api:1.0": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "token-refused", 401, false},
	{"containerd 1.6", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:5000/shop/api:9.9": failed to resolve reference "127.0.0.1:5000/shop/api:9.9": 127.0.0.1:5000/shop/api:9.9: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5443/shop/api:1.0": failed to resolve reference "127.0.0.1:5443/shop/api:1.0": failed to do request: Head "https://127.0.0.1:5443/v2/shop/api/manifests/1.0": x509: certificate signed by unknown authority`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5443/shop/api:1.0": failed to resolve reference "127.0.0.1:5443/shop/api:1.0": pulling from host 127.0.0.1:5443 failed with status code [manifests v1]: 400 Bad Request`,
		report.ReasonTLSError, "http-to-tls-port", 400, false},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5999/shop/api:1.0": failed to resolve reference "127.0.0.1:5999/shop/api:1.0": failed to do request: Head "http://127.0.0.1:5999/v2/shop/api/manifests/1.0": dial tcp 127.0.0.1:5999: connect: connection refused`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"containerd 1.6", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:5000/shop/api:1.0": failed to resolve reference "127.0.0.1:5000/shop/api:1.0": pulling from host 127.0.0.1:5000 failed with status code [manifests v1]: 429 Too Many Requests`,
		report.ReasonRateLimited, "rate-limited", 429, false},
	{"containerd 1.6 (back-off)", "ImagePullBackOff",
		`Back-off pulling image "127.0.0.1:5000/shop/api:1.0": ErrImagePull: failed to pull and unpack image "127.0.0.1:5000/shop/api:1.0": failed to resolve reference "127.0.0.1:5000/shop/api:1.0": pulling from host 127.0.0.1:5000 failed with status code [manifests v1]: 429 Too Many Requests`,
		report.ReasonRateLimited, "rate-limited", 429, false},
	{"kubelet (back-off, no cause)", "ImagePullBackOff",
		`Back-off pulling image "registry.example.com/denied/not-found:forbidden"`,
		"", "", 0, false},
	// containerd 1.6.20 (Debian 1.6.20~ds1-1+deb12u3, runc 1.1.5) under the
	// real kubelet v1.37.2, observed by test/e2e's TestRealPullFailures
	// (testdata/kubelet-pull-messages.golden): the Failed event, the
	// back-off's waiting message, and the causes KUBELET.md's table shares
	// a message with (a missing repository or digest reads as a missing tag:
	// only the replay tells them apart).
	{"containerd 1.6.20 (Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:41177/private/app:v1": failed to pull and unpack image "127.0.0.1:41177/private/app:v1": failed to resolve reference "127.0.0.1:41177/private/app:v1": pulling from host 127.0.0.1:41177 failed with status code [manifests v1]: 401 Unauthorized`,
		report.ReasonCredentialsRequired, "unauthorized", 401, true},
	{"containerd 1.6.20 (back-off)", "ImagePullBackOff",
		`Back-off pulling image "127.0.0.1:41178/private/app:v1": ErrImagePull: failed to pull and unpack image "127.0.0.1:41178/private/app:v1": failed to resolve reference "127.0.0.1:41178/private/app:v1": failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "token-refused", 401, false},
	{"containerd 1.6.20 (back-off)", "ImagePullBackOff",
		`Back-off pulling image "127.0.0.1:41178/private/app:v1": ErrImagePull: failed to pull and unpack image "127.0.0.1:41178/private/app:v1": failed to resolve reference "127.0.0.1:41178/private/app:v1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
		report.ReasonCredentialsRequired, "anonymous-refused", 0, false},
	{"containerd 1.6.20, repository missing", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:41177/no/such-repo:v1": failed to resolve reference "127.0.0.1:41177/no/such-repo:v1": 127.0.0.1:41177/no/such-repo:v1: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 1.6.20, digest missing (Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:41177/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000": rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:41177/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000": failed to resolve reference "127.0.0.1:41177/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000": 127.0.0.1:41177/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 1.6.20 (Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:41179/tls/app:v1": failed to pull and unpack image "127.0.0.1:41179/tls/app:v1": failed to resolve reference "127.0.0.1:41179/tls/app:v1": failed to do request: Head "https://127.0.0.1:41179/v2/tls/app/manifests/v1": x509: certificate signed by unknown authority`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 1.6.20 (back-off)", "ImagePullBackOff",
		`Back-off pulling image "127.0.0.1:41180/tls/app:v1": ErrImagePull: failed to pull and unpack image "127.0.0.1:41180/tls/app:v1": failed to resolve reference "127.0.0.1:41180/tls/app:v1": pulling from host 127.0.0.1:41180 failed with status code [manifests v1]: 400 Bad Request`,
		report.ReasonTLSError, "http-to-tls-port", 400, false},
	{"containerd 1.6.20, HTTPS to an HTTP port", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:41183/plain/app:v1": failed to resolve reference "127.0.0.1:41183/plain/app:v1": failed to do request: Head "https://127.0.0.1:41183/v2/plain/app/manifests/v1": http: server gave HTTP response to HTTPS client`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 1.6.20 (Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:41181/any/app:v1": failed to pull and unpack image "127.0.0.1:41181/any/app:v1": failed to resolve reference "127.0.0.1:41181/any/app:v1": failed to do request: Head "http://127.0.0.1:41181/v2/any/app/manifests/v1": dial tcp 127.0.0.1:41181: connect: connection refused`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"containerd 1.6.20 (Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:41182/private/app:v1": failed to pull and unpack image "127.0.0.1:41182/private/app:v1": failed to resolve reference "127.0.0.1:41182/private/app:v1": pulling from host 127.0.0.1:41182 failed with status code [manifests v1]: 429 Too Many Requests`,
		report.ReasonRateLimited, "rate-limited", 429, false},
	// containerd 2.4.2 (built from the module proxy, test/tools/containerd2,
	// runc 1.1.5) under the real kubelet v1.37.2, observed on a real node by
	// test/e2e's TestRealPullFailures/containerd_2
	// (testdata/kubelet-pull-messages-containerd2.golden; its normalised
	// hosts given ports here). Pulls go through the transfer service, 2.x's
	// default. Unlike 1.6, "no secret" and "wrong password" on basic auth
	// differ: the authorizer says "no basic auth credentials" when it had
	// none, a bare 401 comes back only after credentials were refused.
	{"containerd 2.4.2, real node (basic auth, no secret)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42101/private/app:v1": failed to resolve image: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
		report.ReasonCredentialsRequired, RowNoCredentials, 0, false},
	{"containerd 2.4.2, real node (basic auth, no secret; Failed event)", "Failed",
		`Failed to pull image "127.0.0.1:42101/private/app:v1": failed to pull and unpack image "127.0.0.1:42101/private/app:v1": failed to resolve image: pull access denied, repository does not exist or may require authorization: authorization failed: no basic auth credentials`,
		report.ReasonCredentialsRequired, RowNoCredentials, 0, false},
	{"containerd 2.4.2, real node (basic auth, wrong password)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42101/private/app:v1": failed to resolve image: unexpected status from HEAD request to http://127.0.0.1:42101/v2/private/app/manifests/v1: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "credentials-refused", 401, true},
	{"containerd 2.4.2, real node (basic auth, wrong password; back-off)", "ImagePullBackOff",
		`Back-off pulling image "127.0.0.1:42101/private/app:v1": ErrImagePull: failed to pull and unpack image "127.0.0.1:42101/private/app:v1": failed to resolve image: unexpected status from HEAD request to http://127.0.0.1:42101/v2/private/app/manifests/v1: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "credentials-refused", 401, true},
	{"containerd 2.4.2, real node (token auth, no secret)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42102/private/app:v1": failed to resolve image: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
		report.ReasonCredentialsRequired, "anonymous-refused", 0, false},
	{"containerd 2.4.2, real node (token auth, wrong password)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42102/private/app:v1": failed to resolve image: failed to authorize: failed to fetch oauth token: unexpected status from GET request to http://127.0.0.1:42102/token?scope=repository%3Aprivate%2Fapp%3Apull&service=regcheck-e2e-registry: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "token-refused", 401, false},
	{"containerd 2.4.2, real node (repository missing)", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:42101/no/such-repo:v1": failed to resolve image: 127.0.0.1:42101/no/such-repo:v1: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 2.4.2, real node (tag missing)", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:42101/private/app:no-such-tag": failed to resolve image: 127.0.0.1:42101/private/app:no-such-tag: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 2.4.2, real node (digest missing)", "ErrImagePull",
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:42101/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000": failed to resolve image: 127.0.0.1:42101/private/app@sha256:0000000000000000000000000000000000000000000000000000000000000000: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 2.4.2, real node (unknown CA)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42103/tls/app:v1": failed to resolve image: failed to do request: Head "https://127.0.0.1:42103/v2/tls/app/manifests/v1": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 2.4.2, real node (HTTP spoken to a TLS port)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42104/tls/app:v1": failed to resolve image: unexpected status from HEAD request to http://127.0.0.1:42104/v2/tls/app/manifests/v1: 400 Bad Request`,
		report.ReasonTLSError, "http-to-tls-port", 400, false},
	{"containerd 2.4.2, real node (HTTPS spoken to an HTTP port)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42105/plain/app:v1": failed to resolve image: failed to do request: Head "https://127.0.0.1:42105/v2/plain/app/manifests/v1": http: server gave HTTP response to HTTPS client`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 2.4.2, real node (connection refused)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42106/any/app:v1": failed to resolve image: failed to do request: Head "http://127.0.0.1:42106/v2/any/app/manifests/v1": dial tcp 127.0.0.1:42106: connect: connection refused`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"containerd 2.4.2, real node (429 Too Many Requests)", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42107/private/app:v1": failed to resolve image: unexpected status from HEAD request to http://127.0.0.1:42107/v2/private/app/manifests/v1: 429 Too Many Requests`,
		report.ReasonRateLimited, "rate-limited", 429, false},
	// The URL 1.7 and 2.x write unquoted is not read: its repository and
	// tag words ("unauthorized" here) must not match a row.
	{"containerd 2.x wording, words in the URL", "ErrImagePull",
		`failed to pull and unpack image "127.0.0.1:42101/team/unauthorized:v1": failed to resolve image: unexpected status from HEAD request to http://127.0.0.1:42101/v2/team/unauthorized/manifests/v1: 400 Bad Request`,
		report.ReasonTLSError, "http-to-tls-port", 400, false},
	// containerd 1.7 and 2.x.
	{"containerd 1.7", "ErrImagePull",
		`failed to pull and unpack image "docker.io/library/nginx:latest": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/library/nginx/manifests/sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
		report.ReasonRateLimited, "rate-limited", 429, false},
	{"containerd 1.7", "ErrImagePull",
		`failed to pull and unpack image "docker.io/acme/api:1.0": failed to resolve reference "docker.io/acme/api:1.0": failed to authorize: failed to fetch oauth token: unexpected status from POST request to https://auth.docker.io/token: 401 Unauthorized`,
		report.ReasonInvalidCredentials, "token-refused", 401, false},
	{"containerd 1.7", "ErrImagePull",
		`failed to pull and unpack image "ghcr.io/acme/api:1.0": failed to resolve reference "ghcr.io/acme/api:1.0": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme%2Fapi%3Apull&service=ghcr.io: 401 Unauthorized`,
		report.ReasonCredentialsRequired, "anonymous-refused", 401, false},
	{"containerd 1.7", "ErrImagePull",
		`failed to pull and unpack image "registry.example.com/team/app:2.0": failed to resolve reference "registry.example.com/team/app:2.0": unexpected status from HEAD request to https://registry.example.com/v2/team/app/manifests/2.0: 503 Service Unavailable`,
		report.ReasonServerError, "server-error", 503, false},
	{"containerd 2.x", "ErrImagePull",
		`failed to pull and unpack image "gcr.io/acme/proxy:2.14.1": failed to resolve image: unexpected status from HEAD request to https://gcr.io/v2/acme/proxy/manifests/2.14.1: 403 Forbidden`,
		report.ReasonForbidden, "forbidden", 403, false},
	{"containerd 2.x", "ErrImagePull",
		`failed to pull and unpack image "registry.example.com/team/app:1.0": failed to resolve image: failed to do request: Head "https://registry.example.com/v2/team/app/manifests/1.0": tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-11-29T10:00:00Z is after 2026-11-01T00:00:00Z`,
		report.ReasonTLSError, "tls", 0, false},
	{"containerd 2.x", "ErrImagePull",
		`failed to pull and unpack image "registry.internal/team/app:1.0": failed to resolve image: failed to do request: Head "https://registry.internal/v2/team/app/manifests/1.0": dial tcp: lookup registry.internal on 10.96.0.10:53: no such host`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"containerd 2.x", "ErrImagePull",
		`failed to pull and unpack image "registry.example.com/team/app:1.0": failed to resolve image: failed to do request: Head "https://registry.example.com/v2/team/app/manifests/1.0": dial tcp 203.0.113.7:443: i/o timeout`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"containerd 2.x", "ErrImagePull",
		`failed to pull and unpack image "docker.io/library/nginx:1.99": failed to resolve image: docker.io/library/nginx:1.99: not found`,
		report.ReasonTagNotFound, "not-found", 0, true},
	{"containerd 1.7", "ErrImagePull",
		`failed to pull and unpack image "registry.example.com/team/app:1.0": failed to resolve reference "registry.example.com/team/app:1.0": failed to do request: Head "https://registry.example.com/v2/team/app/manifests/1.0": http: server gave HTTP response to HTTPS client`,
		report.ReasonTLSError, "tls", 0, false},
	// CRI-O (containers/image wording).
	{"CRI-O", "ErrImagePull",
		`initializing source docker://quay.io/acme/api:1.0: reading manifest 1.0 in quay.io/acme/api: manifest unknown`,
		report.ReasonTagNotFound, "manifest-unknown", 0, false},
	{"CRI-O", "ErrImagePull",
		`rpc error: code = Unknown desc = Error reading manifest latest in registry.example.com/team/app: manifest unknown: manifest unknown`,
		report.ReasonTagNotFound, "manifest-unknown", 0, false},
	{"CRI-O", "ErrImagePull",
		`initializing source docker://registry.example.com/team/gone:1.0: reading manifest 1.0 in registry.example.com/team/gone: name unknown: repository name not known to registry`,
		report.ReasonRepositoryNotFound, "repository-unknown", 0, false},
	{"CRI-O", "ErrImagePull",
		`initializing source docker://quay.io/acme/private:1.0: reading manifest 1.0 in quay.io/acme/private: unauthorized: access to the requested resource is not authorized`,
		report.ReasonCredentialsRequired, "unauthorized", 0, true},
	{"CRI-O", "ErrImagePull",
		`initializing source docker://docker.io/acme/private:latest: reading manifest latest in docker.io/acme/private: requested access to the resource is denied`,
		report.ReasonForbidden, "forbidden", 0, false},
	{"CRI-O", "ErrImagePull",
		`pinging container registry registry.internal: Get "https://registry.internal/v2/": dial tcp: lookup registry.internal: no such host`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"CRI-O", "ErrImagePull",
		`pinging container registry registry.example.com: Get "https://registry.example.com/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
		report.ReasonTLSError, "tls", 0, false},
	{"CRI-O", "ErrImagePull",
		`initializing source docker://docker.io/library/nginx:latest: reading manifest latest in docker.io/library/nginx: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
		report.ReasonRateLimited, "rate-limited", 0, false},
	{"CRI-O", "ErrImagePull",
		`reading manifest 1.0 in registry.example.com/team/app: received unexpected HTTP status: 502 Bad Gateway`,
		report.ReasonServerError, "server-error", 502, false},
	// dockershim (Docker Engine), still seen in long-lived clusters.
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: pull access denied for acme/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`,
		report.ReasonCredentialsRequired, "anonymous-refused", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: manifest for acme/api:9.9 not found: manifest unknown: manifest unknown`,
		report.ReasonTagNotFound, "manifest-unknown", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: Get https://registry.example.com/v2/: x509: certificate signed by unknown authority`,
		report.ReasonTLSError, "tls", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: Get https://registry.example.com/v2/team/app/manifests/1.0: unauthorized: incorrect username or password`,
		report.ReasonInvalidCredentials, "token-refused", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: Get https://registry.example.com/v2/team/app/manifests/1.0: no basic auth credentials`,
		report.ReasonCredentialsRequired, RowNoCredentials, 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
		report.ReasonRateLimited, "rate-limited", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: Get "https://registry.example.com/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`,
		report.ReasonUnreachable, "unreachable", 0, false},
	{"dockershim", "ErrImagePull",
		`rpc error: code = Unknown desc = Error response from daemon: received unexpected HTTP status: 500 Internal Server Error`,
		report.ReasonServerError, "server-error", 500, false},
	// The kubelet's own (pkg/kubelet/images).
	{"kubelet", "InvalidImageName",
		`Failed to apply default image tag "Shop/API:1.0": couldn't parse image name "Shop/API:1.0": invalid reference format: repository name (library/Shop/API) must be lowercase`,
		report.ReasonInvalidReference, "invalid-name", 0, false},
	{"kubelet", "ErrImageNeverPull",
		`Container image "127.0.0.1:5000/shop/local:dev" is not present with pull policy of Never`,
		report.ReasonNeverPull, "never-pull", 0, false},
	{"kubelet event", "ErrImageNeverPull",
		`Container image "127.0.0.1:5000/shop/local:dev" is not present with pull policy of Never`,
		report.ReasonNeverPull, "never-pull", 0, false},
	{"kubelet event", "FailedToRetrieveImagePullSecret",
		`Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.`,
		report.ReasonIncompleteCredentials, "pull-secret-missing", 0, false},
}

func TestClassify(t *testing.T) {
	for _, c := range cases {
		got := Classify(c.kubelet, c.message)
		if got.Reason != c.reason || got.Row != c.row || got.Status != c.status || got.Ambiguous != c.ambig {
			t.Errorf("%s: Classify(%s, %q)\n = %+v\nwant reason %q row %q status %d ambiguous %v",
				c.runtime, c.kubelet, c.message, got, c.reason, c.row, c.status, c.ambig)
		}
	}
}

// Every row of the table has at least one real message.
func TestEveryRowTested(t *testing.T) {
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.row] = true
	}
	for _, r := range table {
		if !tested[r.name] {
			t.Errorf("row %q has no test case", r.name)
		}
	}
}

func TestStatus(t *testing.T) {
	for msg, want := range map[string]int{
		`: 429 Too Many Requests`:                                  429,
		`unexpected status: 401 Unauthorized`:                      401,
		`pulling image "nginx:404 Not Found"`:                      0, // quoted: an image
		`dial tcp 10.0.0.1:443 Connect refused`:                    0, // a port, not a status
		`received unexpected HTTP status: 503 Service Unavailable`: 503,
		`status: 503 Service`:                                      0, // cut short: not Go's text
		`version 200 Fine`:                                         0, // not Go's status text
		``:                                                         0,
	} {
		if got := Status(msg); got != want {
			t.Errorf("Status(%q) = %d, want %d", msg, got, want)
		}
	}
}

func TestIsPull(t *testing.T) {
	for _, r := range []string{"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"} {
		if !IsPullWaiting(r) {
			t.Errorf("IsPullWaiting(%s) = false", r)
		}
	}
	for _, r := range []string{"ContainerCreating", "CrashLoopBackOff", "CreateContainerConfigError", ""} {
		if IsPullWaiting(r) {
			t.Errorf("IsPullWaiting(%s) = true", r)
		}
	}
	if !IsPullEvent("FailedToRetrieveImagePullSecret") || IsPullEvent("Pulled") || IsPullEvent("Pulling") {
		t.Error("IsPullEvent")
	}
}
