package remedy

import (
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// TestEveryCauseHasAMessage: every Cause is worded by Message, so a cause
// the registry client adds cannot reach a result with no message.
func TestEveryCauseHasAMessage(t *testing.T) {
	for _, c := range declaredCauses(t) {
		f := report.Fault{Cause: c, Registry: "registry.example.com", Repository: "team/app", Host: "registry.example.com", Input: "x", What: "manifest"}
		if Message(f) == "" {
			t.Errorf("cause %s has no message", c)
		}
	}
}

// TestMessageFromFacts: the message is worded from the typed facts alone.
func TestMessageFromFacts(t *testing.T) {
	reg := "registry.example.com"
	seen := report.Seen{Reference: reg + "/team/app:1.0", Identifier: "1.0", Credential: "secret/shop/regcred", Status: 401,
		RegistryMessage: "UNAUTHORIZED: authentication required"}
	for _, tc := range []struct {
		f    report.Fault
		want string
	}{
		{report.Fault{Cause: report.CauseUnauthorized, Registry: reg, Repository: "team/app", Seen: seen},
			reg + " refused the credentials from secret/shop/regcred for " + reg + "/team/app:1.0 (401) (UNAUTHORIZED: authentication required)"},
		{report.Fault{Cause: report.CauseNoAnswer, Host: reg, Seen: report.Seen{Silence: report.SilenceTimeout, Timeout: 15 * time.Second}},
			"no answer from " + reg + " within 15s"},
		{report.Fault{Cause: report.CauseRateLimited, Host: reg, Seen: report.Seen{RetryAfter: "30", Held: true}},
			reg + " is rate limiting (429); retry after 30s (it answered 429 with Retry-After earlier: regcheck does not ask it again before then)"},
		{report.Fault{Cause: report.CauseServerError, Registry: reg, Seen: report.Seen{Step: report.StepTags, Status: 503, Method: "GET", Path: "/v2/team/app/tags/list"}},
			"listing the tags: " + reg + " failed with HTTP 503 on GET /v2/team/app/tags/list"},
		{report.Fault{Cause: report.CausePushDenied, Registry: reg, Repository: "team/app", Seen: report.Seen{Step: report.StepUpload, Credential: "anonymous", GrantKnown: true}},
			"the token issued to anonymous grants no actions on team/app, not push"},
		{report.Fault{Cause: report.CauseTokenService, Seen: report.Seen{Step: report.StepToken, Status: 200, URL: "https://auth.example/token", BodyProblem: report.BodyCut}},
			"the token endpoint https://auth.example/token failed (HTTP 200, body cut off (unexpected EOF))"},
		{report.Fault{Cause: report.CauseBrokenManifest, Registry: reg, Seen: report.Seen{Reference: reg + "/team/app:1.0", BodyProblem: report.BodyDeadline}},
			reg + " answered the manifest of " + reg + "/team/app:1.0 with body cut off by the deadline (the server sent it too slowly)"},
		{report.Fault{Cause: report.CauseTagsUnreadable, Registry: reg, Repository: "team/app", Seen: report.Seen{Step: report.StepTags, BodyProblem: report.BodyTooLarge}},
			reg + "'s tags list for team/app could not be read: body larger than the limit (truncated)"},
	} {
		if got := Message(tc.f); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.f.Cause, got, tc.want)
		}
	}
}

// TestUploadNote: how a push check's upload session ended, from its facts.
func TestUploadNote(t *testing.T) {
	for _, tc := range []struct {
		c    report.UploadCancel
		want string
	}{
		{report.UploadCancel{}, ""},
		{report.UploadCancel{Tried: true, NoLocation: true}, "no Location in the answer; nothing to cancel, the session was left to expire"},
		{report.UploadCancel{Tried: true, NoAnswer: true}, "DELETE got no answer; the upload session was left to expire"},
		{report.UploadCancel{Tried: true, Status: 204, Cancelled: true}, "cancelled (DELETE answered 204)"},
		{report.UploadCancel{Tried: true, Status: 405}, "DELETE answered 405; the upload session was left to expire"},
	} {
		if got := UploadNote(tc.c); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.c, got, tc.want)
		}
	}
}
