package report

import "time"

// Cause is what a failed registry exchange met, one step finer than its
// Reason: the observation a fix is chosen by. pkg/registry sets it and
// never words a fix; pkg/remedy words the fix from it for whoever acts.
type Cause string

// Causes of registry failures. They name observations (a status, an OCI
// error code, a TLS error, a broken answer), not fixes.
const (
	// No answer.
	CauseNoAnswer          Cause = "NoAnswer"          // DNS, timeout, network error
	CauseTimeout           Cause = "Timeout"           // the run's deadline passed
	CauseRedirectLoop      Cause = "RedirectLoop"      // /v2/ redirects endlessly
	CauseConnectionRefused Cause = "ConnectionRefused" // nothing listens on the port
	CauseConnectionReset   Cause = "ConnectionReset"   // closed before answering
	CauseBadRequestURL     Cause = "BadRequestURL"     // no request can be built

	// TLS.
	CauseCAFileUnreadable   Cause = "CAFileUnreadable"
	CauseCAFileNoPEM        Cause = "CAFileNoPEM"
	CauseUnknownAuthority   Cause = "UnknownAuthority"
	CauseCertificateExpired Cause = "CertificateExpired"
	CauseCertificateInvalid Cause = "CertificateInvalid"
	CauseCertificateHost    Cause = "CertificateHost" // the certificate covers other names
	CauseTLSToPlainHTTP     Cause = "TLSToPlainHTTP"  // HTTPS spoken to an HTTP port
	CausePlainHTTPToTLS     Cause = "PlainHTTPToTLS"  // HTTP spoken to an HTTPS port
	CauseTLSHandshake       Cause = "TLSHandshake"    // any other handshake failure

	// Not the registry API.
	CauseHTMLPage           Cause = "HTMLPage"           // a web page where the API was expected
	CauseHTMLManifestType   Cause = "HTMLManifestType"   // a manifest labelled text/html
	CauseNoV2API            Cause = "NoV2API"            // /v2/ answers 404
	CauseNotRegistryAnswer  Cause = "NotRegistryAnswer"  // /v2/ answers what no registry does
	CauseUnexpectedV2Status Cause = "UnexpectedV2Status" // /v2/ answers an unexpected status

	// Credentials and access.
	CauseUnauthorized     Cause = "Unauthorized"     // 401, or a token refused: credentials missing or refused
	CauseTokenExpiredECR  Cause = "TokenExpiredECR"  // ECR's 12-hour login ran out
	CauseDenied           Cause = "Denied"           // 403 or DENIED on a pull
	CauseTokenForbidden   Cause = "TokenForbidden"   // the token endpoint forbids the scopes
	CauseV2Forbidden      Cause = "V2Forbidden"      // 403 on GET /v2/ with credentials
	CausePullNotGranted   Cause = "PullNotGranted"   // the token grants no pull
	CausePushDenied       Cause = "PushDenied"       // 401/403/DENIED on an upload, or no push granted
	CauseReadOnly         Cause = "ReadOnly"         // 405 or UNSUPPORTED on an upload
	CauseCatalogRefused   Cause = "CatalogRefused"   // GET /v2/_catalog refused
	CauseChallengeNoRealm Cause = "ChallengeNoRealm" // a Bearer challenge without a usable realm
	CauseInsecureRealm    Cause = "InsecureRealm"    // a plain-HTTP realm on another host
	CauseTokenService     Cause = "TokenService"     // the token endpoint failed
	CauseChallengeDropped Cause = "ChallengeDropped" // a batched token refused, no challenge left
	CauseRateLimited      Cause = "RateLimited"      // 429 or TOOMANYREQUESTS

	// Names.
	CauseNameUnknown      Cause = "NameUnknown"      // NAME_UNKNOWN, or the tags list's 404
	CauseManifestUnknown  Cause = "ManifestUnknown"  // MANIFEST_UNKNOWN
	CauseNotFound         Cause = "NotFound"         // 404 without an error code
	CauseNameInvalid      Cause = "NameInvalid"      // NAME_INVALID
	CausePushNameUnknown  Cause = "PushNameUnknown"  // no repository to push to
	CauseBareDigest       Cause = "BareDigest"       // a digest without a repository
	CauseInvalidReference Cause = "InvalidReference" // any other reference imageref refuses

	// Broken answers.
	CauseServerError      Cause = "ServerError"      // 5xx
	CauseBrokenManifest   Cause = "BrokenManifest"   // a manifest body that is not JSON or was cut
	CauseUnparsable       Cause = "Unparsable"       // a manifest, index or tags list that does not parse (Fault.What)
	CauseTagsUnreadable   Cause = "TagsUnreadable"   // a tags list body that could not be read
	CauseUnexpectedAnswer Cause = "UnexpectedAnswer" // a status no rule names
)

// Fault is the typed observation behind a failed registry exchange: what
// was met and the names a fix needs. Code decides by it; the wording of
// the fix is pkg/remedy's.
type Fault struct {
	Cause Cause
	// Registry and Repository are the reference's (Docker Hub is
	// "docker.io"); CredentialKey is the key its credentials are filed
	// under.
	Registry, Repository, CredentialKey string
	// Host is the host that failed: the registry's API host, or a token
	// realm's for an exchange with the token service.
	Host string
	// PlainHTTP: the client spoke http:// (--plain-http).
	PlainHTTP bool
	// Input is the reference as written (InvalidReference, BareDigest)
	// or the CA file (CAFile*).
	Input string
	// What names the broken document of CauseUnparsable ("manifest",
	// "index", "tags list").
	What string

	// The facts the message is worded from (remedy.Message), as the
	// registry client observed them. Never a secret: the credential is
	// named by its origin string, and the client scrubs the registry's
	// own words of the session's secrets.
	Seen
}

// Step is the registry exchange a fault was met in.
type Step string

// Steps of a registry exchange.
const (
	StepPing     Step = "ping"     // GET /v2/ without credentials
	StepLogin    Step = "login"    // GET /v2/ with the credentials or token
	StepToken    Step = "token"    // the token endpoint
	StepManifest Step = "manifest" // a manifest GET or HEAD
	StepTags     Step = "tags"     // a tags list
	StepCatalog  Step = "catalog"  // GET /v2/_catalog
	StepUpload   Step = "upload"   // starting a blob upload
)

// Silence is why no HTTP answer came.
type Silence string

// Silences: why a request got no answer.
const (
	SilenceDNS       Silence = "dns"
	SilenceTimeout   Silence = "timeout"
	SilenceCancelled Silence = "cancelled"
	SilenceNetwork   Silence = "network error"
)

// BodyProblem is why an answer's body could not be read whole.
type BodyProblem string

// Body problems.
const (
	BodyTooLarge BodyProblem = "TooLarge" // past the client's limit: the rest was not read
	BodyDeadline BodyProblem = "Deadline" // the request's deadline cut it: the server sent it too slowly
	BodyCut      BodyProblem = "Cut"      // the server ended it early (unexpected EOF)
)

// Phrase says what happened to the body, for a person ("" when nothing
// did): one wording for the registry's evidence and remedy's messages,
// which may not import each other.
func (p BodyProblem) Phrase() string {
	switch p {
	case "":
		return ""
	case BodyTooLarge:
		return "body larger than the limit (truncated)"
	case BodyDeadline:
		return "body cut off by the deadline (the server sent it too slowly)"
	}
	return "body cut off (unexpected EOF)"
}

// Seen are the typed facts of a failed exchange: what was asked, as
// whom, and what came back.
type Seen struct {
	Step Step
	// Reference is the image as the client names it; Identifier the tag
	// or digest asked for.
	Reference, Identifier string
	// Credential is the credential by its origin string ("anonymous",
	// "secret/ns/name", "~/.docker/config.json"); Anonymous when none
	// applied; Bearer when it was exchanged for a token; Push when the
	// session asked to push.
	Credential string
	Anonymous  bool
	Bearer     bool
	Push       bool
	// Status, Method and Path are the failed request's answer and line.
	Status       int
	Method, Path string
	// URL is a redacted URL: the token realm, or a request that could not
	// be built.
	URL string
	// RegistryMessage is the registry's own first error code and message.
	RegistryMessage string
	// ContentType is the answer's Content-Type as sent; HTML marks a web
	// page where the API was expected; PageTitle is its title.
	ContentType string
	HTML        bool
	PageTitle   string
	// BodyProblem says why the answer's body could not be read whole
	// (cut, past its limit); BodyLimit is the limit in bytes; ParseError
	// why a token answer did not parse (the JSON decoder's own words).
	BodyProblem BodyProblem
	BodyLimit   int64
	ParseError  string
	// Silence is why no answer came; DNSName the name that did not
	// resolve; Timeout the per-request timeout.
	Silence Silence
	DNSName string
	Timeout time.Duration
	// Scopes are the token scopes asked; Granted the actions the token
	// grants on the repository, when GrantKnown.
	Scopes     []string
	Granted    []string
	GrantKnown bool
	// RetryAfter is a 429's Retry-After; Held when the client answered the
	// 429 itself because the registry asked it to wait.
	RetryAfter string
	Held       bool
	// TagsListStatus is the tags list's status when it told a missing
	// repository from a missing tag.
	TagsListStatus int
	// Why is why imageref refused a reference.
	Why string
	// ErrText is an error's own text when nothing finer is known: only
	// pkg/registry sets it, for an invalid reference whose error is not
	// imageref's; every other failure is named by its typed facts.
	ErrText string
}

// UploadCancel is how a push check's upload session ended: regcheck
// opens one and deletes it, and says so in the result.
type UploadCancel struct {
	// Tried: the session's cancellation was attempted.
	Tried bool
	// NoLocation: the answer named no session, so nothing was cancelled.
	NoLocation bool
	// NoAnswer: the DELETE got no answer.
	NoAnswer bool
	// Status is the DELETE's status; Cancelled when it was 2xx.
	Status    int
	Cancelled bool
}
