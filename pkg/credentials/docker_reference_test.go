package credentials

import (
	"context"
	"reflect"
	"testing"
)

// docker/cli v29.7.2's cli/config tables, translated into rows (data
// only): configfile/file_test.go and credentials/file_store_test.go. A row
// agrees, or names a deliberate difference in docs/reference-tables.md.
const (
	dockerConfigTest    = "docker/cli v29.7.2 cli/config/configfile/file_test.go "
	dockerFileStoreTest = "docker/cli v29.7.2 cli/config/credentials/file_store_test.go "
)

// TestConvertToHostname: how a legacy key reduces to the host it serves.
func TestDockerConvertToHostnameTable(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "::1": "::1", "[::1]": "[::1]", "example.com": "example.com",
		"http://example.com": "example.com", "https://example.com": "example.com", "https://example.com/": "example.com",
		"https://example.com/v2/": "example.com", "unix:///var/run/docker.sock": "unix:", "ftp://example.com": "example.com",
		"127.0.0.1:6556": "127.0.0.1:6556", "::1:6556": "::1:6556", "[::1]:6556": "[::1]:6556", "example.com:6555": "example.com:6555",
		"https://127.0.0.1:6555/v2/": "127.0.0.1:6555", "https://::1:6555/v2/": "[::1]:6555", "https://[::1]:6555/v2/": "[::1]:6555",
		"http://example.com:6555": "example.com:6555", "https://example.com:6555": "example.com:6555", "https://example.com:6555/v2/": "example.com:6555",
	} {
		if got := keyHostname(in); got != want {
			t.Errorf("%sTestConvertToHostname %q: got %q, docker %q", dockerFileStoreTest, in, got, want)
		}
	}
}

// Lookups through Local, Docker mode: config.json, then DOCKER_AUTH_CONFIG.
func TestDockerConfigTables(t *testing.T) {
	const envAuth = `{"auths":{"env.example.test":{"auth":"ZW52X3VzZXI6ZW52X3Bhc3M="}}}`
	const envUserPass = `{"auths":{"env.example.test":{"username":"env_user","password":"env_pass","serveraddress":"env.example.test"}}}`
	rows := []struct {
		source  string
		config  string // config.json
		env     string // DOCKER_AUTH_CONFIG
		host    string
		want    []string // source=user
		problem bool     // regcheck names a problem
		differs string
	}{
		{source: dockerFileStoreTest + "TestFileStoreGet", host: "example.com",
			config: `{"auths":{"https://example.com":{"username":"foo@example.com","password":"pw"}}}`, want: []string{"docker-config=foo@example.com"}},
		{source: dockerConfigTest + "TestLoadFromReaderWithUsernamePassword username/password", host: "example.com",
			config: `{"auths":{"example.com/foo":{"username":"user","password":"pass"}}}`, want: []string{"docker-config=user"}},
		{source: dockerConfigTest + "TestLoadFromReaderWithUsernamePassword auth", host: "example.com",
			config: `{"auths":{"example.com/foo":{"auth":"` + b64("user:pass") + `"}}}`, want: []string{"docker-config=user"}},
		{source: dockerConfigTest + "TestGetAllCredentialsFromEnvironment can parse DOCKER_AUTH_CONFIG auth field", host: "env.example.test",
			env: envAuth, want: []string{"docker-auth-config=env_user"}},
		{source: dockerConfigTest + "TestGetAllCredentialsFromEnvironment malformed DOCKER_AUTH_CONFIG should fallback to underlying store", host: "fallback.example.test",
			config: `{"auths":{"fallback.example.test":{"username":"fallback_user","password":"fallback_pass"}}}`, env: envUserPass,
			want: []string{"docker-config=fallback_user"}, problem: true},
		{source: dockerConfigTest + "TestGetAllCredentialsFromEnvironment from DOCKER_AUTH_CONFIG and underlying store (foo)", host: "foo.example.test",
			config: `{"auths":{"foo.example.test":{"username":"user","password":"pass"}}}`, env: envAuth, want: []string{"docker-config=user"}},
		{source: dockerConfigTest + "TestGetAllCredentialsFromEnvironment from DOCKER_AUTH_CONFIG and underlying store (env)", host: "env.example.test",
			config: `{"auths":{"foo.example.test":{"username":"user","password":"pass"}}}`, env: envAuth, want: []string{"docker-auth-config=env_user"}},
		{source: dockerConfigTest + "TestGetAllCredentialsFromEnvironment env is ignored when empty", host: "env.example.test", env: ""},
		{source: dockerConfigTest + "TestParseEnvConfig should not support multiple JSON objects", host: "env.example.test",
			env: `{"auths":{"env.example.test":{"auth":"something"}}}{}`, problem: true},
	}
	for _, r := range rows {
		t.Run(r.source, func(t *testing.T) {
			f := newFixture(t, r.config, "")
			f.env["DOCKER_AUTH_CONFIG"] = r.env
			got := f.local(LocalOptions{}).Lookup(context.Background(), r.host)
			creds := sources(got.Credentials)
			agrees := reflect.DeepEqual(creds, r.want) && (len(got.Problems) > 0) == r.problem
			switch {
			case r.differs == "" && !agrees:
				t.Fatalf("credentials %v problems %+v; docker: %v (problem %v)", creds, got.Problems, r.want, r.problem)
			case r.differs != "" && agrees:
				t.Fatalf("marked %s but agrees now: drop the mark", r.differs)
			case r.differs != "":
				requireListedDifference(t, r.differs)
			}
		})
	}
}

// The credential-helper precedence of docker/cli v29.7.2
// configfile/file_test.go (TestGetAllCredentials*: which store answers for
// which host), as rows of per-host lookups: a credHelpers entry serves its
// host only (its helper is never asked for another), it hides credsStore
// and the auths entry for that host, and the other hosts keep their store.
func TestDockerHelperTables(t *testing.T) {
	const (
		credHelper = "test_cred_helper"
		credsStore = "test_creds_store"
	)
	rows := []struct {
		source  string
		config  string
		helpers map[string]map[string]string // helper → server → user it holds
		host    string
		want    []string
	}{
		{source: "TestGetAllCredentialsCredHelper credhelper.com", host: "credhelper.com",
			config:  `{"credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user", "somethingweird.com": "file_store_user"}},
			want:    []string{"credential-helper/" + credHelper + "=cred_helper_user"}},
		{source: "TestGetAllCredentialsCredHelper somethingweird.com (only configured registries ask the helper)", host: "somethingweird.com",
			config:  `{"credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user", "somethingweird.com": "file_store_user"}}},
		{source: "TestGetAllCredentialsFileStoreAndCredHelper example.com", host: "example.com",
			config:  `{"auths":{"example.com":{"auth":"` + b64("file_store_user:file_store_pass") + `"}},"credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user"}},
			want:    []string{"docker-config=file_store_user"}},
		{source: "TestGetAllCredentialsFileStoreAndCredHelper credhelper.com", host: "credhelper.com",
			config:  `{"auths":{"example.com":{"auth":"` + b64("file_store_user:file_store_pass") + `"}},"credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user"}},
			want:    []string{"credential-helper/" + credHelper + "=cred_helper_user"}},
		{source: "TestGetAllCredentialsCredStoreAndCredHelper credstore.com", host: "credstore.com",
			config:  `{"credsStore":"` + credsStore + `","credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user"}, credsStore: {"credstore.com": "cred_store_user"}},
			want:    []string{"credential-helper/" + credsStore + "=cred_store_user"}},
		{source: "TestGetAllCredentialsCredStoreAndCredHelper credhelper.com", host: "credhelper.com",
			config:  `{"credsStore":"` + credsStore + `","credHelpers":{"credhelper.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"credhelper.com": "cred_helper_user"}, credsStore: {"credstore.com": "cred_store_user"}},
			want:    []string{"credential-helper/" + credHelper + "=cred_helper_user"}},
		{source: "TestGetAllCredentialsCredHelperOverridesDefaultStore example.com", host: "example.com",
			config:  `{"credsStore":"` + credsStore + `","credHelpers":{"example.com":"` + credHelper + `"}}`,
			helpers: map[string]map[string]string{credHelper: {"example.com": "cred_helper_user"}, credsStore: {"example.com": "cred_store_user"}},
			want:    []string{"credential-helper/" + credHelper + "=cred_helper_user"}},
	}
	for _, r := range rows {
		t.Run(r.source, func(t *testing.T) {
			f := newFixture(t, r.config, "")
			for name, held := range r.helpers {
				answers := map[string]string{}
				for server, user := range held {
					answers[server] = helperAnswerJSON(server, user, "pw")
				}
				fakeHelper(t, f.helpers, name, answers, `{}`)
			}
			got := f.local(LocalOptions{}).Lookup(context.Background(), r.host)
			if creds := sources(got.Credentials); !reflect.DeepEqual(creds, r.want) || len(got.Problems) > 0 {
				t.Fatalf("%s%s: credentials %v problems %+v; docker: %v", dockerConfigTest, r.source, creds, got.Problems, r.want)
			}
		})
	}
}
