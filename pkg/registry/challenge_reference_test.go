package registry

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The challenge-parsing tables of the clients regcheck predicts, translated
// into rows: each row is the header the peer's test sends and what the peer
// expects from it. A row agrees, or names a deliberate difference listed in
// docs/reference-tables.md with its reason. Rows are data only; no code is
// taken from the peers.
//
// view says how the peer reads the header:
//   - "oras": oras-go's parseChallenge reads one challenge per value and
//     knows only Basic and Bearer (others are "unknown"); it reads
//     parameters for Bearer alone. regcheck must read the same one
//     challenge with the same parameters.
//   - "all": go-containerregistry's parseAuthHeader, every challenge.
//   - "pick": go-containerregistry's Ping, the one challenge it answers.
type challengeRefRow struct {
	source string // peer test file and case
	view   string
	header []string
	// What the peer expects. params nil: the peer does not read them.
	scheme string
	params map[string]string
	all    []Challenge // view "all"
	// differs names a deliberate difference (docs/reference-tables.md);
	// ours is then what regcheck gives instead.
	differs string
	ours    string
}

const (
	orasChallenge = "oras-go v2.6.2 registry/remote/auth/challenge_test.go Test_parseChallenge: "
	ggcrPing      = "go-containerregistry v0.22.1 pkg/v1/remote/transport/ping_test.go "
	ggcrChallenge = "go-containerregistry v0.22.1 pkg/v1/remote/internal/authchallenge/authchallenge_test.go "
)

var challengeRefRows = []challengeRefRow{
	{source: orasChallenge + "empty header", view: "oras", header: []string{""}},
	{source: orasChallenge + "unknown scheme", view: "oras", header: []string{"foo bar"}, scheme: "unknown"},
	{source: orasChallenge + "basic challenge", view: "oras", header: []string{`Basic realm="Test Registry"`}, scheme: "basic"},
	{source: orasChallenge + "basic challenge with no parameters", view: "oras", header: []string{"Basic"}, scheme: "basic"},
	{source: orasChallenge + "basic challenge with no parameters but spaces", view: "oras", header: []string{"Basic  "}, scheme: "basic"},
	{source: orasChallenge + "bearer challenge", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service="registry.example.io",scope="repository:library/hello-world:pull,push"`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token", "service": "registry.example.io", "scope": "repository:library/hello-world:pull,push"}},
	{source: orasChallenge + "bearer challenge with multiple scopes", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service="registry.example.io",scope="repository:library/alpine:pull,push repository:ubuntu:pull"`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token", "service": "registry.example.io", "scope": "repository:library/alpine:pull,push repository:ubuntu:pull"}},
	{source: orasChallenge + "bearer challenge with no parameters", view: "oras", header: []string{"Bearer"}, scheme: "bearer", params: map[string]string{}},
	{source: orasChallenge + "bearer challenge with no parameters but spaces", view: "oras", header: []string{"Bearer  "}, scheme: "bearer", params: map[string]string{}},
	{source: orasChallenge + "bearer challenge with white spaces", view: "oras",
		header: []string{`Bearer realm = "https://auth.example.io/token"   ,service=registry.example.io, scope  ="repository:library/hello-world:pull,push"  `},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token", "service": "registry.example.io", "scope": "repository:library/hello-world:pull,push"}},
	{source: orasChallenge + "bad bearer challenge (incomplete parameter with spaces)", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token"},
		differs: "CH-1", ours: `bearer{realm} + challenge "service"`},
	{source: orasChallenge + "bad bearer challenge (incomplete parameter with no value)", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service=`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token"}},
	{source: orasChallenge + "bad bearer challenge (incomplete parameter with spaces) #2", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service= `},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token"}},
	{source: orasChallenge + "bad bearer challenge (incomplete quote)", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",service="registry`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token"}},
	{source: orasChallenge + "bearer challenge with empty parameter value", view: "oras",
		header: []string{`Bearer realm="https://auth.example.io/token",empty="",service="registry.example.io",scope="repository:library/hello-world:pull,push"`},
		scheme: "bearer", params: map[string]string{"realm": "https://auth.example.io/token", "empty": "", "service": "registry.example.io", "scope": "repository:library/hello-world:pull,push"}},
	{source: orasChallenge + "bearer challenge with escaping parameter value", view: "oras",
		header: []string{`Bearer foo="foo\"bar",hello="\"hello world\""`},
		scheme: "bearer", params: map[string]string{"foo": `foo"bar`, "hello": `"hello world"`}},

	{source: ggcrChallenge + "TestAuthChallengeParse", view: "all",
		header: []string{`Bearer realm="https://auth.example.com/token",service="registry.example.com",other=fun,slashed="he\"\l\lo"`},
		all:    []Challenge{{"bearer", map[string]string{"realm": "https://auth.example.com/token", "service": "registry.example.com", "other": "fun", "slashed": `he"llo`}}}},

	{source: ggcrPing + "TestPingBasicChallengeNoParams", view: "pick", header: []string{"BASIC"}, scheme: "basic", params: map[string]string{}},
	{source: ggcrPing + "TestPingBearerChallengeWithParams", view: "pick", header: []string{`Bearer realm="http://auth.example.com/token"`},
		scheme: "bearer", params: map[string]string{"realm": "http://auth.example.com/token"}},
	{source: ggcrPing + "TestPingMultipleChallenges", view: "pick", header: []string{"Negotiate", `Basic realm="http://auth.example.com/token"`},
		scheme: "basic", params: map[string]string{"realm": "http://auth.example.com/token"}},
	{source: ggcrPing + "TestPingMultipleNotSupportedChallenges", view: "pick", header: []string{"Negotiate", "Digest"},
		scheme: "negotiate", params: map[string]string{},
		differs: "CH-2", ours: "no challenge answered"},
}

// orasView reads ParseChallenges' result as oras-go's parseChallenge
// reports it: the one challenge in the value, Basic, Bearer or unknown,
// parameters for Bearer only.
func orasView(chs []Challenge) string {
	if len(chs) == 0 {
		return "{}"
	}
	if len(chs) > 1 {
		return "several: " + strings.Join(challengeStrings(chs), " | ")
	}
	c := chs[0]
	switch c.Scheme {
	case "basic":
		return "basic{}"
	case "bearer":
		return Challenge{Scheme: "bearer", Params: c.Params}.String()
	}
	return "unknown{}"
}

func TestChallengeReferenceTables(t *testing.T) {
	for _, r := range challengeRefRows {
		t.Run(r.source, func(t *testing.T) {
			got := ParseChallenges(r.header...)
			var agrees bool
			var gotS, wantS string
			switch r.view {
			case "oras":
				gotS = orasView(got)
				switch {
				case r.scheme == "":
					wantS = "{}"
				case r.scheme == "bearer":
					wantS = Challenge{Scheme: "bearer", Params: r.params}.String()
				default:
					wantS = r.scheme + "{}"
				}
				agrees = gotS == wantS
			case "all":
				agrees = reflect.DeepEqual(got, r.all)
				gotS, wantS = strings.Join(challengeStrings(got), " | "), strings.Join(challengeStrings(r.all), " | ")
			case "pick":
				c, ok := pickChallenge(got)
				gotS = "no challenge answered"
				if ok {
					gotS = c.String()
				}
				wantS = Challenge{Scheme: r.scheme, Params: r.params}.String()
				agrees = gotS == wantS
			default:
				t.Fatalf("unknown view %q", r.view)
			}
			switch {
			case r.differs == "" && !agrees:
				t.Fatalf("disagrees with the peer: got %s, the peer expects %s", gotS, wantS)
			case r.differs != "" && agrees:
				t.Fatalf("marked as difference %s but agrees now (%s): drop the mark", r.differs, gotS)
			case r.differs != "":
				requireListedDifference(t, r.differs)
				if r.ours != "" && r.view == "pick" && gotS != r.ours {
					t.Fatalf("difference %s: got %s, documented %s", r.differs, gotS, r.ours)
				}
			}
		})
	}
}

// requireListedDifference fails unless docs/reference-tables.md lists id:
// every deliberate difference is written down in that one place.
func requireListedDifference(t *testing.T, id string) {
	t.Helper()
	b, err := os.ReadFile("../../docs/reference-tables.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "| "+id+" |") {
		t.Fatalf("difference %s is not listed in docs/reference-tables.md", id)
	}
}
