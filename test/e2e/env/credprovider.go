package env

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// CredentialProviderName is the name of the tests' kubelet credential
// provider plugin, as the CredentialProviderConfig and regcheck's
// credentialSource (credential-provider/NAME) say it.
const CredentialProviderName = "regcheck-test-credential-provider"

// WriteCredentialProvider builds ./test/e2e/env/credplugin into dir/bin as
// CredentialProviderName and writes dir/credential-provider.yaml, a
// CredentialProviderConfig (kubelet.config.k8s.io/v1) whose one provider
// matches host and answers with user and password. It returns the config
// path and the plugin directory, for NodeOptions and for regcheck's
// --image-credential-provider-config.
func WriteCredentialProvider(dir, host, user, password string) (config, binDir string, err error) {
	root, err := RepoRoot()
	if err != nil {
		return "", "", err
	}
	binDir = filepath.Join(dir, "bin")
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(binDir, CredentialProviderName), "./test/e2e/env/credplugin")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("building the credential provider plugin: %w\n%s", err, out)
	}
	cfg := map[string]any{
		"apiVersion": "kubelet.config.k8s.io/v1",
		"kind":       "CredentialProviderConfig",
		"providers": []any{map[string]any{
			"name":                 CredentialProviderName,
			"apiVersion":           "credentialprovider.kubelet.k8s.io/v1",
			"matchImages":          []string{host},
			"defaultCacheDuration": "1s",
			"env": []map[string]string{
				{"name": "REGCHECK_PLUGIN_USER", "value": user},
				{"name": "REGCHECK_PLUGIN_PASSWORD", "value": password},
			},
		}},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return "", "", err
	}
	config = filepath.Join(dir, "credential-provider.yaml")
	if err := os.WriteFile(config, b, 0o600); err != nil {
		return "", "", err
	}
	return config, binDir, nil
}
