package remedy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// Message is the one line that says what a failed registry exchange met,
// worded from the fault's cause and the facts the registry client saw
// (report.Seen). pkg/registry words nothing: it observes, this words.
func Message(f report.Fault) string {
	if f.Step == report.StepTags && f.Cause != report.CauseTagsUnreadable && f.Cause != report.CauseUnparsable {
		// A tags list answers as a manifest request does.
		f.Step = report.StepManifest
		return "listing the tags: " + Message(f)
	}
	reg, repo, host, cred := f.Registry, f.Repository, f.Host, f.Credential
	regMsg := ""
	if f.RegistryMessage != "" {
		regMsg = " (" + f.RegistryMessage + ")"
	}
	status := strconv.Itoa(f.Status)
	switch f.Cause {
	// No answer.
	case report.CauseRedirectLoop:
		return host + " redirects in a loop"
	case report.CauseNoAnswer:
		switch f.Silence {
		case report.SilenceDNS:
			return "cannot resolve " + f.DNSName
		case report.SilenceTimeout:
			return "no answer from " + host + " within " + f.Timeout.String()
		case report.SilenceCancelled:
			return "the check was cancelled before " + host + " answered"
		case report.SilenceNetwork:
			return "no HTTP answer from " + host
		}
		return "the registry exchange failed"
	case report.CauseTimeout:
		// The run ended before the request was made or answered: the
		// words are those of the context's error, as they always were.
		if f.Silence == report.SilenceCancelled {
			return "the registry did not answer in time: context canceled"
		}
		return "the registry did not answer in time: context deadline exceeded"
	case report.CauseConnectionRefused:
		return host + " refused the connection"
	case report.CauseConnectionReset:
		return host + " closed the connection before answering"
	case report.CauseBadRequestURL:
		return "cannot build a request for " + f.URL

	// TLS.
	case report.CauseCAFileUnreadable:
		return "cannot read the CA file " + f.Input
	case report.CauseCAFileNoPEM:
		return "the CA file " + f.Input + " holds no PEM certificate"
	case report.CauseUnknownAuthority:
		return host + " presents a certificate signed by an unknown authority"
	case report.CauseCertificateExpired:
		return host + " presents an expired or not yet valid certificate"
	case report.CauseCertificateInvalid:
		return host + " presents an invalid certificate"
	case report.CauseCertificateHost:
		return host + " presents a certificate for another host"
	case report.CauseTLSToPlainHTTP:
		return host + " answered TLS with plain HTTP"
	case report.CausePlainHTTPToTLS:
		return host + " expects HTTPS but was spoken plain HTTP"
	case report.CauseTLSHandshake:
		return "TLS handshake with " + host + " failed"

	// Not the registry API.
	case report.CauseHTMLPage:
		switch f.Step {
		case report.StepPing:
			msg := host + "/v2/ answered an HTML page, not the registry API"
			if f.PageTitle != "" {
				msg += " (" + strconv.Quote(f.PageTitle) + ")"
			}
			return msg
		case report.StepUpload:
			return reg + " answered the upload with an HTML page, not the registry API"
		}
		page := "an HTML page"
		if f.PageTitle != "" {
			page += " " + strconv.Quote(f.PageTitle)
		}
		return reg + " answered the manifest request with " + page + ", not the registry API"
	case report.CauseHTMLManifestType:
		return reg + " served the manifest of " + f.Reference + " labelled Content-Type " + f.ContentType
	case report.CauseNoV2API:
		return host + " has no /v2/ registry API (404)"
	case report.CauseNotRegistryAnswer:
		if f.BodyLimit > 0 {
			return fmt.Sprintf("%s/v2/ answered HTTP %d with a body past %d MiB (read no further), not the registry API", host, f.Status, f.BodyLimit>>20)
		}
		return host + "/v2/ answered a non-JSON body (" + f.ContentType + "), not the registry API"
	case report.CauseUnexpectedV2Status:
		return host + "/v2/ answered HTTP " + status + ", not the registry API"

	// Credentials and access.
	case report.CauseUnauthorized:
		return unauthorized(f, regMsg)
	case report.CauseTokenExpiredECR:
		return reg + " says the ECR authorization token from " + cred + " has expired (403; ECR logins last 12 hours)"
	case report.CauseDenied:
		return reg + " denies pulling " + f.Reference + " to " + cred + regMsg
	case report.CauseTokenForbidden:
		return "the token endpoint accepted " + cred + " but forbids " + strings.Join(f.Scopes, " ") + " (403)"
	case report.CauseV2Forbidden:
		return host + " accepted " + cred + " but forbids access (403 on GET /v2/)"
	case report.CausePullNotGranted:
		return "the token issued to " + cred + " does not grant pull on " + repo + "; the repository may not exist or the account has no access"
	case report.CausePushDenied:
		if f.GrantKnown {
			return "the token issued to " + cred + " grants " + actionList(f.Granted) + " on " + repo + ", not push"
		}
		return reg + " denies pushing to " + repo + " for " + cred + " (" + status + ")" + regMsg
	case report.CauseReadOnly:
		return reg + " does not accept uploads to " + repo + " (" + status + "): a read-only registry or pull-through cache" + regMsg
	case report.CauseCatalogRefused:
		return reg + " does not list its repositories to " + cred + " (GET /v2/_catalog → " + status + ")"
	case report.CauseChallengeNoRealm:
		return host + " sent a Bearer challenge without a usable realm"
	case report.CauseInsecureRealm:
		return "the token realm " + f.URL + " is plain HTTP on another host; credentials were not sent"
	case report.CauseTokenService:
		return "the token endpoint " + f.URL + " failed (" + tokenAnswer(f) + ")"
	case report.CauseChallengeDropped:
		return host + " refused a batched token and no longer sends a Bearer challenge"
	case report.CauseRateLimited:
		return rateLimited(f)

	// Names.
	case report.CauseNameUnknown:
		if f.TagsListStatus != 0 {
			return "repository " + repo + " does not exist on " + reg + " (its tags list answers " + strconv.Itoa(f.TagsListStatus) + ")"
		}
		return "repository " + repo + " does not exist on " + reg + regMsg
	case report.CauseManifestUnknown:
		return reg + " has no " + f.Identifier + " in repository " + repo + regMsg
	case report.CauseNotFound:
		return reg + " has no manifest " + f.Identifier + " in " + repo + " (404 without an error code; the repository may not exist either)"
	case report.CauseNameInvalid:
		return reg + " rejects the repository name " + repo + regMsg
	case report.CausePushNameUnknown:
		return reg + " has no repository " + repo + " and does not create it on push" + regMsg
	case report.CauseBareDigest:
		return "a bare digest names no repository: " + f.Input
	case report.CauseInvalidReference:
		if f.Input == "" {
			return f.ErrText
		}
		return "not a valid image reference: " + f.Input + " (" + f.Why + ")"

	// Broken answers.
	case report.CauseServerError:
		if f.Step == report.StepPing {
			return host + "/v2/ failed with HTTP " + status
		}
		return reg + " failed with HTTP " + status + " on " + f.Method + " " + f.Path
	case report.CauseBrokenManifest:
		what := f.BodyProblem.Phrase()
		if what == "" {
			what = "a non-JSON body"
		}
		return reg + " answered the manifest of " + f.Reference + " with " + what
	case report.CauseUnparsable:
		if f.Step == report.StepTags {
			return reg + " served a tags list for " + repo + " that does not parse"
		}
		return reg + " served a " + f.What + " for " + f.Reference + " that does not parse"
	case report.CauseTagsUnreadable:
		return reg + "'s tags list for " + repo + " could not be read: " + f.BodyProblem.Phrase()
	case report.CauseUnexpectedAnswer:
		if f.Step == report.StepUpload {
			return reg + " answered the upload to " + repo + " with HTTP " + status + regMsg
		}
		return reg + " answered the manifest request for " + f.Reference + " with HTTP " + status + regMsg
	}
	return f.ErrText
}

// unauthorized words credentials missing or refused, by the step that met it.
func unauthorized(f report.Fault, regMsg string) string {
	reg, repo, cred, status := f.Registry, f.Repository, f.Credential, strconv.Itoa(f.Status)
	switch f.Step {
	case report.StepLogin:
		what := "the credentials"
		if f.Bearer {
			what = "the token issued for the credentials"
		}
		return f.Host + " refused " + what + " from " + cred + " (401 on GET /v2/)"
	case report.StepToken:
		switch {
		case f.Anonymous && f.Push:
			return "no credentials for " + reg + ": the token endpoint refused or broke the anonymous push-scoped request (" + tokenAnswer(f) + ")"
		case f.Anonymous:
			return reg + " refuses anonymous access to " + repo + " (" + tokenAnswer(f) + "); the repository may be private or not exist"
		}
		return "the token endpoint refused the credentials from " + cred + " (" + tokenAnswer(f) + ")"
	case report.StepUpload:
		if f.Anonymous {
			return "no credentials for " + reg + ": it refused an anonymous push to " + repo + " (" + status + ")" + regMsg
		}
		return reg + " refused the credentials from " + cred + " for a push to " + repo + " (401)" + regMsg
	}
	if f.Anonymous {
		return reg + " requires credentials to pull " + f.Reference + " and none apply; the repository may be private or not exist"
	}
	return reg + " refused the credentials from " + cred + " for " + f.Reference + " (401)" + regMsg
}

// tokenAnswer is what the token endpoint answered: its status and, when
// its body was no token, why.
func tokenAnswer(f report.Fault) string {
	what := "HTTP " + strconv.Itoa(f.Status)
	switch {
	case f.BodyProblem != "":
		what += ", " + f.BodyProblem.Phrase()
	case f.HTML:
		what += ", an HTML page"
	case f.ParseError != "":
		what += ", " + f.ParseError
	}
	return what
}

// rateLimited words a 429 or TOOMANYREQUESTS, naming the registry (the
// host, before a repository is in play) and when to retry.
func rateLimited(f report.Fault) string {
	name := f.Registry
	if name == "" {
		name = f.Host
	}
	msg := name + " is rate limiting (429)"
	if ra := f.RetryAfter; ra != "" {
		msg += "; retry after " + ra
		if _, err := strconv.Atoi(ra); err == nil {
			msg += "s"
		}
	}
	if f.Held {
		msg += " (it answered 429 with Retry-After earlier: regcheck does not ask it again before then)"
	}
	return msg
}

// actionList names a token's granted actions.
func actionList(a []string) string {
	if len(a) == 0 {
		return "no actions"
	}
	return strings.Join(a, ",")
}

// UploadNote says how a push check's upload session ended ("" when its
// cancellation was not tried).
func UploadNote(c report.UploadCancel) string {
	switch {
	case !c.Tried:
		return ""
	case c.NoLocation:
		return "no Location in the answer; nothing to cancel, the session was left to expire"
	case c.NoAnswer:
		return "DELETE got no answer; the upload session was left to expire"
	case c.Cancelled:
		return "cancelled (DELETE answered " + strconv.Itoa(c.Status) + ")"
	}
	return "DELETE answered " + strconv.Itoa(c.Status) + "; the upload session was left to expire"
}

// Unchallenged notes credentials that GET /v2/ did not ask for.
const Unchallenged = "the registry asked for no credentials at /v2/; they are sent only if a later request is challenged"

// Line is a registry failure said in one line where an error is printed
// for a person (regcheck's own error, an evidence value): its reason and
// what it met, as in "TLSError: cannot read the CA file ca.pem". A
// failure's Go error names its typed facts instead and gives no words.
func Line(reason report.Reason, f report.Fault) string {
	return string(reason) + ": " + Message(f)
}
