package credentials

import (
	"reflect"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

const src = "secret/ns/pull"

func TestParseDockerConfigJSON(t *testing.T) {
	type want = wantEntry
	type wantProblem struct {
		key    string
		reason report.Reason
	}
	tests := []struct {
		name     string
		data     string
		entries  []want
		problems []wantProblem
	}{
		{
			name:    "auth field, password with colons",
			data:    `{"auths":{"registry.example.com":{"auth":"` + b64("user:pa:ss:word") + `"}}}`,
			entries: []want{{key: "registry.example.com", user: "user", pass: "pa:ss:word"}},
		},
		{
			name:    "auth without padding, as the kubelet accepts",
			data:    `{"auths":{"r.io":{"auth":"dXNlcjpwdw"}}}`,
			entries: []want{{key: "r.io", user: "user", pass: "pw"}},
		},
		{
			name:    "username and password fields",
			data:    `{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p","email":"u@example.com"}}}`,
			entries: []want{{key: "https://index.docker.io/v1/", user: "u", pass: "p"}},
		},
		{
			name:    "auth wins over username and password",
			data:    `{"auths":{"r.io":{"auth":"` + b64("a:b") + `","username":"x","password":"y"}}}`,
			entries: []want{{key: "r.io", user: "a", pass: "b"}},
		},
		{
			name:    "identity token, with an auth holding only the username",
			data:    `{"auths":{"r.io":{"auth":"` + b64("user:") + `","identitytoken":"refresh"}}}`,
			entries: []want{{key: "r.io", user: "user", idToken: "refresh"}},
		},
		{
			name:    "registry token alone",
			data:    `{"auths":{"r.io":{"registrytoken":"bearer"}}}`,
			entries: []want{{key: "r.io", regToken: "bearer"}},
		},
		{
			name:    "field names are case-insensitive",
			data:    `{"Auths":{"r.io":{"Username":"u","Password":"p"}}}`,
			entries: []want{{key: "r.io", user: "u", pass: "p"}},
		},
		{
			name:    "entries sorted by key",
			data:    `{"auths":{"z.io":{"auth":"` + b64("z:z") + `"},"a.io":{"auth":"` + b64("a:a") + `"}}}`,
			entries: []want{{key: "a.io", user: "a", pass: "a"}, {key: "z.io", user: "z", pass: "z"}},
		},
		{
			name:     "bad base64 spoils only its entry",
			data:     `{"auths":{"bad.io":{"auth":"!!not*base64"},"good.io":{"auth":"` + b64("u:p") + `"}}}`,
			entries:  []want{{key: "good.io", user: "u", pass: "p"}},
			problems: []wantProblem{{"bad.io", report.ReasonMalformedCredentials}},
		},
		{
			name:     "auth without a colon",
			data:     `{"auths":{"r.io":{"auth":"` + b64("justauser") + `"}}}`,
			problems: []wantProblem{{"r.io", report.ReasonMalformedCredentials}},
		},
		{
			name:     "username without password",
			data:     `{"auths":{"r.io":{"username":"u"}}}`,
			problems: []wantProblem{{"r.io", report.ReasonIncompleteCredentials}},
		},
		{
			name:     "auth with username only",
			data:     `{"auths":{"r.io":{"auth":"` + b64("u:") + `"}}}`,
			problems: []wantProblem{{"r.io", report.ReasonIncompleteCredentials}},
		},
		{
			name:     "password without username",
			data:     `{"auths":{"r.io":{"password":"p"}}}`,
			problems: []wantProblem{{"r.io", report.ReasonIncompleteCredentials}},
		},
		{
			name:     "empty entry",
			data:     `{"auths":{"r.io":{}}}`,
			problems: []wantProblem{{"r.io", report.ReasonIncompleteCredentials}},
		},
		{
			name:     "entry that is not an object",
			data:     `{"auths":{"r.io":"dXNlcjpwdw==","ok.io":{"auth":"` + b64("u:p") + `"}}}`,
			entries:  []want{{key: "ok.io", user: "u", pass: "p"}},
			problems: []wantProblem{{"r.io", report.ReasonMalformedCredentials}},
		},
		{
			name:     "field of the wrong type",
			data:     `{"auths":{"r.io":{"auth":42}}}`,
			problems: []wantProblem{{"r.io", report.ReasonMalformedCredentials}},
		},
		{name: "invalid JSON", data: `{"auths":`, problems: []wantProblem{{"", report.ReasonMalformedCredentials}}},
		{name: "empty payload", data: ``, problems: []wantProblem{{"", report.ReasonMalformedCredentials}}},
		{name: "not an object", data: `["x"]`, problems: []wantProblem{{"", report.ReasonMalformedCredentials}}},
		{name: "auths not an object", data: `{"auths":[]}`, problems: []wantProblem{{"", report.ReasonMalformedCredentials}}},
		{
			name:     "legacy dockercfg payload in a dockerconfigjson",
			data:     `{"r.io":{"auth":"` + b64("u:p") + `"}}`,
			problems: []wantProblem{{"", report.ReasonMalformedCredentials}},
		},
		{name: "no auths at all", data: `{"credsStore":"desktop"}`},
		{name: "null auths", data: `{"auths":null}`},
		{name: "empty auths", data: `{"auths":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, problems := ParseDockerConfigJSON([]byte(tt.data), src)
			checkEntries(t, entries, tt.entries)
			var got []wantProblem
			for _, p := range problems {
				got = append(got, wantProblem{p.Host, p.Reason})
				if p.Source != src || p.Message == "" || p.Remedy == "" {
					t.Errorf("problem lacks source, message or remedy: %+v", p)
				}
			}
			if !reflect.DeepEqual(got, tt.problems) {
				t.Errorf("problems = %+v, want %+v", got, tt.problems)
			}
		})
	}
}

type wantEntry = struct{ key, user, pass, idToken, regToken string }

func checkEntries(t *testing.T, entries []Entry, want []wantEntry) {
	t.Helper()
	if len(entries) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(entries), entries, len(want))
	}
	for i, e := range entries {
		c, w := e.Credential, want[i]
		got := struct{ key, user, pass, idToken, regToken string }{e.Key, c.Username, c.Password, c.IdentityToken, c.RegistryToken}
		if got != w {
			t.Errorf("entry %d = %+v, want %+v", i, got, w)
		}
		if c.Source != src || c.Key != e.Key {
			t.Errorf("entry %d: source %q key %q", i, c.Source, c.Key)
		}
	}
}

func TestParseDockerCfg(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		entries  []wantEntry
		problems []report.Reason
	}{
		{
			name:    "legacy format",
			data:    `{"https://index.docker.io/v1/":{"auth":"` + b64("u:p:q") + `","email":"e@x"},"r.io":{"username":"a","password":"b"}}`,
			entries: []wantEntry{{key: "https://index.docker.io/v1/", user: "u", pass: "p:q"}, {key: "r.io", user: "a", pass: "b"}},
		},
		{
			name:     "config.json payload in a dockercfg",
			data:     `{"auths":{"r.io":{"auth":"` + b64("u:p") + `"}}}`,
			problems: []report.Reason{report.ReasonMalformedCredentials},
		},
		{name: "invalid JSON", data: `{`, problems: []report.Reason{report.ReasonMalformedCredentials}},
		{name: "bad base64", data: `{"r.io":{"auth":"%%%"}}`, problems: []report.Reason{report.ReasonMalformedCredentials}},
		{name: "empty entry", data: `{"r.io":{}}`, problems: []report.Reason{report.ReasonIncompleteCredentials}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, problems := ParseDockerCfg([]byte(tt.data), src)
			checkEntries(t, entries, tt.entries)
			var got []report.Reason
			for _, p := range problems {
				got = append(got, p.Reason)
			}
			if !reflect.DeepEqual(got, tt.problems) {
				t.Errorf("problems = %v, want %v", got, tt.problems)
			}
		})
	}
}
