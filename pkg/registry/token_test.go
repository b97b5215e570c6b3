package registry

import (
	"encoding/base64"
	"sync"
	"testing"
	"time"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestTokens(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		kind     TokenKind
		push     bool
		known    bool
		evidence string
	}{
		{"Harbor pull-only JWT", jwt(`{"access":[{"type":"repository","name":"p/r","actions":["pull"]}]}`), "jwt", false, true, ""},
		{"Docker Hub JWT with push", jwt(`{"access":[{"type":"repository","name":"p/r","actions":["pull","push"]}]}`), "jwt", true, true, ""},
		{"wildcard", jwt(`{"access":[{"type":"repository","name":"p/r","actions":["*"]}]}`), "jwt", true, true, ""},
		{"Docker Hub anonymous: empty access", jwt(`{"access":[]}`), "jwt", false, true, ""},
		{"JWT without access claim", jwt(`{"sub":"x"}`), "jwt", false, false, "jwt without an access claim, grant unknown"},
		{"GHCR opaque", "djE6b3JnL3JlcG86MTIzNDU=", "opaque", false, false, "opaque token, grant unknown"},
		{"three dots but not JSON", "a.b.c", "opaque", false, false, "opaque token, grant unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := newToken(tc.value, time.Minute)
			if tok.Kind != tc.kind {
				t.Fatalf("kind %q, want %q", tok.Kind, tc.kind)
			}
			push, known := tok.Grants("p/r", "push")
			if push != tc.push || known != tc.known {
				t.Fatalf("Grants(push) = %v,%v want %v,%v", push, known, tc.push, tc.known)
			}
			if s, ok := tok.GrantEvidence().(string); tc.evidence != "" && (!ok || s != tc.evidence) {
				t.Fatalf("evidence %v", tok.GrantEvidence())
			}
		})
	}
}

func TestParseTokenResponse(t *testing.T) {
	tests := []struct {
		body string
		err  error
		exp  time.Duration
	}{
		{`{"token":"abc","expires_in":300}`, nil, 300 * time.Second},
		{`{"access_token":"abc"}`, nil, 60 * time.Second},
		{`{"token":"`, errTokenNotJSON, 0},
		{`<html>`, errTokenNotJSON, 0},
		{`{"details":"nope"}`, errTokenEmpty, 0},
	}
	for _, tc := range tests {
		_, exp, err := parseTokenResponse([]byte(tc.body))
		if err != tc.err || exp != tc.exp {
			t.Errorf("%s: %v %v", tc.body, exp, err)
		}
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	f.Add([]byte(`{"token":"abc","expires_in":300}`))
	f.Add([]byte(`{"token":"`))
	f.Add([]byte(`{"access_token":"a.b.c","expires_in":-1}`))
	f.Add([]byte(jwt(`{"access":[{"type":"repository","name":"a","actions":["pull"]}]}`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		v, exp, err := parseTokenResponse(body)
		if err == nil && (v == "" || exp <= 0) {
			t.Fatalf("accepted %q with value %q, expiry %v", body, v, exp)
		}
		tok := newToken(string(body), exp)
		_ = tok.GrantEvidence()
		_, _ = tok.Grants("a", "pull")
	})
}

func TestTokenCache(t *testing.T) {
	c := newTokenCache()
	k1 := tokenKey("https://r/token", "s", []string{"b", "a"}, "fp")
	k2 := tokenKey("https://r/token", "s", []string{"a", "b"}, "fp")
	if k1 != k2 {
		t.Fatal("scope order must not matter")
	}
	if tokenKey("r", "s", []string{"a"}, "fp1") == tokenKey("r", "s", []string{"a"}, "fp2") {
		t.Fatal("credentials must not share tokens")
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.put(k1, newToken("v", time.Minute))
			_ = c.get(k1)
		}()
	}
	wg.Wait()
	if c.get(k1) == nil {
		t.Fatal("fresh token dropped")
	}
	c.put(k1, newToken("v", 5*time.Second))
	if c.get(k1) != nil {
		t.Fatal("a token about to expire must not be reused")
	}
}
