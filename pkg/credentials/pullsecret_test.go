package credentials

import (
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

func TestParsePullSecretAsTheKubelet(t *testing.T) {
	good := b64("u:p")
	tests := []struct {
		name     string
		data     string
		legacy   bool
		rejected bool
		entries  int
		says     string // in the one problem when rejected
	}{
		{name: "good", data: `{"auths":{"r.io":{"auth":"` + good + `"},"s.io":{"username":"u","password":"p"}}}`, entries: 2},
		{name: "a stray space before auth", data: `{"auths":{"r.io":{"auth":" ` + good + `"},"s.io":{"username":"u","password":"p"}}}`, rejected: true, says: `entry "r.io"`},
		{name: "a stray space after padded auth", data: `{"auths":{"r.io":{"auth":"` + good + ` "}}}`, rejected: true, says: "not valid base64 as written"},
		{name: "a line break is skipped by Go's base64, as in the kubelet", data: `{"auths":{"r.io":{"auth":"` + good[:4] + `\n` + good[4:] + `"}}}`, entries: 1},
		{name: "email of the wrong JSON type", data: `{"auths":{"r.io":{"auth":"` + good + `","email":5}}}`, rejected: true, says: `field "email"`},
		{name: "username of the wrong JSON type", data: `{"auths":{"r.io":{"username":true,"password":"p"}}}`, rejected: true},
		{name: "auth without a colon", data: `{"auths":{"r.io":{"auth":"` + b64("nocolon") + `"}}}`, rejected: true, says: "username:password"},
		{name: "entry not an object", data: `{"auths":{"r.io":"x"}}`, rejected: true},
		{name: "not JSON", data: `{"auths":`, rejected: true},
		{name: "HttpHeaders of the wrong type", data: `{"auths":{"r.io":{"auth":"` + good + `"}},"HttpHeaders":{"a":1}}`, rejected: true},
		{name: "identitytoken of the wrong type: the kubelet does not read it", data: `{"auths":{"r.io":{"auth":"` + good + `","identitytoken":1}}}`},
		{name: "legacy with a stray space", legacy: true, data: `{"r.io":{"auth":"` + good + ` "}}`, rejected: true},
		{name: "legacy good", legacy: true, data: `{"r.io":{"auth":"` + good + `"}}`, entries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, problems, rejected := ParsePullSecret([]byte(tt.data), tt.legacy, src)
			if rejected != tt.rejected {
				t.Fatalf("rejected = %v, want %v (problems %+v)", rejected, tt.rejected, problems)
			}
			if !tt.rejected {
				if tt.entries != 0 && len(entries) != tt.entries {
					t.Errorf("entries = %d, want %d", len(entries), tt.entries)
				}
				return
			}
			if len(entries) != 0 || len(problems) != 1 || problems[0].Reason != report.ReasonMalformedCredentials || problems[0].Source != src {
				t.Fatalf("want no entry and one MalformedCredentials on %s: %d entries, %+v", src, len(entries), problems)
			}
			if !strings.Contains(problems[0].Message, tt.says) || !strings.Contains(problems[0].Message, "fails every image pull") || !problems[0].FailsPulls {
				t.Errorf("message %q does not say %q and the consequence", problems[0].Message, tt.says)
			}
		})
	}
}
