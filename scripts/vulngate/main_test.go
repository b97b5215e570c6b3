package main

import (
	"strings"
	"testing"
)

// A govulncheck stream: one vulnerability called, one only imported.
const stream = `{"config":{"protocol_version":"v1.0.0"}}
{"osv":{"id":"GO-1","summary":"called one"}}
{"osv":{"id":"GO-2","summary":"imported only"}}
{"finding":{"osv":"GO-1","fixed_version":"v1.2.0","trace":[{"module":"example.com/m","version":"v1.1.0","package":"example.com/m/p","function":"F"}]}}
{"finding":{"osv":"GO-2","fixed_version":"v2.0.0","trace":[{"module":"example.com/n","version":"v1.0.0","package":"example.com/n"}]}}
`

func TestJudge(t *testing.T) {
	tests := []struct {
		name     string
		accepted map[string]string
		code     int
		want     string
	}{
		{"called and not accepted fails", nil, 1, "VULNERABLE GO-1 example.com/m@v1.1.0 (fixed in v1.2.0): called one"},
		{"accepted with a reason passes", map[string]string{"GO-1": "no fix yet"}, 0, "why: no fix yet"},
		{"an acceptance nothing reaches fails", map[string]string{"GO-1": "no fix yet", "GO-9": "fixed long ago"}, 1, "STALE     GO-9 is accepted but no longer reachable"},
		{"an acceptance of a vulnerability only imported fails", map[string]string{"GO-1": "no fix yet", "GO-2": "not called"}, 1, "STALE     GO-2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vulns, err := read(strings.NewReader(stream))
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			if code := judge(&out, vulns, tt.accepted); code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, out.String())
			}
			if !strings.Contains(out.String(), tt.want) || !strings.Contains(out.String(), "1 in dependencies but never called") {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}
