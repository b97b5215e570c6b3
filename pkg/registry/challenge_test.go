package registry

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []Challenge
	}{
		{"Docker Hub", []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`},
			[]Challenge{{"bearer", map[string]string{"realm": "https://auth.docker.io/token", "service": "registry.docker.io"}}}},
		{"GHCR with scope", []string{`Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"`},
			[]Challenge{{"bearer", map[string]string{"realm": "https://ghcr.io/token", "service": "ghcr.io", "scope": "repository:o/r:pull"}}}},
		{"ECR basic", []string{`Basic realm="https://1.dkr.ecr.eu-west-1.amazonaws.com/",service="ecr.amazonaws.com"`},
			[]Challenge{{"basic", map[string]string{"realm": "https://1.dkr.ecr.eu-west-1.amazonaws.com/", "service": "ecr.amazonaws.com"}}}},
		{"Nexus capitals", []string{`BASIC realm="Sonatype Nexus Repository Manager"`},
			[]Challenge{{"basic", map[string]string{"realm": "Sonatype Nexus Repository Manager"}}}},
		{"comma inside quotes, push scope", []string{`Bearer realm="https://r/token",scope="repository:a/b:pull,push",error="insufficient_scope"`},
			[]Challenge{{"bearer", map[string]string{"realm": "https://r/token", "scope": "repository:a/b:pull,push", "error": "insufficient_scope"}}}},
		{"escaped quote", []string{`Basic realm="say \"hi\"\\x"`},
			[]Challenge{{"basic", map[string]string{"realm": `say "hi"\x`}}}},
		{"two challenges in one value", []string{`Basic realm="b", Bearer realm="https://t", service="s"`},
			[]Challenge{{"basic", map[string]string{"realm": "b"}}, {"bearer", map[string]string{"realm": "https://t", "service": "s"}}}},
		{"two header values", []string{`Basic realm="b"`, `Bearer realm="t"`},
			[]Challenge{{"basic", map[string]string{"realm": "b"}}, {"bearer", map[string]string{"realm": "t"}}}},
		{"spaces around =, unquoted URL", []string{`Bearer realm = https://x/token , service = reg`},
			[]Challenge{{"bearer", map[string]string{"realm": "https://x/token", "service": "reg"}}}},
		{"scheme only", []string{`Negotiate`}, []Challenge{{"negotiate", map[string]string{}}}},
		{"token68 padding ignored", []string{`Negotiate abc==, Basic realm="x"`},
			[]Challenge{{"negotiate", map[string]string{}}, {"basic", map[string]string{"realm": "x"}}}},
		{"empty", []string{""}, nil},
		{"unterminated quote dropped", []string{`Bearer realm="https://x`}, []Challenge{{"bearer", map[string]string{}}}},
		{"empty bare value dropped, empty quoted kept", []string{`Bearer a=,b=""`}, []Challenge{{"bearer", map[string]string{"b": ""}}}},
		// RFC 7235 section 2.1: challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
		{"token68 is no second challenge", []string{`Negotiate abc`}, []Challenge{{"negotiate", map[string]string{}}}},
		{"unknown scheme with token68", []string{`foo bar`}, []Challenge{{"foo", map[string]string{}}}},
		{"token68 with slash and padding, then a challenge", []string{`Negotiate YII/a+b=, Basic realm="x"`},
			[]Challenge{{"negotiate", map[string]string{}}, {"basic", map[string]string{"realm": "x"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseChallenges(tc.in...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestPickChallengePrefersBearer(t *testing.T) {
	c, ok := pickChallenge(ParseChallenges(`Basic realm="b", Bearer realm="t"`))
	if !ok || c.Scheme != "bearer" {
		t.Fatalf("got %v", c)
	}
}

func FuzzParseChallenge(f *testing.F) {
	for _, s := range []string{
		`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`,
		`BASIC realm="x"`, `Basic realm="a,b", Bearer realm="c"`, `Negotiate abc==`, `"`, `=`, `a=`, `Bearer ,,,= "\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range ParseChallenges(s) {
			if c.Scheme == "" || c.Scheme != strings.ToLower(c.Scheme) {
				t.Fatalf("bad scheme %q from %q", c.Scheme, s)
			}
			for k := range c.Params {
				if k == "" || k != strings.ToLower(k) {
					t.Fatalf("bad param name %q from %q", k, s)
				}
			}
			// Rendering and re-parsing keeps the challenge.
			again := ParseChallenges(c.String())
			if len(again) == 0 || again[0].Scheme != c.Scheme {
				t.Fatalf("round trip of %q lost the scheme: %q", s, c.String())
			}
		}
	})
}
