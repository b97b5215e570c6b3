package credentials

import (
	"context"
	"path/filepath"
	"testing"
)

// oras-go v2.6.2's config tables (Helm's registry client reads its
// registry config through them), translated into rows (data only):
// registry/remote/credentials/internal/config/config_test.go
// (TestConfig_GetCredential_validConfig, _legacyConfig, _invalidConfig,
// _empty, _whiteSpace) over the same files of registry/remote/credentials/
// testdata, looked up through Local in Helm mode. A row agrees, or names a
// deliberate difference in docs/reference-tables.md.
const orasConfigTest = "oras-go v2.6.2 registry/remote/credentials/internal/config/config_test.go "

// The testdata files the source tests load.
const (
	orasValidAuths = `{"auths":{
		"registry1.example.com":{"auth":"dXNlcm5hbWU6cGFzc3dvcmQ="},
		"registry2.example.com":{"identitytoken":"identity_token"},
		"registry3.example.com":{"registrytoken":"registry_token"},
		"registry4.example.com":{"auth":"dXNlcm5hbWU6cGFzc3dvcmQ=","identitytoken":"identity_token","registrytoken":"registry_token"},
		"registry5.example.com":{},
		"registry6.example.com":{"username":"username","password":"password"},
		"registry7.example.com":{"auth":"dXNlcm5hbWU6cGFzc3dvcmQ=","username":"foo","password":"bar"}}}`
	orasLegacyAuths = `{"auths":{
		"registry1.example.com":{"auth":"dXNlcm5hbWUxOnBhc3N3b3JkMQ=="},
		"http://registry2.example.com":{"auth":"dXNlcm5hbWUyOnBhc3N3b3JkMg=="},
		"https://registry3.example.com":{"auth":"dXNlcm5hbWUzOnBhc3N3b3JkMw=="},
		"http://registry4.example.com/":{"auth":"dXNlcm5hbWU0OnBhc3N3b3JkNA=="},
		"https://registry5.example.com/":{"auth":"dXNlcm5hbWU1OnBhc3N3b3JkNQ=="},
		"https://registry6.example.com/path/":{"auth":"dXNlcm5hbWU2OnBhc3N3b3JkNg=="},
		"https://registry1.example.com/":{"auth":"Zm9vOmJhcg=="}}}`
	orasInvalidEntries = `{"auths":{
		"registry1.example.com":{"auth":"username:password"},
		"registry2.example.com":"whatever",
		"registry3.example.com":{"identitytoken":123}}}`
)

func TestOrasConfigTables(t *testing.T) {
	type cred struct{ user, pass, identity, registry string }
	rows := []struct {
		source  string
		config  string
		host    string
		want    *cred // nil: oras-go returns the empty credential
		err     bool  // oras-go returns an error: Helm stops there
		differs string
	}{
		{source: "TestConfig_GetCredential_validConfig Username and password", config: orasValidAuths, host: "registry1.example.com", want: &cred{user: "username", pass: "password"}},
		{source: "TestConfig_GetCredential_validConfig Identity token", config: orasValidAuths, host: "registry2.example.com", want: &cred{identity: "identity_token"}},
		{source: "TestConfig_GetCredential_validConfig Registry token", config: orasValidAuths, host: "registry3.example.com", want: &cred{registry: "registry_token"}},
		{source: "TestConfig_GetCredential_validConfig Username and password, identity token and registry token", config: orasValidAuths, host: "registry4.example.com",
			want: &cred{user: "username", pass: "password", identity: "identity_token", registry: "registry_token"}},
		{source: "TestConfig_GetCredential_validConfig Empty credential", config: orasValidAuths, host: "registry5.example.com", differs: "OR-2"},
		{source: "TestConfig_GetCredential_validConfig Username and password, no auth", config: orasValidAuths, host: "registry6.example.com", want: &cred{user: "username", pass: "password"}},
		{source: "TestConfig_GetCredential_validConfig Auth overriding Username and password", config: orasValidAuths, host: "registry7.example.com", want: &cred{user: "username", pass: "password"}},
		{source: "TestConfig_GetCredential_validConfig Not in auths", config: orasValidAuths, host: "foo.example.com"},
		{source: "TestConfig_GetCredential_validConfig No record", config: orasValidAuths, host: "registry999.example.com"},
		{source: "TestConfig_GetCredential_legacyConfig Regular address matched", config: orasLegacyAuths, host: "registry1.example.com", want: &cred{user: "username1", pass: "password1"}},
		{source: "TestConfig_GetCredential_legacyConfig Another entry for the same address matched", config: orasLegacyAuths, host: "https://registry1.example.com/",
			want: &cred{user: "foo", pass: "bar"}, differs: "OR-1"},
		{source: "TestConfig_GetCredential_legacyConfig Address with different scheme unmached", config: orasLegacyAuths, host: "http://registry1.example.com/", differs: "OR-1"},
		{source: "TestConfig_GetCredential_legacyConfig Address with http prefix matched", config: orasLegacyAuths, host: "registry2.example.com", want: &cred{user: "username2", pass: "password2"}},
		{source: "TestConfig_GetCredential_legacyConfig Address with https prefix matched", config: orasLegacyAuths, host: "registry3.example.com", want: &cred{user: "username3", pass: "password3"}},
		{source: "TestConfig_GetCredential_legacyConfig Address with http prefix and / suffix matched", config: orasLegacyAuths, host: "registry4.example.com", want: &cred{user: "username4", pass: "password4"}},
		{source: "TestConfig_GetCredential_legacyConfig Address with https prefix and / suffix matched", config: orasLegacyAuths, host: "registry5.example.com", want: &cred{user: "username5", pass: "password5"}},
		{source: "TestConfig_GetCredential_legacyConfig Address with https prefix and path suffix matched", config: orasLegacyAuths, host: "registry6.example.com", want: &cred{user: "username6", pass: "password6"}},
		{source: "TestConfig_GetCredential_invalidConfig Invalid auth encode", config: orasInvalidEntries, host: "registry1.example.com", err: true},
		{source: "TestConfig_GetCredential_invalidConfig Invalid auths format", config: orasInvalidEntries, host: "registry2.example.com", err: true},
		{source: "TestConfig_GetCredential_invalidConfig Invalid type", config: orasInvalidEntries, host: "registry3.example.com", err: true},
		{source: "TestConfig_GetCredential_empty Not found", config: "", host: "registry.example.com"},
		{source: "TestConfig_GetCredential_whiteSpace Not found", config: " \t\r\n", host: "registry.example.com"},
	}
	for _, r := range rows {
		t.Run(r.source, func(t *testing.T) {
			f := newFixture(t, "", "")
			writeFile(t, filepath.Join(f.home, ".config", "helm", "registry", "config.json"), r.config)
			got := f.local(LocalOptions{HelmMode: true}).Lookup(context.Background(), r.host)
			var have *cred
			if len(got.Credentials) > 0 {
				c := got.Credentials[0]
				have = &cred{c.Username, c.Password, c.IdentityToken, c.RegistryToken}
			}
			agrees := len(got.Credentials) <= 1 && (have == nil) == (r.want == nil) && (have == nil || *have == *r.want)
			if r.err {
				agrees = agrees && got.Halted && malformed(got.Problems)
			} else {
				agrees = agrees && !got.Halted && len(got.Problems) == 0
			}
			switch {
			case r.differs == "" && !agrees:
				t.Fatalf("%s%s: credential %+v halted %v problems %+v; oras-go: %+v (error %v)", orasConfigTest, r.source, have, got.Halted, got.Problems, r.want, r.err)
			case r.differs != "" && agrees:
				t.Fatalf("marked %s but agrees now: drop the mark", r.differs)
			case r.differs != "":
				requireListedDifference(t, r.differs)
			}
		})
	}
}
