package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestNoSecretInAnyOutput runs every command in every output format,
// plain and with --debug, against a token-auth registry and a cluster pull
// secret holding passwords with characters special to JSON and shells, and
// asserts that no password, base64 user:pass, JSON-escaped password or
// JWT reaches stdout or stderr.
func TestNoSecretInAnyOutput(t *testing.T) {
	c := sharedCluster(t)
	s := newSandbox(t).With("KUBECONFIG=" + c.Kubeconfig)
	reg := startRegistry(t, env.RegistryOptions{Auth: env.AuthToken})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pushed, err := env.PushRandomImage(reg, "team/app", "1.0", "admin")
	if err != nil {
		t.Fatal(err)
	}
	const ns = "secrets-e2e"
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Admin.CoreV1().Secrets(ns).Create(ctx, env.DockerConfigSecret(ns, "regcred", dockerConfigJSON(t, reg.Host, "admin", adminPass)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunDeployment(ctx, ns, "app", 1, spec1(pushed.Ref, "regcred"), "", func(int) map[string]string {
		return map[string]string{"app": pushed.DigestRef}
	}); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(s.Dir, "docker-admin")
	writeDockerConfig(t, filepath.Join(docker, "config.json"), reg, "admin")
	helmCfg := filepath.Join(s.Dir, "helm-reader.json")
	writeDockerConfig(t, helmCfg, reg, "reader")
	s = s.With("HELM_REGISTRY_CONFIG=" + helmCfg)

	var secrets []string
	for user, u := range testUsers {
		escaped, _ := json.Marshal(u.Password)
		secrets = append(secrets, u.Password,
			strings.Trim(string(escaped), `"`),
			base64.StdEncoding.EncodeToString([]byte(user+":"+u.Password)),
			base64.StdEncoding.EncodeToString([]byte(u.Password)))
	}
	// Every JWT starts with a base64 JSON header: {"  → eyJ.
	secrets = append(secrets, "eyJ")

	type command struct {
		stdin string
		name  string
		args  []string
	}
	image := pushed.Ref
	commands := []command{
		{"", "kubectl", []string{"regcheck", "auth", image, "--push", "--docker-config", docker}},
		{adminPass + "\n", "kubectl", []string{"regcheck", "auth", image, "--push", "--username", "admin", "--password-stdin"}},
		{"wrong\n", "kubectl", []string{"regcheck", "auth", image, "--username", "admin", "--password-stdin"}},
		{"", "kubectl", []string{"regcheck", "auth", image, "-n", ns, "--pull-secret", "regcred"}},
		{"", "kubectl", []string{"regcheck", "creds", "--docker-config", docker}},
		{"", "kubectl", []string{"regcheck", "-n", ns}},
		{"", "helm", []string{"regcheck", "push-auth", "oci://" + reg.Host + "/charts", "--chart", "app"}},
		{"", "helm", []string{"regcheck", "pull-auth", "oci://" + reg.Host + "/team/app:1.0"}},
	}
	for _, cmd := range commands {
		for _, format := range []string{"table", "wide", "json", "yaml", "markdown"} {
			for _, debug := range []bool{false, true} {
				args := append(append([]string(nil), cmd.args...), "--plain-http", "-o", format)
				if debug {
					args = append(args, "--debug")
				}
				res := run(t, s, cmd.stdin, cmd.name, args...)
				if res.Code == 2 || res.Stdout == "" {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q", cmd.name, strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
				}
				// creds reads local files only: nothing to trace.
				if debug && cmd.args[1] != "creds" && !strings.Contains(res.Stderr, "GET") {
					t.Errorf("%s %s: --debug traced nothing:\n%s", cmd.name, strings.Join(args, " "), res.Stderr)
				}
				for _, secret := range secrets {
					for stream, out := range map[string]string{"stdout": res.Stdout, "stderr": res.Stderr} {
						if strings.Contains(out, secret) {
							t.Errorf("%s %s: %s holds a secret (%d chars starting %q)", cmd.name, strings.Join(args, " "), stream, len(secret), secret[:2])
						}
					}
				}
			}
		}
	}
}
