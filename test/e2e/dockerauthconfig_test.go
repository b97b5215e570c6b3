package e2e

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestAuthDockerAuthConfig: `kubectl regcheck auth` honours
// DOCKER_AUTH_CONFIG as docker/cli v29 does (before config.json, exact
// server address), against a real basic-auth registry.
func TestAuthDockerAuthConfig(t *testing.T) {
	s := newSandbox(t)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthBasic})
	if _, err := env.PushRandomImage(reg, "team/app", "1.0", "admin"); err != nil {
		t.Fatal(err)
	}
	anonymous := filepath.Join(s.Dir, "docker-anonymous", "config.json")
	writeDockerConfig(t, anonymous, reg, "")
	envFor := func(user, pass string) string {
		b, err := json.Marshal(map[string]any{"auths": map[string]any{
			reg.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))},
		}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	image := reg.Host + "/team/app:1.0"

	r, res := runJSON(t, s.With("DOCKER_AUTH_CONFIG="+envFor("reader", readerPass)), "", "kubectl", "regcheck", "auth", image, "--plain-http", "--docker-config", anonymous)
	if res.Code != 0 {
		t.Errorf("exit %d: %s", res.Code, dump(r))
	}
	got := expect(t, r, report.CheckRegistryPull, report.StatusPass, report.ReasonOk)
	if got.CredentialSource != "docker-auth-config" {
		t.Errorf("credentialSource = %q, want docker-auth-config", got.CredentialSource)
	}
	cred := expect(t, r, report.CheckRegistryCredentials, report.StatusPass, report.ReasonOk)
	if cred.Evidence["credentialKey"] != reg.Host {
		t.Errorf("evidence.credentialKey = %v, want %s", cred.Evidence["credentialKey"], reg.Host)
	}

	r, res = runJSON(t, s.With("DOCKER_AUTH_CONFIG="+envFor("reader", "wrong")), "", "kubectl", "regcheck", "auth", image, "--plain-http", "--docker-config", anonymous)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1: %s", res.Code, dump(r))
	}
	bad := expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonInvalidCredentials)
	if !strings.Contains(bad.Remedy, "DOCKER_AUTH_CONFIG") {
		t.Errorf("remedy %q does not name DOCKER_AUTH_CONFIG", bad.Remedy)
	}
	if strings.Contains(res.Stdout+res.Stderr, readerPass) {
		t.Error("the password shows in the output")
	}

	// docker never reads Helm's registry config: with its own login for
	// the host refused, a good Helm login is not tried after it.
	helm := filepath.Join(s.Dir, "helm", "registry", "config.json")
	writeDockerConfig(t, helm, reg, "reader")
	r, res = runJSON(t, s.With("DOCKER_AUTH_CONFIG="+envFor("reader", "wrong")), "", "kubectl", "regcheck", "auth", image, "--plain-http", "--docker-config", anonymous, "--registry-config", helm)
	if res.Code != 1 {
		t.Errorf("exit %d, want 1: %s", res.Code, dump(r))
	}
	bad = expect(t, r, report.CheckRegistryCredentials, report.StatusFail, report.ReasonInvalidCredentials)
	if bad.CredentialSource != "docker-auth-config" {
		t.Errorf("credentialSource = %q, want docker-auth-config (docker's login, the one docker sends)", bad.CredentialSource)
	}
}
