// Package similar names what a person may have meant: the repositories
// or tags of a registry close to one that does not exist (a hyphen for an
// underscore, a plural, another path, a typo).
package similar

import (
	"path"
	"sort"
	"strconv"
	"strings"
)

// Candidate is a name close to the one asked for.
type Candidate struct {
	Name  string
	Why   string // e.g. "underscore versus hyphen"
	score int    // lower is closer
}

func (c Candidate) String() string { return c.Name + " (" + c.Why + ")" }

// Names names the names of have (repositories or tags) that a person may
// have meant by want, closest first, at most limit: the same name with other
// separators (smoke_bundle vs smoke-bundle), singular versus plural, the
// same name under another path, a small edit distance, or a shared word
// (smoke_bundle vs modelops-bundles).
func Names(want string, have []string, limit int) []Candidate {
	var out []Candidate
	for _, h := range have {
		if h == want {
			continue
		}
		if c, ok := compare(want, h); ok {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score < out[j].score
		}
		return out[i].Name < out[j].Name
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func compare(want, have string) (Candidate, bool) {
	a, b := strings.ToLower(want), strings.ToLower(have)
	sa, sb := separators(a), separators(b)
	pa, pb := singular(sa), singular(sb)
	c := Candidate{Name: have}
	switch {
	case a == b:
		c.Why, c.score = "differs in case only", 0
	case sa == sb:
		c.Why, c.score = "underscore versus hyphen", 0
		if strings.Contains(a+b, ".") {
			c.Why = "different separators"
		}
	case pa == pb:
		c.Why, c.score = "singular versus plural", 1
		if sepsOf(a) != sepsOf(b) {
			c.Why += ", different separators"
		}
	case path.Base(a) == path.Base(b):
		c.Why, c.score = "same name under another path", 2
	default:
		if n := levenshtein(sa, sb); n <= max(2, len(sa)/4) {
			c.Why, c.score = "edit distance "+strconv.Itoa(n), 2+n
			break
		}
		if ba, bb := path.Base(sa), path.Base(sb); len(ba) > 3 {
			if n := levenshtein(ba, bb); n <= max(2, len(ba)/4) {
				c.Why, c.score = "edit distance "+strconv.Itoa(n)+" in the name", 6+n
				break
			}
		}
		w, n := sharedWords(path.Base(pa), path.Base(pb))
		if w == "" {
			return Candidate{}, false
		}
		c.Why, c.score = "shares the word "+w, 20-n
	}
	return c, true
}

// separators maps "_" and "." to "-", as people mix them up.
func separators(s string) string {
	return strings.NewReplacer("_", "-", ".", "-").Replace(s)
}

func sepsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// singular drops a plural "s" from each word of a separator-normalised
// name (bundles → bundle, images → image).
func singular(s string) string {
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		words := strings.Split(seg, "-")
		for j, w := range words {
			if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
				words[j] = strings.TrimSuffix(w, "s")
			}
		}
		segs[i] = strings.Join(words, "-")
	}
	return strings.Join(segs, "/")
}

// sharedWords returns the longest word (3+ letters) a and b share, and
// how many they share.
func sharedWords(a, b string) (string, int) {
	inB := map[string]bool{}
	for _, w := range strings.Split(b, "-") {
		inB[w] = true
	}
	best, n := "", 0
	for _, w := range strings.Split(a, "-") {
		if len(w) >= 3 && inB[w] {
			n++
			if len(w) > len(best) {
				best = w
			}
		}
	}
	return best, n
}

// levenshtein is the edit distance between a and b (insert, delete,
// substitute, each 1).
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
