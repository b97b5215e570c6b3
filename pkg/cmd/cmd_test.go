package cmd

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// runCmd runs the whole command tree in-process with test streams.
func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	getenv := func(k string) string { return env[k] }
	code = Execute(context.Background(), streams, args, getenv)
	return out.String(), errOut.String(), code
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"version"}, "", 0, "regcheck dev", ""},
		{"version json", []string{"version", "-o", "json"}, "", 0, `"goVersion"`, ""},
		{"unknown flag", []string{"auth", "x", "--bogus"}, "", 2, "", "unknown flag: --bogus"},
		{"bad output format", []string{"auth", "example.com/a:1", "-o", "xml"}, "", 2, "", "unknown output format"},
		{"bad fail-on", []string{"auth", "example.com/a:1", "--fail-on", "never"}, "", 2, "", "--fail-on"},
		{"password-stdin needs username", []string{"auth", "example.com/a:1", "--password-stdin"}, "pw\n", 2, "", "--password-stdin needs --username"},
		{"empty stdin", []string{"auth", "example.com/a:1", "--username", "u", "--password-stdin"}, "", 2, "", "stdin is empty"},
		{"plain-http with ca-file", []string{"auth", "example.com/a:1", "--plain-http", "--ca-file", "x.pem"}, "", 2, "", "--plain-http cannot"},
		{"auth needs an image", []string{"auth"}, "", 2, "", "requires at least 1 arg"},
		{"push-auth needs oci://", []string{"push-auth", "example.com/charts"}, "", 2, "", "must start with oci://"},
		{"pull-auth needs a version", []string{"pull-auth", "oci://example.com/charts/app"}, "", 2, "", "give the chart version"},
		{"pull-auth needs a version, a port is none", []string{"pull-auth", "oci://localhost:5000/app"}, "", 2, "", "give the chart version"},
		{"bare digest is a finding, not a crash", []string{"auth", "sha256:" + strings.Repeat("a", 64)}, "", 1, "InvalidReference", ""},
		// Issue 12 item 5, issue 22 item 5: named at once, no lookup of a host.
		{"uppercase repository", []string{"auth", "UPPER/case:1"}, "", 1, "repository name (UPPER/case) must be lowercase", ""},
		{"short bare digest", []string{"auth", "sha256:abc"}, "", 1, "a bare digest names no repository: sha256:abc", ""},
		{"a URL scheme", []string{"auth", "https://gcr.io/foo/bar"}, "", 1, "https:// is a URL scheme; an image reference has none", ""},
		{"unknown workload type", []string{"scan", "widget/x"}, "", 2, "", "widget"},
		// Parsed before the cluster is asked, as labels.Parse parses it:
		// never a 400 from the API server blamed on the server.
		{"bad label selector", []string{"scan", "-A", "-l", "app in ("}, "", 2, "", `error: invalid label selector "app in (": unable to parse requirement`},
		{"bad label selector, doctor", []string{"doctor", "-l", "a=b,"}, "", 2, "", `error: invalid label selector "a=b,"`},
		// serve's flags end before a port is bound or the cluster asked.
		{"serve interval", []string{"serve", "--interval", "0s"}, "", 2, "", "--interval must be positive"},
		{"serve listen", []string{"serve", "--listen", "8080"}, "", 2, "", `--listen "8080"`},
		{"serve selector", []string{"serve", "-l", "app in ("}, "", 2, "", `invalid label selector "app in ("`},
		{"serve takes no workloads", []string{"serve", "deploy/web"}, "", 2, "", "unknown command"},
		// --contexts: refused before any cluster is asked.
		{"contexts and context", []string{"scan", "--contexts", "a,b", "--context", "a"}, "", 2, "", "--context reads one context"},
		{"contexts and all-contexts", []string{"scan", "--contexts", "a", "--all-contexts"}, "", 2, "", "exclusive"},
		{"context named twice", []string{"scan", "--contexts", "a,a"}, "", 2, "", `"a" is named twice`},
		{"doctor contexts without workloads", []string{"doctor", "--contexts", "a", "--registry", "example.com"}, "", 2, "", "--contexts and --all-contexts read workloads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCmd(t, map[string]string{"HOME": t.TempDir()}, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tc.stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr:\n%s", stderr)
			}
		})
	}
}

func TestHelmEnvironmentDefaults(t *testing.T) {
	env := map[string]string{
		"HELM_PLUGIN_NAME":     "regcheck",
		"HELM_NAMESPACE":       "shop",
		"HELM_KUBECONTEXT":     "prod",
		"HELM_REGISTRY_CONFIG": "/etc/helm/registry.json",
		"HELM_DEBUG":           "true",
	}
	o := NewCommonOptions(genericiooptions.NewTestIOStreamsDiscard(), func(k string) string { return env[k] })
	if !o.HelmMode {
		t.Fatal("HELM_PLUGIN_NAME should select Helm mode")
	}
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(flags)
	if err := flags.Parse([]string{"--context", "staging"}); err != nil {
		t.Fatal(err)
	}
	if err := o.Complete(flags); err != nil {
		t.Fatal(err)
	}
	if got := *o.ConfigFlags.Namespace; got != "shop" {
		t.Errorf("namespace = %q, want HELM_NAMESPACE", got)
	}
	if got := *o.ConfigFlags.Context; got != "staging" {
		t.Errorf("context = %q: a flag wins over HELM_KUBECONTEXT", got)
	}
	if !o.Debug {
		t.Errorf("debug %v: want HELM_DEBUG's", o.Debug)
	}
	// HELM_REGISTRY_CONFIG is not --registry-config: Helm sets it for every
	// plugin, and package credentials decides whether the user named it.
	if o.RegistryConfig != "" {
		t.Errorf("registry config %q: HELM_REGISTRY_CONFIG must not become the flag", o.RegistryConfig)
	}
}

// TestHelmNeverLoggedIn is a Helm user who never ran helm registry login:
// Helm passes its default HELM_REGISTRY_CONFIG, which does not exist.
// That is "not logged in", never a failure.
func TestHelmNeverLoggedIn(t *testing.T) {
	home := t.TempDir()
	env := map[string]string{
		"HOME":                 home,
		"HELM_BIN":             "helm",
		"HELM_PLUGIN_NAME":     "regcheck",
		"HELM_CONFIG_HOME":     home + "/.config/helm",
		"HELM_REGISTRY_CONFIG": home + "/.config/helm/registry/config.json",
	}
	stdout, stderr, code := runCmd(t, env, "", "creds", "-o", "json")
	if code != 0 || strings.Contains(stdout, `"status": "fail"`) {
		t.Errorf("creds: exit %d, want 0 and no fail\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	// helm --registry-config PATH reaches the plugin as HELM_REGISTRY_CONFIG.
	env["HELM_REGISTRY_CONFIG"] = home + "/typo.json"
	stdout, _, code = runCmd(t, env, "", "creds", "-o", "json")
	if code != 1 || !strings.Contains(stdout, "CredentialsUnreadable") || !strings.Contains(stdout, "typo.json does not exist") {
		t.Errorf("creds with a registry config the user named: exit %d, want 1 and CredentialsUnreadable\n%s", code, stdout)
	}
}

func TestUsageSaysKubectlOrHelm(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "kubectl regcheck"},
		{map[string]string{"HELM_BIN": "helm"}, "helm regcheck"},
	} {
		stdout, _, code := runCmd(t, tc.env, "", "--help")
		if code != 0 || !strings.Contains(stdout, tc.want+" [command]") {
			t.Errorf("help under %v: exit %d, want usage %q:\n%s", tc.env, code, tc.want, stdout)
		}
	}
}

func TestColor(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"--color", "always"}, nil, true},
		{[]string{"--color", "always"}, map[string]string{"NO_COLOR": "1"}, true},
		{[]string{"--color", "never"}, nil, false},
		{nil, nil, false}, // auto, and the test's stdout is not a terminal
	} {
		args := append([]string{"auth", "sha256:" + strings.Repeat("b", 64)}, tc.args...)
		stdout, _, _ := runCmd(t, tc.env, "", args...)
		if got := strings.Contains(stdout, "\x1b["); got != tc.want {
			t.Errorf("%v %v: colour %v, want %v:\n%q", tc.args, tc.env, got, tc.want, stdout)
		}
	}
	if _, stderr, code := runCmd(t, nil, "", "version", "--color", "sometimes"); code != 2 || !strings.Contains(stderr, "--color") {
		t.Errorf("--color sometimes: exit %d, %q", code, stderr)
	}
}

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := dir + "/config"
	cfg := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: prod, context: {cluster: c, user: u}}, {name: dev, context: {cluster: c, user: u}}]\ncurrent-context: dev\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _, _ := runCmd(t, map[string]string{"HOME": dir}, "", "__complete", "scan", "--kubeconfig", kubeconfig, "--context", "")
	if !strings.Contains(stdout, "dev\nprod\n") {
		t.Errorf("contexts not completed:\n%s", stdout)
	}
	stdout, _, _ = runCmd(t, map[string]string{"HOME": dir}, "", "__complete", "scan", "")
	if !strings.Contains(stdout, "deploy/\nsts/") {
		t.Errorf("workload types not completed:\n%s", stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out, _, code := runCmd(t, nil, "", "completion", shell); code != 0 || !strings.Contains(out, "regcheck") {
			t.Errorf("completion %s: exit %d", shell, code)
		}
	}
}
