package registry

import (
	"sort"
	"strconv"
	"strings"
)

// Challenge is one WWW-Authenticate challenge. Registries vary in case
// ("Basic", "BASIC"), so Scheme and parameter names are lower-cased.
type Challenge struct {
	Scheme string
	Params map[string]string
}

// String renders the challenge for evidence and traces, parameters
// sorted so output is stable.
func (c Challenge) String() string {
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(c.Params[k]))
	}
	scheme := c.Scheme
	if scheme != "" {
		scheme = strings.ToUpper(scheme[:1]) + scheme[1:]
	}
	if len(parts) == 0 {
		return scheme
	}
	return scheme + " " + strings.Join(parts, ",")
}

// ParseChallenges parses WWW-Authenticate header values (RFC 7235): one
// value may hold several challenges, quoted values may hold commas and
// backslash escapes. A word right after a scheme that is no parameter is
// that scheme's token68 ("Negotiate abc==" is one challenge), not a second
// scheme; it is not kept, as no registry flow reads it. A parameter with
// no value ("service=") or an unterminated quoted one is dropped, as
// go-containerregistry and oras-go drop it. Malformed input yields what
// could be read, never a panic. There is no exported parser for this in
// the libraries we use.
func ParseChallenges(values ...string) []Challenge {
	var out []Challenge
	for _, v := range values {
		out = append(out, parseChallengeValue(v)...)
	}
	return out
}

func parseChallengeValue(s string) []Challenge {
	var out []Challenge
	cur := -1
	afterScheme := false // a scheme was just read: a token68 may follow
	i := 0
	for i < len(s) {
		if c := s[i]; c == ' ' || c == '\t' || c == ',' {
			if c == ',' {
				afterScheme = false
			}
			i++
			continue
		}
		if afterScheme {
			afterScheme = false
			if j := token68End(s, i); j > i {
				if k := skipSpace(s, j); k == len(s) || s[k] == ',' {
					i = j // the scheme's token68, not a new challenge
					continue
				}
			}
		}
		tok, j := readToken(s, i)
		if tok == "" {
			i++ // a stray character: skip it
			continue
		}
		k := skipSpace(s, j)
		if cur >= 0 && k < len(s) && s[k] == '=' {
			k = skipSpace(s, k+1)
			var val string
			ok := true // a value that is there and complete
			switch {
			case k < len(s) && s[k] == '"':
				val, k, ok = readQuoted(s, k)
			case k < len(s) && s[k] == '=':
				// token68 padding ("Negotiate abc=="): not a parameter.
				for k < len(s) && s[k] == '=' {
					k++
				}
				i = k
				continue
			default:
				val, k = readBare(s, k)
				ok = val != ""
			}
			name := strings.ToLower(tok)
			if _, dup := out[cur].Params[name]; !dup && ok {
				out[cur].Params[name] = val
			}
			i = k
			continue
		}
		out = append(out, Challenge{Scheme: strings.ToLower(tok), Params: map[string]string{}})
		cur = len(out) - 1
		afterScheme = true
		i = j
	}
	return out
}

func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// token68End returns the end of the token68 (RFC 7235 section 2.1:
// letters, digits, "-._~+/", then "=" padding) that starts at i.
func token68End(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			j++
			continue
		}
		break
	}
	if j == i {
		return i
	}
	for j < len(s) && s[j] == '=' {
		j++
	}
	return j
}

func readToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	return s[i:j], j
}

// readBare reads an unquoted value. Some servers leave URLs unquoted
// (realm=https://host/token), so it runs to the next comma or space.
func readBare(s string, i int) (string, int) {
	j := i
	for j < len(s) && s[j] != ',' && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	return s[i:j], j
}

// readQuoted reads a quoted-string starting at the quote; an unterminated
// one runs to the end and is reported as not ok (go-containerregistry and
// oras-go drop it too).
func readQuoted(s string, i int) (string, int, bool) {
	var b strings.Builder
	j := i + 1
	for j < len(s) {
		switch c := s[j]; c {
		case '\\':
			if j+1 < len(s) {
				b.WriteByte(s[j+1])
				j += 2
				continue
			}
			j++
		case '"':
			return b.String(), j + 1, true
		default:
			b.WriteByte(c)
			j++
		}
	}
	return b.String(), j, false
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// pickChallenge chooses the challenge to answer: Bearer when offered (the
// token flow is what clients use), else Basic.
func pickChallenge(chs []Challenge) (Challenge, bool) {
	for _, want := range []string{"bearer", "basic"} {
		for _, c := range chs {
			if c.Scheme == want {
				return c, true
			}
		}
	}
	return Challenge{}, false
}

func challengeStrings(chs []Challenge) []string {
	out := make([]string, 0, len(chs))
	for _, c := range chs {
		out = append(out, c.String())
	}
	return out
}
