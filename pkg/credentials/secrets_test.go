package credentials

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestSecretsRoundTripAndNeverShow feeds secrets with JSON and shell
// metacharacters through every source, checks they arrive intact, and
// that no string form of anything returned shows them.
func TestSecretsRoundTripAndNeverShow(t *testing.T) {
	badFragment := "c2VjcmV0LWZyYWdtZW50" // base64 of a secret, spoiled below
	config := `{"auths":{
		"pw.io":{"auth":` + jsonString(b64("user:"+secretPassword)) + `},
		"fields.io":{"username":"user","password":` + jsonString(secretPassword) + `},
		"id.io":{"username":"user","identitytoken":` + jsonString(secretToken) + `},
		"bearer.io":{"registrytoken":` + jsonString(secretBearer) + `},
		"bad.io":{"auth":"` + badFragment + `!*"},
		"half.io":{"password":` + jsonString(secretPassword) + `}
	},"credHelpers":{"helper.io":"test","fail.io":"fail"}}`

	f := newFixture(t, config, config)
	fakeHelper(t, f.helpers, "test", map[string]string{"helper.io": helperAnswerJSON("helper.io", "hu", secretHelper)}, `{}`)
	writeScript(t, f.helpers, "fail", "#!/bin/sh\nprintf '%s' "+shellQuote(secretHelper)+"\nprintf '%s' "+shellQuote(secretHelper)+" >&2\nexit 1\n")
	l := f.local(LocalOptions{Username: "flaguser", Password: secretPassword})
	ctx := context.Background()

	shown := []any{l, l.opts}
	want := map[string]string{"pw.io": secretPassword, "fields.io": secretPassword, "helper.io": secretHelper}
	for _, host := range []string{"pw.io", "fields.io", "id.io", "bearer.io", "bad.io", "half.io", "helper.io", "fail.io"} {
		got := l.Lookup(ctx, host)
		shown = append(shown, got)
		for _, c := range got.Credentials {
			shown = append(shown, c)
			if c.Source == SourceFlags {
				if c.Password != secretPassword {
					t.Errorf("flags password did not round-trip")
				}
				continue
			}
			if w, ok := want[host]; ok && c.Password != w {
				t.Errorf("%s: password did not round-trip", host)
			}
			if host == "id.io" && c.IdentityToken != secretToken || host == "bearer.io" && c.RegistryToken != secretBearer {
				t.Errorf("%s: token did not round-trip", host)
			}
		}
		for _, p := range got.Problems {
			shown = append(shown, p)
		}
	}
	listed, problems := l.List(ctx)
	for _, x := range listed {
		shown = append(shown, x)
	}
	for _, p := range problems {
		shown = append(shown, p)
	}
	entries, problems := ParseDockerConfigJSON([]byte(config), src)
	shown = append(shown, entries, problems, lookupImage(NewKeyring(entries...), "pw.io/app"))
	entries, problems = ParseDockerCfg([]byte(`{"bad.io":{"auth":"`+badFragment+`!*"},"pw.io":{"auth":`+jsonString(b64("u:"+secretPassword))+`}}`), src)
	shown = append(shown, entries, problems)
	// Invalid JSON right at a secret: a raw decoder error would quote it.
	_, problems = ParseDockerConfigJSON([]byte(`{"auths":{"x":{"auth":`+secretPassword+`}}}`), src)
	shown = append(shown, problems)
	// The kubelet's whole-secret view: a bad entry beside good ones.
	_, problems, _ = ParsePullSecret([]byte(`{"auths":{"bad.io":{"auth":"`+badFragment+` "},"pw.io":{"auth":`+jsonString(b64("u:"+secretPassword))+`,"email":`+jsonString(secretPassword)+`}}}`), false, src)
	shown = append(shown, problems)
	_, problems, _ = ParsePullSecret([]byte(`{"pw.io":{"auth":"`+secretPassword+`","email":5}}`), true, src)
	shown = append(shown, problems)

	// DOCKER_AUTH_CONFIG: a good entry round-trips; a broken variable's
	// problem never quotes it.
	for _, v := range []string{
		`{"auths":{"env.io":{"auth":` + jsonString(b64("user:"+secretPassword)) + `}}}`,
		`{"auths":{"env.io":{"auth":` + jsonString(b64("user:"+secretPassword)) + `,"password":` + jsonString(secretPassword) + `}}}`,
		`{"auths":{"env.io":{"auth":"` + secretPassword + `"}}}`,
		`{"auths":{"env.io":{"auth":` + secretPassword + `}}}`,
	} {
		f.env["DOCKER_AUTH_CONFIG"] = v
		el := f.local(LocalOptions{})
		got := el.Lookup(ctx, "env.io")
		if len(got.Credentials) > 0 && got.Credentials[0].Source == SourceDockerAuthConfig && got.Credentials[0].Password != secretPassword {
			t.Errorf("DOCKER_AUTH_CONFIG password did not round-trip")
		}
		listed, problems := el.List(ctx)
		shown = append(shown, got, listed, problems)
	}
	delete(f.env, "DOCKER_AUTH_CONFIG")

	shown = append(shown, l) // now holding helpers' answers
	secrets := append([]string{badFragment, b64("user:" + secretPassword)}, allSecrets...)
	for _, v := range shown {
		for _, form := range []string{fmt.Sprint(v), fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v)} {
			for _, s := range secrets {
				if strings.Contains(form, s) {
					t.Errorf("a secret shows in %T: %s", v, form)
				}
			}
			for _, frag := range []string{"p@ss", "w\"o", "tok\"en", "bear\"er", "hel\"per", "refresh", "access"} {
				if strings.Contains(form, frag) {
					t.Errorf("a secret fragment %q shows in %T: %s", frag, v, form)
				}
			}
		}
	}
}

// TestLocalDetectsKeychainHelper: with no auth configured, Docker and Helm
// both use the platform's keychain helper when it is on PATH.
func TestLocalDetectsKeychainHelper(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("linux helper names")
	}
	f := newFixture(t, `{}`, "")
	fakeHelper(t, f.helpers, "secretservice", map[string]string{"r.io": helperAnswerJSON("r.io", "ss", "pw")}, `{}`)
	got := f.local(LocalOptions{HelmMode: true}).Lookup(context.Background(), "r.io")
	// Both configs consult the same helper: one call, one candidate.
	want := []string{"credential-helper/secretservice=ss"}
	if s := sources(got.Credentials); fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("credentials = %v, want %v", s, want)
	}

	writeFile(t, filepath.Join(f.home, ".docker", "config.json"), `{"auths":{"r.io":{"auth":"`+b64("file:pw")+`"}}}`)
	got = f.local(LocalOptions{}).Lookup(context.Background(), "r.io")
	want = []string{"docker-config=file"}
	if s := sources(got.Credentials); fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("with auths configured, Docker's file wins and Helm's side is not asked: %v, want %v", s, want)
	}
}
