package credentials

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The kubelet's own tables, k8s.io/kubernetes v1.37.2
// pkg/credentialprovider keyring_test.go and config_test.go, translated
// into rows (data only). A row agrees with the kubelet, or names a
// deliberate difference listed in docs/reference-tables.md.

const (
	kubeletKeyringTest = "k8s.io/kubernetes v1.37.2 pkg/credentialprovider/keyring_test.go "
	kubeletConfigTest  = "k8s.io/kubernetes v1.37.2 pkg/credentialprovider/config_test.go "
)

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

// TestURLsMatch: the kubelet's glob matcher, key against repository.
func TestKubeletURLsMatchTable(t *testing.T) {
	rows := []struct {
		glob, target string
		match        bool
	}{
		{"*.kubernetes.io", "prefix.kubernetes.io", true},
		{"prefix.*.io", "prefix.kubernetes.io", true},
		{"prefix.kubernetes.*", "prefix.kubernetes.io", true},
		{"*-good.kubernetes.io", "prefix-good.kubernetes.io", true},
		{"*.kubernetes.io/blah", "prefix.kubernetes.io/blah", true},
		{"prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", true},
		{"*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", true},
		{"prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", true},
		{"*.kubernetes.io", "kubernetes.io", false},
		{"*.*.kubernetes.io", "prefix.kubernetes.io", false},
		{"*.*.kubernetes.io", "kubernetes.io", false},
		{"*kubernetes.io", "a.kubernetes.io", false},
		{"*kubernetes.io", "kubernetes.io", true},
		{"*.*.*.kubernetes.io", "a.b.c.kubernetes.io", true},
		{"kubernetes.io", "kubernetes.com", false},
		{"k*.io", "quay.io", false},
		{"*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", false},
		{"prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", false},
	}
	for _, r := range rows {
		if got := kubeletMatch(r.glob, r.target); got != r.match {
			t.Errorf("%sTestURLsMatch %q vs %q: got %v, the kubelet %v", kubeletKeyringTest, r.glob, r.target, got, r.match)
		}
	}
}

// TestIsDefaultRegistryMatch: which repositories get the Docker Hub key.
func TestKubeletIsDefaultRegistryMatchTable(t *testing.T) {
	for image, want := range map[string]bool{
		"foo/bar": true, "docker.io/foo/bar": true, "index.docker.io/foo/bar": true, "foo": true,
		"": false, "registry.tld/foo/bar": false, "registry:5000/foo/bar": false, "myhostdocker.io/foo/bar": false,
	} {
		if got := kubeletDefaultRegistryMatch(image); got != want {
			t.Errorf("%sTestIsDefaultRegistryMatch %q: got %v, the kubelet %v", kubeletKeyringTest, image, got, want)
		}
	}
}

// keyringRow: a dockercfg with entries KEY=USER (password "bar"), an
// image looked up, and the users the kubelet hands over, in order.
type keyringRow struct {
	source  string
	entries []string
	image   string
	want    []string
	differs string // a difference in docs/reference-tables.md
}

var kubeletKeyringRows = func() []keyringRow {
	var rows []keyringRow
	// TestDockerKeyringForGlob: each key finds TARGET/foo/bar.
	for _, r := range []struct{ key, target, differs string }{
		{"https://hello.kubernetes.io", "hello.kubernetes.io", ""},
		{"https://*.docker.io", "prefix.docker.io", ""},
		{"https://prefix.*.io", "prefix.docker.io", ""},
		{"https://prefix.docker.*", "prefix.docker.io", ""},
		{"https://*.docker.io/path", "prefix.docker.io/path", ""},
		{"https://prefix.*.io/path", "prefix.docker.io/path/subpath", ""},
		{"https://prefix.docker.*/path", "prefix.docker.io/path", ""},
		{"https://*.docker.io:8888", "prefix.docker.io:8888", ""},
		{"https://prefix.*.io:8888", "prefix.docker.io:8888", ""},
		{"https://prefix.docker.*:8888", "prefix.docker.io:8888", ""},
		{"https://*.docker.io/path:1111", "prefix.docker.io/path:1111", "KL-2"},
		{"https://*.docker.io/v1/", "prefix.docker.io/path:1111", "KL-2"},
		{"https://*.docker.io/v2/", "prefix.docker.io/path:1111", "KL-2"},
		{"https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111", "KL-2"},
		{"prefix.docker.io:1111", "prefix.docker.io:1111/path", ""},
		{"*.docker.io:1111", "prefix.docker.io:1111/path", ""},
	} {
		rows = append(rows, keyringRow{source: kubeletKeyringTest + "TestDockerKeyringForGlob " + r.key,
			entries: []string{r.key + "=foo"}, image: r.target + "/foo/bar", want: []string{"foo"}, differs: r.differs})
	}
	// TestKeyringMiss: nothing found.
	for _, r := range []struct{ key, lookup string }{
		{"https://hello.kubernetes.io", "world.mesos.org/foo/bar"},
		{"https://*.docker.com", "prefix.docker.io"},
		{"https://suffix.*.io", "prefix.docker.io"},
		{"https://prefix.docker.c*", "prefix.docker.io"},
		{"https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"},
		{"suffix.*.io", "prefix.docker.io"},
	} {
		rows = append(rows, keyringRow{source: kubeletKeyringTest + "TestKeyringMiss " + r.key,
			entries: []string{r.key + "=foo"}, image: r.lookup + "/foo/bar"})
	}
	hub := []string{"https://index.docker.io/v1/=foo"}
	rows = append(rows,
		keyringRow{source: kubeletKeyringTest + "TestKeyringMissWithDockerHubCredentials", entries: hub, image: "world.mesos.org/foo/bar"},
		keyringRow{source: kubeletKeyringTest + "TestKeyringHitWithUnqualifiedDockerHub", entries: hub, image: "google/docker-registry", want: []string{"foo"}},
		keyringRow{source: kubeletKeyringTest + "TestKeyringHitWithUnqualifiedLibraryDockerHub", entries: hub, image: "jenkins", want: []string{"foo"}},
		keyringRow{source: kubeletKeyringTest + "TestKeyringHitWithQualifiedDockerHub", entries: hub, image: "index.docker.io/v1//google/docker-registry", want: []string{"foo"}, differs: "KL-2"},
	)
	// TestDockerKeyringLookup: most specific key first.
	two := []string{"bar.example.com/pong=grace", "bar.example.com=ada"}
	for _, r := range []struct {
		image   string
		want    []string
		differs string
	}{
		{"bar.example.com", []string{"ada"}, "KL-1"},
		{"bar.example.com/pong", []string{"grace", "ada"}, ""},
		{"bar.example.com/ping", []string{"ada"}, ""},
		{"bar.example.com/pongz", []string{"grace", "ada"}, ""},
		{"bar.example.com/pong/pang", []string{"grace", "ada"}, ""},
		{"example.com", nil, ""},
		{"foo.example.com", nil, ""},
	} {
		rows = append(rows, keyringRow{source: kubeletKeyringTest + "TestDockerKeyringLookup " + r.image, entries: two, image: r.image, want: r.want, differs: r.differs})
	}
	// TestIssue3797: a /v1/ key.
	for _, r := range []struct{ image, differs string }{{"quay.io", "KL-1"}, {"quay.io/foo", ""}, {"quay.io/foo/bar", ""}} {
		rows = append(rows, keyringRow{source: kubeletKeyringTest + "TestIssue3797 " + r.image,
			entries: []string{"https://quay.io/v1/=rex"}, image: r.image, want: []string{"rex"}, differs: r.differs})
	}
	return rows
}()

func TestKubeletKeyringTables(t *testing.T) {
	for _, r := range kubeletKeyringRows {
		t.Run(r.source+" "+r.image, func(t *testing.T) {
			cfg := map[string]map[string]string{}
			for _, e := range r.entries {
				key, user, _ := strings.Cut(e, "=")
				cfg[key] = map[string]string{"auth": b64(user + ":bar"), "email": "foo@bar.baz"}
			}
			data, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			entries, problems, rejected := ParsePullSecret(data, true, src)
			if rejected || len(problems) != 0 {
				t.Fatalf("the kubelet reads this config; regcheck: %+v", problems)
			}
			got := users(lookupImage(NewKeyring(entries...), r.image))
			agrees := reflect.DeepEqual(got, r.want)
			switch {
			case r.differs == "" && !agrees:
				t.Fatalf("Lookup(%q) = %v, the kubelet %v", r.image, got, r.want)
			case r.differs != "" && agrees:
				t.Fatalf("marked %s but agrees now: drop the mark", r.differs)
			case r.differs != "":
				requireListedDifference(t, r.differs)
			}
		})
	}
}

// TestDecodeDockerConfigFieldAuth.
func TestKubeletDecodeAuthTable(t *testing.T) {
	rows := []struct {
		input, user, pass string
		fail              bool
	}{
		{input: "Zm9vOmJhcg==", user: "foo", pass: "bar"},
		{input: "Zm9vOmJhcg", user: "foo", pass: "bar"},
		{input: "Zm9vOm\nJhcg==\n", user: "foo", pass: "bar"},
		{input: b64("foo:bar"), user: "foo", pass: "bar"},
		{input: strings.TrimRight(b64("foo:bar"), "="), user: "foo", pass: "bar"},
		{input: "cGFudHM=", fail: true},
		{input: "Zm9vOmJhcg== ", fail: true},
		{input: "pants", fail: true},
	}
	for _, r := range rows {
		user, pass, err := kubeletDecodeAuth(r.input)
		if (err != nil) != r.fail || user != r.user || pass != r.pass {
			t.Errorf("%sTestDecodeDockerConfigFieldAuth %q: got %q:%q err %v, the kubelet %q:%q fail=%v",
				kubeletConfigTest, r.input, user, pass, err, r.user, r.pass, r.fail)
		}
	}
}

// TestDockerConfigEntryJSONDecode, TestDockerConfigJsonJSONDecode,
// TestDockerConfigJSONDecode, TestReadDockerConfigFileFromBytes and
// TestReadDockerConfigJSONFileFromBytes: what a payload decodes to
// (KEY=USER:PASSWORD) or that it fails.
func TestKubeletConfigDecodeTables(t *testing.T) {
	rows := []struct {
		source string
		legacy bool
		data   string
		want   []string // sorted by key
		fail   bool
	}{
		{source: "TestDockerConfigEntryJSONDecode simple", legacy: true, data: `{"r.io":{"username": "foo", "password": "bar", "email": "foo@example.com"}}`, want: []string{"r.io=foo:bar"}},
		{source: "TestDockerConfigEntryJSONDecode auth", legacy: true, data: `{"r.io":{"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}}`, want: []string{"r.io=foo:bar"}},
		{source: "TestDockerConfigEntryJSONDecode auth overrides", legacy: true, data: `{"r.io":{"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"}}`, want: []string{"r.io=ping:pong"}},
		{source: "TestDockerConfigEntryJSONDecode poorly-formatted auth", legacy: true, data: `{"r.io":{"auth": "pants", "email": "foo@example.com"}}`, fail: true},
		{source: "TestDockerConfigEntryJSONDecode email false", legacy: true, data: `{"r.io":{"email": false}}`, fail: true},
		{source: "TestDockerConfigJsonJSONDecode", data: `{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}`,
			want: []string{"http://bar.example.com=bar:baz", "http://foo.example.com=foo:bar"}},
		{source: "TestDockerConfigJSONDecode", legacy: true, data: `{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}`,
			want: []string{"http://bar.example.com=bar:baz", "http://foo.example.com=foo:bar"}},
		{source: "TestReadDockerConfigFileFromBytes valid", legacy: true, data: `{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}}`, want: []string{"http://foo.example.com=foo:bar"}},
		{source: "TestReadDockerConfigFileFromBytes invalid", legacy: true, data: `{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"`, fail: true},
		{source: "TestReadDockerConfigJSONFileFromBytes valid", data: `{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}`,
			want: []string{"http://bar.example.com=bar:baz", "http://foo.example.com=foo:bar"}},
		{source: "TestReadDockerConfigJSONFileFromBytes invalid", data: `{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"}, "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"`, fail: true},
	}
	for _, r := range rows {
		t.Run(r.source, func(t *testing.T) {
			entries, problems, rejected := ParsePullSecret([]byte(r.data), r.legacy, src)
			if rejected != r.fail {
				t.Fatalf("%s%s: rejected = %v, the kubelet fails = %v (%+v)", kubeletConfigTest, r.source, rejected, r.fail, problems)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Key+"="+e.Credential.Username+":"+e.Credential.Password)
			}
			if !reflect.DeepEqual(got, r.want) {
				t.Fatalf("%s%s: got %v, the kubelet %v", kubeletConfigTest, r.source, got, r.want)
			}
		})
	}
}
