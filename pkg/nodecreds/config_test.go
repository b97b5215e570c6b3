package nodecreds

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The shape EKS's node bootstrap writes (ecr-credential-provider), in
// YAML, and a JSON one with two providers.
const eksConfig = `apiVersion: kubelet.config.k8s.io/v1
kind: CredentialProviderConfig
providers:
  - name: ecr-credential-provider
    matchImages:
      - "*.dkr.ecr.*.amazonaws.com"
      - "*.dkr.ecr.*.amazonaws.com.cn"
    defaultCacheDuration: "12h"
    apiVersion: credentialprovider.kubelet.k8s.io/v1
`

func TestParseConfig(t *testing.T) {
	got, err := ParseConfig([]byte(eksConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := []Provider{{Name: "ecr-credential-provider", MatchImages: []string{"*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	js := `{"apiVersion":"kubelet.config.k8s.io/v1","kind":"CredentialProviderConfig","providers":[
	  {"name":"acr","matchImages":["*.azurecr.io"],"defaultCacheDuration":"10m","apiVersion":"credentialprovider.kubelet.k8s.io/v1","args":["--x"],"env":[{"name":"A","value":"b"}]},
	  {"name":"local","matchImages":["127.0.0.1:5000/private"],"defaultCacheDuration":"0s","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}]}`
	got, err = ParseConfig([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "acr" || got[1].MatchImages[0] != "127.0.0.1:5000/private" {
		t.Errorf("got %+v", got)
	}
}

func TestParseConfigRefusals(t *testing.T) {
	for _, r := range []struct {
		name, data string
		reason     ConfigReason
		says       string
	}{
		{"unknown field", strings.Replace(eksConfig, "matchImages:", "matchImage:", 1), ConfigUnknownField, "matchImage"},
		{"duplicate field", eksConfig + "providers: []\n", ConfigUnknownField, "providers"},
		{"wrong kind", strings.Replace(eksConfig, "CredentialProviderConfig", "KubeletConfiguration", 1), ConfigWrongKind, "KubeletConfiguration"},
		{"old version", strings.Replace(eksConfig, "kubelet.config.k8s.io/v1\nkind", "kubelet.config.k8s.io/v1alpha1\nkind", 1), ConfigWrongKind, "v1alpha1"},
		{"no kind", "providers: []\n", ConfigWrongKind, "kind"},
		{"not yaml", "apiVersion: [", ConfigMalformed, ""},
		{"wrong type", strings.Replace(eksConfig, `defaultCacheDuration: "12h"`, "defaultCacheDuration: [1]", 1), ConfigMalformed, ""},
		{"no providers", "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders: []\n", ConfigInvalid, "at least 1 provider"},
		{"no matchImages", strings.Replace(eksConfig, "    matchImages:\n      - \"*.dkr.ecr.*.amazonaws.com\"\n      - \"*.dkr.ecr.*.amazonaws.com.cn\"\n", "", 1), ConfigInvalid, "matchImages"},
		{"name with slash", strings.Replace(eksConfig, "name: ecr-credential-provider", "name: bin/ecr", 1), ConfigInvalid, "bin/ecr"},
		{"bad pattern", strings.Replace(eksConfig, `"*.dkr.ecr.*.amazonaws.com.cn"`, `"%zz"`, 1), ConfigInvalid, "%zz"},
	} {
		t.Run(r.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(r.data))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if ce.Reason != r.reason || !strings.Contains(err.Error(), r.says) {
				t.Errorf("reason %s, error %q; want %s saying %q", ce.Reason, err, r.reason, r.says)
			}
			if testing.Verbose() {
				t.Log(err)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(eksConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil || len(got) != 1 || got[0].From != path {
		t.Fatalf("LoadConfig = %+v, %v", got, err)
	}
	_, err = LoadConfig(filepath.Join(dir, "missing.yaml"))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Reason != ConfigUnreadable || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("kind: Pod\napiVersion: v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(bad); !errors.As(err, &ce) || ce.Path != bad || ce.Reason != ConfigWrongKind {
		t.Errorf("wrong kind: %v", err)
	}
}
