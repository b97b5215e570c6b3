// Package versions reads image tags as versions and finds the newer ones
// a repository offers (SPEC "Newer versions"). Ordering, pre-releases and
// their precedence are Masterminds/semver's (semver 2); what no semver
// library does is written here: dotted numeric tags of one to four parts
// (1.27, 2024.05.01, 1.2.3.4), the pre-release spellings image tags use
// (3.13.0rc1, 1.2.0-beta2), and the variant suffix that makes a tag a
// different build of the same version (1.25-alpine, 1.2.3-debian-12-r4):
// tags are compared only with tags of the same shape, so nginx:1.25-alpine
// is never told to move to 1.27.
package versions

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// maxParts is the most numeric parts a tag may have to be read as a
// version: more (1.2.3.4.5) is a build number scheme, not a version.
const maxParts = 4

// maxTagLen is the longest tag the registry allows (distribution's
// reference grammar: 128 characters).
const maxTagLen = 128

// Tag is one tag read as a version.
type Tag struct {
	// Name is the tag as written.
	Name string
	// Version is its major.minor.patch and pre-release; missing parts
	// are 0 (1.27 is 1.27.0).
	Version *semver.Version
	// Extra are the numeric parts after the third (the 4 of 1.2.3.4).
	Extra []uint64
	// Parts is how many numeric parts the tag writes (1 for "16").
	Parts int
	// Prefixed is a leading "v".
	Prefixed bool
	// Variant is the suffix after the version and pre-release, with its
	// separator ("-alpine3.19", "-debian-12-r4"); empty for none.
	Variant string
	// Shape groups the tags that compare: the number of parts and the
	// variant with its numbers blanked ("3|-alpine#.#").
	Shape string

	variantNums []uint64
}

// Prerelease reports whether the tag is a pre-release (1.2.0-rc.1).
func (t Tag) Prerelease() bool { return t.Version.Prerelease() != "" }

// String is the tag as written.
func (t Tag) String() string { return t.Name }

var (
	coreRE = regexp.MustCompile(`^(\d+)((?:\.\d+){0,8})`)
	// preRE are the pre-release spellings of image tags, after the
	// numbers: -rc.1, -rc1, -beta, .alpha2, rc1 (python's 3.13.0rc1).
	// Longer words first so "preview" is not read as "pre".
	preRE = regexp.MustCompile(`^[-.]?(?i:(alpha|beta|preview|pre|rc|dev|snapshot|canary|nightly))(?:[.-]?(\d+))?`)
	// shortPreRE is python's a1/b2, only written right after the numbers.
	shortPreRE = regexp.MustCompile(`^([ab])(\d+)`)
	digitsRE   = regexp.MustCompile(`\d+`)
)

// Parse reads tag as a version. ok is false for tags that are not one
// (latest, stable, lts-alpine, a commit hash).
func Parse(tag string) (Tag, bool) {
	if tag == "" || len(tag) > maxTagLen {
		return Tag{}, false
	}
	t := Tag{Name: tag}
	rest := tag
	if strings.HasPrefix(rest, "v") {
		t.Prefixed, rest = true, rest[1:]
	}
	m := coreRE.FindStringSubmatch(rest)
	if m == nil {
		return Tag{}, false
	}
	rest = rest[len(m[0]):]
	var nums []uint64
	for _, p := range strings.Split(m[0], ".") {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Tag{}, false
		}
		nums = append(nums, n)
	}
	if len(nums) > maxParts {
		return Tag{}, false
	}
	t.Parts = len(nums)
	for len(nums) < 3 {
		nums = append(nums, 0)
	}
	t.Extra = nums[3:]

	pre := ""
	if pm := preRE.FindStringSubmatch(rest); pm != nil && endsWord(rest[len(pm[0]):]) {
		pre = preIdent(pm[1], pm[2])
		rest = rest[len(pm[0]):]
	} else if pm := shortPreRE.FindStringSubmatch(rest); pm != nil && endsWord(rest[len(pm[0]):]) {
		pre = preIdent(map[string]string{"a": "alpha", "b": "beta"}[pm[1]], pm[2])
		rest = rest[len(pm[0]):]
	}
	// A variant starts with a separator: 9f8e7d6 (a commit hash) or
	// 1.2.3.RELEASE are not versions.
	if rest != "" && rest[0] != '-' && rest[0] != '_' {
		return Tag{}, false
	}
	s := fmt.Sprintf("%d.%d.%d", nums[0], nums[1], nums[2])
	if pre != "" {
		s += "-" + pre
	}
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return Tag{}, false
	}
	t.Version = v
	t.Variant = rest
	for _, d := range digitsRE.FindAllString(rest, -1) {
		n, err := strconv.ParseUint(d, 10, 64)
		if err != nil {
			return Tag{}, false
		}
		t.variantNums = append(t.variantNums, n)
	}
	t.Shape = strconv.Itoa(t.Parts) + "|" + digitsRE.ReplaceAllString(rest, "#")
	return t, true
}

// endsWord: a pre-release spelling ends the tag or is followed by a
// variant; "-devel" or "-rcfoo" are variants, not pre-releases.
func endsWord(rest string) bool {
	return rest == "" || rest[0] == '-' || rest[0] == '_'
}

// preIdent is the semver pre-release of a spelling: rc1 and rc.1 are
// both rc.1, so they order numerically (rc.2 < rc.10).
func preIdent(word, num string) string {
	word = strings.ToLower(word)
	if num == "" {
		return word
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return word
	}
	return word + "." + strconv.FormatUint(n, 10)
}

// Compare orders two tags of the same shape: the version (semver
// precedence), the parts after the third, then the numbers of the variant
// (debian-12-r4 before debian-12-r5). 0 means the same version, however
// written (v1.2.3 and 1.2.3).
func (t Tag) Compare(o Tag) int {
	if c := t.Version.Compare(o.Version); c != 0 {
		return c
	}
	if c := slices.Compare(t.Extra, o.Extra); c != 0 {
		return c
	}
	return slices.Compare(t.variantNums, o.variantNums)
}

// Scope limits what counts as newer (--newer=major|minor|patch).
type Scope string

// Scopes.
const (
	ScopeMajor Scope = "major" // any newer version
	ScopeMinor Scope = "minor" // newer within the running major
	ScopePatch Scope = "patch" // newer within the running major.minor
)

// ParseScope reads --newer's value ("" is major).
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case "", ScopeMajor:
		return ScopeMajor, nil
	case ScopeMinor, ScopePatch:
		return Scope(s), nil
	}
	return "", fmt.Errorf("--newer=%s: want major, minor or patch", s)
}

// in reports whether t is within scope of running.
func (s Scope) in(running, t Tag) bool {
	switch s {
	case ScopeMinor:
		return t.Version.Major() == running.Version.Major()
	case ScopePatch:
		return t.Version.Major() == running.Version.Major() && t.Version.Minor() == running.Version.Minor()
	}
	return true
}

// Verdict is what a repository's tags say about a running tag.
type Verdict struct {
	Running Tag
	Scope   Scope
	// Newer are the versions newer than the running one within the scope,
	// newest first, one tag per version.
	Newer []Tag
	// Latest is the newest version within the scope (the running tag
	// when nothing is newer).
	Latest Tag
	// LatestInMajor is the newest version with the running major.
	LatestInMajor Tag
	// Newest is the newest version of the running tag's shape, whatever
	// the scope.
	Newest Tag
	// Compared counts the tags of the running tag's shape.
	Compared int
}

// Behind reports whether a newer version is within the scope.
func (v Verdict) Behind() bool { return len(v.Newer) > 0 }

// Find compares running with a repository's tags. Only tags of the same
// shape compare; pre-releases only when the running tag is one. When two
// tags name the same version (v1.2.3 and 1.2.3), the one written like the
// running tag is named.
func Find(running Tag, tags []string, scope Scope) Verdict {
	return FindParsed(running, ParseAll(tags), scope)
}

// ParseAll reads every tag that is a version, in order: a repository's
// list parsed once for every running tag compared with it.
func ParseAll(tags []string) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, name := range tags {
		if t, ok := Parse(name); ok {
			out = append(out, t)
		}
	}
	return out
}

// FindParsed is Find over tags ParseAll already read.
func FindParsed(running Tag, tags []Tag, scope Scope) Verdict {
	if scope == "" {
		scope = ScopeMajor
	}
	// Pointers: sorting moves 8 bytes a tag, not the whole struct.
	var same []*Tag
	compared := 0
	for i := range tags {
		t := &tags[i]
		if t.Shape != running.Shape || (t.Prerelease() && !running.Prerelease()) {
			continue
		}
		// Only the newer ones are sorted: a repository's thousands of
		// older tags cost one comparison each.
		if compared++; t.Compare(running) > 0 {
			same = append(same, t)
		}
	}
	slices.SortFunc(same, func(a, b *Tag) int {
		if c := b.Compare(*a); c != 0 {
			return c
		}
		// Equal versions: the running tag's spelling first, then by name
		// so the order does not depend on the list's.
		if c := boolOrder(a.Prefixed != running.Prefixed, b.Prefixed != running.Prefixed); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	same = slices.CompactFunc(same, func(a, b *Tag) bool { return a.Compare(*b) == 0 })
	v := Verdict{Running: running, Scope: scope, Latest: running, LatestInMajor: running, Newest: running, Compared: compared}
	for _, p := range same {
		t := *p
		if t.Compare(v.Newest) > 0 {
			v.Newest = t
		}
		if t.Version.Major() == running.Version.Major() && t.Compare(v.LatestInMajor) > 0 {
			v.LatestInMajor = t
		}
		if scope.in(running, t) {
			v.Newer = append(v.Newer, t)
			if t.Compare(v.Latest) > 0 {
				v.Latest = t
			}
		}
	}
	return v
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
