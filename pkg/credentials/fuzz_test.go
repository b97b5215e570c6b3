package credentials

import (
	"fmt"
	"strings"
	"testing"
)

// Real-world shapes of dockerconfigjson and dockercfg payloads.
var configSeeds = []string{
	`{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"}}}`,
	`{"auths":{"ghcr.io":{"username":"u","password":"p","email":"u@example.com","auth":"dTpw"}}}`,
	`{"auths":{"123456789012.dkr.ecr.us-east-1.amazonaws.com":{}},"credHelpers":{"123456789012.dkr.ecr.us-east-1.amazonaws.com":"ecr-login"}}`,
	`{"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop","currentContext":"default"}`,
	`{"auths":{"myregistry.azurecr.io":{"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"eyJhbGciOi"}}}`,
	`{"auths":{"quay.io":{"auth":"dXNlcjpwOmE6czpz"}},"HttpHeaders":{"User-Agent":"Docker-Client"}}`,
	`{"auths":{"r.io":{"registrytoken":"tok"}}}`,
	`{"auths":{"r.io":{"auth":"!!!"}}}`,
	`{"auths":{"r.io":"x"}}`,
	`{"auths":null}`,
	`{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz","email":"a@b"}}`,
	`{"*.example.com:5000/team":{"username":"u","password":"p"}}`,
	``, `{`, `null`, `[]`, `"auths"`,
}

func FuzzParseDockerConfigJSON(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, problems := ParseDockerConfigJSON(data, src)
		checkParsed(t, data, entries, problems)
	})
}

func FuzzParseDockerCfg(f *testing.F) {
	for _, s := range configSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, problems := ParseDockerCfg(data, src)
		checkParsed(t, data, entries, problems)
	})
}

// checkParsed holds for every payload: entries are usable and sourced,
// problems explain themselves and quote nothing of a credential.
func checkParsed(t *testing.T, data []byte, entries []Entry, problems []Problem) {
	for _, e := range entries {
		c := e.Credential
		if c.Source != src || c.Key != e.Key {
			t.Fatalf("entry %q: source %q key %q", e.Key, c.Source, c.Key)
		}
		if c.IdentityToken == "" && c.RegistryToken == "" && (c.Username == "" || c.Password == "") {
			t.Fatalf("entry %q is incomplete yet returned", e.Key)
		}
		for _, secret := range []string{c.Password, c.IdentityToken, c.RegistryToken} {
			if len(secret) >= 6 && strings.Contains(fmt.Sprintf("%v %+v %#v", e, c, c), secret) {
				t.Fatalf("entry %q shows its secret", e.Key)
			}
		}
	}
	for _, p := range problems {
		if p.Message == "" || p.Remedy == "" || p.Reason == "" {
			t.Fatalf("problem without message, remedy or reason: %+v", p)
		}
	}
	_ = lookupImage(NewKeyring(entries...), "registry.example.com/app")
}
