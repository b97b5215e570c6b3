package imageref

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// deliberateDifferences maps every row (source test and input) of the
// translated distribution/reference tables (distribution_table_test.go)
// where regcheck answers otherwise than the source test expects to the
// Kind of refusal regcheck gives ("" when it parses what the source
// refuses) and the id of the difference, listed with its reason in
// docs/reference-tables.md, the one place every deliberate difference is
// written down. A new disagreement fails TestDistributionTables instead
// of reaching users.
var deliberateDifferences = map[string]struct {
	kind Kind // regcheck refuses it so
	id   string
}{
	"TestValidateReferenceName LOCALDOMAIN/library/debian": {Uppercase, "REF-1"},
	"TestValidateReferenceName LOCALDOMAIN/debian":         {Uppercase, "REF-1"},
	"TestParseRepositoryInfo LOCALDOMAIN/fooo":             {Uppercase, "REF-1"},
	"TestParseRepositoryInfo LOCALDOMAIN/fooo/bar":         {Uppercase, "REF-1"},
	"TestValidateReferenceName Docker/docker":              {Uppercase, "REF-1"},
	"TestValidateReferenceName DOCKER/docker":              {Uppercase, "REF-1"},
	"TestParseRepositoryInfo Foo/bar":                      {Uppercase, "REF-1"},
	"TestParseRepositoryInfo FOO/bar":                      {Uppercase, "REF-1"},
	"TestParseNamed test_com/foo":                          {"", "REF-2"},
	"TestParseNamed test.com":                              {"", "REF-2"},
	"TestParseNamed foo":                                   {"", "REF-2"},
	"TestParseNamed library/foo":                           {"", "REF-2"},
	"TestParseNamed docker.io/foo":                         {"", "REF-2"},
	"TestParseAnyReference sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c": {BareDigest, "REF-3"},
	"TestParseAnyReference dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c":        {Identifier, "REF-3"},
}

// requireListedDifference fails unless docs/reference-tables.md lists id.
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

func TestDistributionTables(t *testing.T) {
	used := map[string]bool{}
	for _, r := range distributionRows {
		ref, err := Parse(r.in)
		if d, ok := deliberateDifferences[r.src+" "+r.in]; ok {
			used[r.src+" "+r.in] = true
			requireListedDifference(t, d.id)
			var e *Error
			switch {
			case d.kind == "" && err != nil:
				t.Errorf("%s %q: a listed difference (%s), yet regcheck refuses it: %v", r.src, r.in, d.id, err)
			case d.kind != "" && (!errors.As(err, &e) || e.Kind != d.kind):
				t.Errorf("%s %q: a listed difference (%s): got %v, want a %s refusal", r.src, r.in, d.id, err, d.kind)
			case d.kind != "" && r.ok == false, d.kind == "" && r.ok:
				t.Errorf("%s %q: listed as a difference, but regcheck agrees with the source", r.src, r.in)
			}
			continue
		}
		if !r.ok {
			if err == nil {
				t.Errorf("%s %q: the source refuses it, regcheck parses it as %s", r.src, r.in, ref)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: the source parses it, regcheck refuses it: %v", r.src, r.in, err)
			continue
		}
		if r.name != "" && ref.Name() != r.name {
			t.Errorf("%s %q: name %q, the source expects %q", r.src, r.in, ref.Name(), r.name)
		}
		if r.name != "" && ref.Tag != r.tag {
			t.Errorf("%s %q: tag %q, the source expects %q", r.src, r.in, ref.Tag, r.tag)
		}
		if r.name != "" && ref.Digest.String() != r.dig {
			t.Errorf("%s %q: digest %q, the source expects %q", r.src, r.in, ref.Digest, r.dig)
		}
		if r.pull != "" && ref.Pull() != r.pull {
			t.Errorf("%s %q: pulls %q, ParseDockerRef gives %q", r.src, r.in, ref.Pull(), r.pull)
		}
	}
	for in := range deliberateDifferences {
		if !used[in] {
			t.Errorf("deliberateDifferences lists %q, which no translated row has", in)
		}
	}
}

// TestParse: regcheck's own cases, each a bug once met or a form a caller
// relies on.
func TestParse(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		in                        string
		registry, host, key, repo string
		tag, str, pull, short     string
		mutable                   bool
	}{
		{in: "nginx", registry: "docker.io", host: "registry-1.docker.io", key: "index.docker.io", repo: "library/nginx",
			str: "docker.io/library/nginx:latest", pull: "docker.io/library/nginx:latest", short: "library/nginx:latest", mutable: true},
		{in: " index.docker.io/library/nginx:1.27 ", registry: "docker.io", host: "registry-1.docker.io", key: "index.docker.io", repo: "library/nginx", tag: "1.27",
			str: "docker.io/library/nginx:1.27", pull: "docker.io/library/nginx:1.27", short: "library/nginx:1.27"},
		{in: "localhost:5000/team/app:latest", registry: "localhost:5000", host: "localhost:5000", key: "localhost:5000", repo: "team/app", tag: "latest",
			str: "localhost:5000/team/app:latest", pull: "localhost:5000/team/app:latest", short: "team/app:latest", mutable: true},
		// name:tag@digest: one parse, both forms named: the tag kept for
		// people, the digest alone for the runtime.
		{in: "ghcr.io/org/app:1.0@" + d, registry: "ghcr.io", host: "ghcr.io", key: "ghcr.io", repo: "org/app", tag: "1.0",
			str: "ghcr.io/org/app:1.0@" + d, pull: "ghcr.io/org/app@" + d, short: "org/app@sha256:0123456789ab"},
		{in: "[::1]:5000/a/b@" + d, registry: "[::1]:5000", host: "[::1]:5000", key: "[::1]:5000", repo: "a/b",
			str: "[::1]:5000/a/b@" + d, pull: "[::1]:5000/a/b@" + d, short: "a/b@sha256:0123456789ab"},
	} {
		r, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		got := []string{r.Registry, r.Host, r.CredentialKey, r.Repository, r.Tag, r.String(), r.Pull(), r.Short()}
		want := []string{c.registry, c.host, c.key, c.repo, c.tag, c.str, c.pull, c.short}
		if strings.Join(got, " ") != strings.Join(want, " ") || r.Mutable() != c.mutable {
			t.Errorf("Parse(%q):\n got %q mutable %v\nwant %q mutable %v", c.in, got, r.Mutable(), want, c.mutable)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		in   string
		kind Kind
		msg  string // the one-line message
	}{
		{"", Empty, `invalid image reference "": no image reference was given`},
		{"  ", Empty, `invalid image reference "": no image reference was given`},
		{"sha256:abc", BareDigest, `invalid image reference "sha256:abc": a bare digest names no repository`},
		{"sha256:" + strings.Repeat("ab", 32), BareDigest, ""},
		{strings.Repeat("ab", 32), Identifier, ""},
		{"UPPER/case:1", Uppercase, `invalid image reference "UPPER/case:1": invalid reference format: repository name (UPPER/case) must be lowercase`},
		{"UPPER/case@sha256:" + strings.Repeat("ab", 32), Uppercase, ""},
		{"docker/Docker", Uppercase, `invalid image reference "docker/Docker": invalid reference format: repository name (docker/Docker) must be lowercase`},
		{"https://gcr.io/foo/bar", Scheme, `invalid image reference "https://gcr.io/foo/bar": https:// is a URL scheme; an image reference has none`},
		{"oci://ghcr.io/org/chart", Scheme, ""},
		{"0_0.0/0", InvalidHost, `invalid image reference "0_0.0/0": 0_0.0 looks like a registry host but is not a valid host name`},
		{"a//b", Malformed, `invalid image reference "a//b": invalid reference format`},
		{"ghcr.io/org/app:bad tag", Malformed, ""},
	} {
		_, err := Parse(c.in)
		var e *Error
		if !errors.As(err, &e) || e.Kind != c.kind {
			t.Errorf("Parse(%q) = %v, want a %s refusal", c.in, err, c.kind)
			continue
		}
		if valid := c.in == "sha256:"+strings.Repeat("ab", 32); (e.Digest != "") != valid {
			t.Errorf("Parse(%q): the refusal's digest is %q", c.in, e.Digest)
		}
		if c.msg != "" && err.Error() != c.msg {
			t.Errorf("Parse(%q):\n got %s\nwant %s", c.in, err, c.msg)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): a message of more than one line: %q", c.in, err)
		}
	}
}

// TestParseAsKubelet: the kubelet's reading keeps distribution's rows that
// Parse refuses on purpose (an uppercase first part is a host there).
func TestParseAsKubelet(t *testing.T) {
	for _, r := range distributionRows {
		d, ok := deliberateDifferences[r.src+" "+r.in]
		if !ok || d.kind != Uppercase {
			continue
		}
		ref, err := ParseAsKubelet(r.in)
		if err != nil || (r.name != "" && ref.Name() != r.name) {
			t.Errorf("ParseAsKubelet(%q) = %s, %v; the source expects %s", r.in, ref, err, r.name)
		}
	}
}

func TestParseChart(t *testing.T) {
	r, err := ParseChart("oci://registry.example.com/charts/smoke-bundle:0.1.0")
	if err != nil || !r.OCI || r.Name() != "registry.example.com/charts/smoke-bundle" || r.Tag != "0.1.0" {
		t.Errorf("ParseChart: %+v, %v", r, err)
	}
	if r, err := ParseChart("registry.example.com/charts"); err != nil || r.OCI {
		t.Errorf("ParseChart without oci://: %+v, %v", r, err)
	}
	var e *Error
	if _, err := ParseChart("https://registry.example.com/charts"); !errors.As(err, &e) || e.Kind != Scheme {
		t.Errorf("ParseChart(https://…) = %v, want a Scheme refusal", err)
	}
	if _, err := ParseChart("oci://"); !errors.As(err, &e) || e.Kind != Empty {
		t.Errorf("ParseChart(oci://) = %v, want an Empty refusal", err)
	}
}
