package credentials

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// localFixture is a sandboxed home with Docker and Helm configs.
type localFixture struct {
	home, helpers string
	env           map[string]string
}

func newFixture(t *testing.T, dockerConfig, helmConfig string) *localFixture {
	t.Helper()
	f := &localFixture{home: t.TempDir(), helpers: helperDir(t), env: map[string]string{}}
	if dockerConfig != "" {
		writeFile(t, filepath.Join(f.home, ".docker", "config.json"), dockerConfig)
	}
	if helmConfig != "" {
		writeFile(t, filepath.Join(f.home, ".config", "helm", "registry", "config.json"), helmConfig)
	}
	return f
}

func (f *localFixture) local(opts LocalOptions) *Local {
	opts.HomeDir = f.home
	if opts.Getenv == nil {
		opts.Getenv = env(f.env)
	}
	return NewLocal(opts)
}

func sources(creds []Credential) []string {
	var out []string
	for _, c := range creds {
		out = append(out, c.Source+"="+c.Username)
	}
	return out
}

func reasons(problems []Problem) []report.Reason {
	var out []report.Reason
	for _, p := range problems {
		out = append(out, p.Reason)
	}
	return out
}

func authsJSON(entries map[string]string) string {
	var parts []string
	for key, userpass := range entries {
		parts = append(parts, jsonString(key)+`:{"auth":"`+b64(userpass)+`"}`)
	}
	return `{"auths":{` + strings.Join(parts, ",") + `}}`
}

func TestLocalLookupOrder(t *testing.T) {
	docker := authsJSON(map[string]string{"https://index.docker.io/v1/": "dockerhub:pw", "r.io": "dockerr:pw"})
	helm := authsJSON(map[string]string{"r.io": "helmr:pw", "https://registry-1.docker.io": "helmhub:pw", "h.io": "helmh:pw"})
	tests := []struct {
		name      string
		opts      LocalOptions
		host      string
		wantCreds []string
		wantTried []string
	}{
		{
			// Docker never reads Helm's registry config: with a Docker
			// entry for the host, Helm's is not tried after it.
			name:      "docker mode: docker's entry, helm's not consulted",
			host:      "r.io",
			wantCreds: []string{"docker-config=dockerr"},
			wantTried: []string{"docker-config"},
		},
		{
			name:      "docker mode: helm's when docker has nothing",
			host:      "h.io",
			wantCreds: []string{"helm-registry-config=helmh"},
			wantTried: []string{"docker-config", "helm-registry-config"},
		},
		{
			// oras-go's NewStoreWithFallbacks: Docker's config only when
			// Helm's holds nothing for the host.
			name:      "helm mode: helm's entry, docker's not consulted",
			opts:      LocalOptions{HelmMode: true},
			host:      "r.io",
			wantCreds: []string{"helm-registry-config=helmr"},
			wantTried: []string{"helm-registry-config"},
		},
		{
			name:      "helm mode: docker's when helm has nothing",
			opts:      LocalOptions{HelmMode: true},
			host:      "docker.io",
			wantCreds: []string{"docker-config=dockerhub"},
			wantTried: []string{"helm-registry-config", "docker-config"},
		},
		{
			// helm push --username --password sends them and never asks
			// its store: no config entry is tried after them.
			name:      "flags alone",
			opts:      LocalOptions{Username: "flaguser", Password: "flagpw"},
			host:      "r.io",
			wantCreds: []string{"flags=flaguser"},
			wantTried: []string{"flags"},
		},
		{
			// Docker and oras-go look Docker Hub up under
			// https://index.docker.io/v1/ or a key whose hostname is that;
			// "https://registry-1.docker.io" is neither.
			name:      "Docker Hub aliases",
			host:      "registry-1.docker.io",
			wantCreds: []string{"docker-config=dockerhub"},
			wantTried: []string{"docker-config"},
		},
		{
			name:      "scheme and path ignored",
			host:      "https://r.io/v2/",
			wantCreds: []string{"docker-config=dockerr"},
			wantTried: []string{"docker-config"},
		},
		{
			name:      "port is part of the host",
			host:      "r.io:5000",
			wantTried: []string{"docker-config", "helm-registry-config"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, docker, helm)
			got := f.local(tt.opts).Lookup(context.Background(), tt.host)
			if s := sources(got.Credentials); !reflect.DeepEqual(s, tt.wantCreds) {
				t.Errorf("credentials = %v, want %v", s, tt.wantCreds)
			}
			if !reflect.DeepEqual(Sources(got.Tried), tt.wantTried) {
				t.Errorf("tried = %v, want %v", got.Tried, tt.wantTried)
			}
			if len(got.Problems) != 0 {
				t.Errorf("problems: %v", got.Problems)
			}
		})
	}
}

func TestLocalConfigPaths(t *testing.T) {
	cfg := authsJSON(map[string]string{"r.io": "u:p"})
	t.Run("--docker-config directory", func(t *testing.T) {
		f := newFixture(t, "", "")
		dir := filepath.Join(t.TempDir(), "dc")
		writeFile(t, filepath.Join(dir, "config.json"), cfg)
		got := f.local(LocalOptions{DockerConfig: dir}).Lookup(context.Background(), "r.io")
		if len(got.Credentials) != 1 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("--docker-config file", func(t *testing.T) {
		f := newFixture(t, "", "")
		path := writeFile(t, filepath.Join(t.TempDir(), "my.json"), cfg)
		got := f.local(LocalOptions{DockerConfig: path}).Lookup(context.Background(), "r.io")
		if len(got.Credentials) != 1 {
			t.Errorf("got %v", got)
		}
	})
	t.Run("DOCKER_CONFIG", func(t *testing.T) {
		f := newFixture(t, "", "")
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "config.json"), cfg)
		f.env["DOCKER_CONFIG"] = dir
		got := f.local(LocalOptions{}).Lookup(context.Background(), "r.io")
		if len(got.Credentials) != 1 || got.Credentials[0].Source != SourceDockerConfig {
			t.Errorf("got %v", got)
		}
	})
	t.Run("--registry-config", func(t *testing.T) {
		f := newFixture(t, "", "")
		path := writeFile(t, filepath.Join(t.TempDir(), "reg.json"), cfg)
		got := f.local(LocalOptions{RegistryConfig: path}).Lookup(context.Background(), "r.io")
		if len(got.Credentials) != 1 || got.Credentials[0].Source != SourceHelmRegistryConfig {
			t.Errorf("got %v", got)
		}
	})
	for _, envVar := range []string{"HELM_REGISTRY_CONFIG", "HELM_CONFIG_HOME", "XDG_CONFIG_HOME"} {
		t.Run(envVar, func(t *testing.T) {
			f := newFixture(t, "", "")
			dir := t.TempDir()
			switch envVar {
			case "HELM_REGISTRY_CONFIG":
				f.env[envVar] = writeFile(t, filepath.Join(dir, "c.json"), cfg)
			case "HELM_CONFIG_HOME":
				writeFile(t, filepath.Join(dir, "registry", "config.json"), cfg)
				f.env[envVar] = dir
			case "XDG_CONFIG_HOME":
				writeFile(t, filepath.Join(dir, "helm", "registry", "config.json"), cfg)
				f.env[envVar] = dir
			}
			got := f.local(LocalOptions{}).Lookup(context.Background(), "r.io")
			if len(got.Credentials) != 1 || got.Credentials[0].Source != SourceHelmRegistryConfig {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestLocalProblems(t *testing.T) {
	tests := []struct {
		name   string
		docker string
		opts   func(t *testing.T) LocalOptions
		host   string
		want   []report.Reason
	}{
		{name: "no configs at all", host: "r.io"},
		{name: "empty file, as Helm tolerates", docker: " ", host: "r.io"},
		{name: "invalid JSON", docker: `{"auths":{`, host: "r.io", want: []report.Reason{report.ReasonMalformedCredentials}},
		{
			name:   "bad entry concerns its host only",
			docker: `{"auths":{"bad.io":{"auth":"***"},"r.io":{"auth":"` + b64("u:p") + `"}}}`,
			host:   "r.io",
		},
		{
			name:   "bad entry for this host",
			docker: `{"auths":{"bad.io":{"auth":"***"}}}`,
			host:   "bad.io",
			want:   []report.Reason{report.ReasonMalformedCredentials},
		},
		{name: "empty entry", docker: `{"auths":{"r.io":{}}}`, host: "r.io", want: []report.Reason{report.ReasonIncompleteCredentials}},
		{
			name: "--username without password",
			opts: func(*testing.T) LocalOptions { return LocalOptions{Username: "u"} },
			host: "r.io",
			want: []report.Reason{report.ReasonIncompleteCredentials},
		},
		{
			name: "password without --username",
			opts: func(*testing.T) LocalOptions { return LocalOptions{Password: "p"} },
			host: "r.io",
			want: []report.Reason{report.ReasonIncompleteCredentials},
		},
		{
			name: "--docker-config that does not exist",
			opts: func(t *testing.T) LocalOptions {
				return LocalOptions{DockerConfig: filepath.Join(t.TempDir(), "nope.json")}
			},
			host: "r.io",
			want: []report.Reason{report.ReasonCredentialsUnreadable},
		},
		{
			// Helm passes HELM_REGISTRY_CONFIG to every plugin, set to its
			// default path even for a user who never ran helm registry login.
			name: "Helm's default registry config that does not exist",
			opts: func(t *testing.T) LocalOptions {
				home := t.TempDir()
				return LocalOptions{HelmMode: true, Getenv: env(map[string]string{
					"HELM_CONFIG_HOME":     filepath.Join(home, "helm"),
					"HELM_REGISTRY_CONFIG": filepath.Join(home, "helm", "registry", "config.json"),
				})}
			},
			host: "r.io",
		},
		{
			// helm --registry-config PATH reaches a plugin only as
			// HELM_REGISTRY_CONFIG: Helm strips the flag from its arguments.
			name: "helm --registry-config that does not exist",
			opts: func(t *testing.T) LocalOptions {
				home := t.TempDir()
				return LocalOptions{HelmMode: true, Getenv: env(map[string]string{
					"HELM_CONFIG_HOME":     filepath.Join(home, "helm"),
					"HELM_REGISTRY_CONFIG": filepath.Join(home, "typo.json"),
				})}
			},
			host: "r.io",
			want: []report.Reason{report.ReasonCredentialsUnreadable},
		},
		{
			name: "--registry-config that does not exist",
			opts: func(t *testing.T) LocalOptions {
				return LocalOptions{RegistryConfig: filepath.Join(t.TempDir(), "nope.json")}
			},
			host: "r.io",
			want: []report.Reason{report.ReasonCredentialsUnreadable},
		},
		{
			name: "DOCKER_CONFIG without a config.json",
			opts: func(t *testing.T) LocalOptions {
				return LocalOptions{Getenv: env(map[string]string{"DOCKER_CONFIG": t.TempDir()})}
			},
			host: "r.io",
		},
		{name: "credHelpers helper missing", docker: `{"credHelpers":{"r.io":"absent"}}`, host: "r.io", want: []report.Reason{report.ReasonCredentialsUnreadable}},
		{name: "credsStore helper missing", docker: `{"credsStore":"absent"}`, host: "r.io", want: []report.Reason{report.ReasonCredentialsUnreadable}},
		{name: "helper name with a path", docker: `{"credsStore":"../../bin/sh"}`, host: "r.io", want: []report.Reason{report.ReasonCredentialsUnreadable}},
		{name: "helper that fails", docker: `{"credsStore":"fail"}`, host: "r.io", want: []report.Reason{report.ReasonCredentialsUnreadable}},
		{name: "helper that prints junk", docker: `{"credsStore":"junk"}`, host: "r.io", want: []report.Reason{report.ReasonCredentialsUnreadable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.docker, "")
			writeScript(t, f.helpers, "fail", "#!/bin/sh\nprintf '%s' "+shellQuote(secretHelper)+" >&2\nexit 3\n")
			writeScript(t, f.helpers, "junk", "#!/bin/sh\nprintf 'oops'\n")
			var opts LocalOptions
			if tt.opts != nil {
				opts = tt.opts(t)
			}
			got := f.local(opts).Lookup(context.Background(), tt.host)
			if r := reasons(got.Problems); !reflect.DeepEqual(r, tt.want) {
				t.Errorf("problems = %v, want %v", got.Problems, tt.want)
			}
			for _, p := range got.Problems {
				if p.Message == "" || p.Remedy == "" || p.Source == "" {
					t.Errorf("problem lacks message, remedy or source: %+v", p)
				}
			}
		})
	}
}

func TestLocalCredentialHelpers(t *testing.T) {
	f := newFixture(t, `{
		"auths": {"https://index.docker.io/v1/": {}, "plain.io": {"auth": "`+b64("plainuser:pw")+`"}, "store.io": {"auth": "`+b64("hidden:pw")+`"}},
		"credsStore": "store",
		"credHelpers": {"per.io": "per", "plain.io": ""}
	}`, "")
	fakeHelper(t, f.helpers, "store", map[string]string{
		dockerHubServerAddress: helperAnswerJSON(dockerHubServerAddress, "hubuser", secretHelper),
		"store.io":             helperAnswerJSON("store.io", helperTokenUser, secretToken),
	}, `{"https://index.docker.io/v1/":"hubuser","store.io":"<token>"}`)
	fakeHelper(t, f.helpers, "per", map[string]string{
		"per.io": helperAnswerJSON("per.io", "peruser", secretHelper),
	}, `{}`)
	l := f.local(LocalOptions{})
	ctx := context.Background()

	hub := l.Lookup(ctx, "docker.io")
	if len(hub.Credentials) != 1 || hub.Credentials[0].Username != "hubuser" || hub.Credentials[0].Password != secretHelper ||
		hub.Credentials[0].Source != "credential-helper/store" || hub.Credentials[0].Key != dockerHubServerAddress {
		t.Errorf("docker.io: %#v", hub)
	}
	// Helm's config is missing and PATH holds no keychain helper, so Helm's
	// side consults no helper.
	if want := []string{"docker-config", "credential-helper/store"}; !reflect.DeepEqual(Sources(hub.Tried), want) {
		t.Errorf("tried = %v, want %v", hub.Tried, want)
	}

	tok := l.Lookup(ctx, "store.io")
	if len(tok.Credentials) != 1 || tok.Credentials[0].IdentityToken != secretToken || tok.Credentials[0].Username != "" {
		t.Errorf("store.io: a helper's auths entry is hidden and <token> means an identity token: %#v", tok)
	}

	per := l.Lookup(ctx, "per.io")
	if s := sources(per.Credentials); !reflect.DeepEqual(s, []string{"credential-helper/per=peruser"}) {
		t.Errorf("per.io: %v", s)
	}

	none := l.Lookup(ctx, "unknown.io")
	if len(none.Credentials) != 0 || len(none.Problems) != 0 {
		t.Errorf("not found in a helper is no problem: %#v", none)
	}

	listed, problems := l.List(ctx)
	if len(problems) != 0 {
		t.Errorf("list problems: %v", problems)
	}
	// plain.io's credHelpers value is empty, which Docker ignores: credsStore
	// serves plain.io, so its auths entry is hidden.
	want := []Listed{
		{Host: "per.io", Username: "peruser", Source: "credential-helper/per", Kind: KindHelper},
		{Host: "docker.io", Username: "hubuser", Source: "credential-helper/store", Kind: KindHelper},
		{Host: "store.io", Username: "", Source: "credential-helper/store", Kind: KindHelper},
	}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("List =\n%v\nwant\n%v", listed, want)
	}
}

func TestLocalListKinds(t *testing.T) {
	f := newFixture(t, `{"auths":{
		"a.io":{"auth":"`+b64("au:pw")+`"},
		"i.io":{"username":"iu","identitytoken":"x"},
		"r.io":{"registrytoken":"y"},
		"bad.io":{"auth":"%"}}}`, "")
	listed, problems := f.local(LocalOptions{Username: "flag", Password: "pw"}).List(context.Background())
	want := []Listed{
		{Host: "*", Username: "flag", Source: SourceFlags, Kind: KindAuth},
		{Host: "a.io", Username: "au", Source: SourceDockerConfig, Kind: KindAuth},
		{Host: "i.io", Username: "iu", Source: SourceDockerConfig, Kind: KindIdentityToken},
		{Host: "r.io", Source: SourceDockerConfig, Kind: KindRegistryToken},
	}
	if !reflect.DeepEqual(listed, want) {
		t.Errorf("List =\n%v\nwant\n%v", listed, want)
	}
	if r := reasons(problems); !reflect.DeepEqual(r, []report.Reason{report.ReasonMalformedCredentials}) {
		t.Errorf("problems = %v", problems)
	}
}

func TestLocalHelperTimeout(t *testing.T) {
	f := newFixture(t, `{"credsStore":"slow"}`, "")
	if _, err := os.Stat("/bin/sleep"); err != nil {
		t.Skip("no /bin/sleep")
	}
	writeScript(t, f.helpers, "slow", "#!/bin/sh\nexec /bin/sleep 30\n")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := f.local(LocalOptions{}).Lookup(ctx, "r.io")
	if time.Since(start) > 10*time.Second {
		t.Errorf("helper ran %v despite the context", time.Since(start))
	}
	if r := reasons(got.Problems); !reflect.DeepEqual(r, []report.Reason{report.ReasonCredentialsUnreadable}) {
		t.Errorf("problems = %v", got.Problems)
	}
}

func TestLocalHelperCalledOncePerServer(t *testing.T) {
	f := newFixture(t, `{"credsStore":"count"}`, "")
	counter := filepath.Join(t.TempDir(), "calls")
	writeScript(t, f.helpers, "count", "#!/bin/sh\nprintf x >> "+shellQuote(counter)+"\nprintf '%s' "+
		shellQuote(helperAnswerJSON("r.io", "u", "p"))+"\n")
	l := f.local(LocalOptions{})
	for range 3 {
		if got := l.Lookup(context.Background(), "r.io"); len(got.Credentials) != 1 {
			t.Fatalf("got %v", got)
		}
	}
	if b, _ := os.ReadFile(counter); string(b) != "x" {
		t.Errorf("helper ran %d times, want once", len(b))
	}
}

func TestLocalNeverWritesConfig(t *testing.T) {
	helm := filepath.Join(t.TempDir(), "registry.json")
	f := newFixture(t, "", "")
	l := f.local(LocalOptions{RegistryConfig: helm, HelmMode: true})
	l.Lookup(context.Background(), "r.io")
	l.List(context.Background())
	if _, err := os.Stat(helm); !os.IsNotExist(err) {
		t.Errorf("registry config was created: %v", err)
	}
}

// DOCKER_AUTH_CONFIG as docker/cli v29 reads it (configfile
// GetCredentialsStore, parseEnvConfig): exact server address only, before
// config.json and helpers; Helm does not read it.
func TestLocalDockerAuthConfig(t *testing.T) {
	docker := authsJSON(map[string]string{"r.io": "dockerr:pw", "https://index.docker.io/v1/": "dockerhub:pw"})
	envHub := `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64("envhub:pw") + `"}}}`
	tests := []struct {
		name      string
		env       string
		opts      LocalOptions
		host      string
		wantCreds []string
		wantTried []string
		problem   report.Reason
	}{
		{name: "env entry hides config.json", env: `{"auths":{"r.io":{"auth":"` + b64("envr:pw") + `"}}}`, host: "r.io",
			wantCreds: []string{"docker-auth-config=envr"}, wantTried: []string{"docker-auth-config"}},
		{name: "Docker Hub under its v1 address", env: envHub, host: "docker.io",
			wantCreds: []string{"docker-auth-config=envhub"}, wantTried: []string{"docker-auth-config"}},
		{name: "exact key only: a scheme is another key", env: `{"auths":{"https://r.io":{"auth":"` + b64("envr:pw") + `"}}}`, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-config"}},
		{name: "no entry for the host", env: envHub, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-config"}},
		{name: "Helm does not read it", env: `{"auths":{"r.io":{"auth":"` + b64("envr:pw") + `"}}}`, host: "r.io", opts: LocalOptions{HelmMode: true},
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"helm-registry-config", "docker-config"}},
		{name: "flags alone", env: `{"auths":{"r.io":{"auth":"` + b64("envr:pw") + `"}}}`, host: "r.io", opts: LocalOptions{Username: "f", Password: "p"},
			wantCreds: []string{"flags=f"}, wantTried: []string{"flags"}},
		{name: "unknown field: docker ignores the variable", env: `{"auths":{"r.io":{"auth":"` + b64("envr:pw") + `","username":"x"}}}`, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-auth-config", "docker-config"}, problem: report.ReasonMalformedCredentials},
		{name: "entry without auth", env: `{"auths":{"r.io":{}}}`, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-auth-config", "docker-config"}, problem: report.ReasonMalformedCredentials},
		{name: "unpadded auth is refused by docker", env: `{"auths":{"r.io":{"auth":"` + strings.TrimRight(b64("envr:pw1"), "=") + `"}}}`, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-auth-config", "docker-config"}, problem: report.ReasonMalformedCredentials},
		{name: "two objects", env: `{"auths":{}} {}`, host: "r.io",
			wantCreds: []string{"docker-config=dockerr"}, wantTried: []string{"docker-auth-config", "docker-config"}, problem: report.ReasonMalformedCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, docker, "")
			f.env["DOCKER_AUTH_CONFIG"] = tt.env
			got := f.local(tt.opts).Lookup(context.Background(), tt.host)
			if s := sources(got.Credentials); !reflect.DeepEqual(s, tt.wantCreds) {
				t.Errorf("credentials = %v, want %v", s, tt.wantCreds)
			}
			if !reflect.DeepEqual(Sources(got.Tried), tt.wantTried) {
				t.Errorf("tried = %v, want %v", got.Tried, tt.wantTried)
			}
			var want []report.Reason
			if tt.problem != "" {
				want = []report.Reason{tt.problem}
			}
			if r := reasons(got.Problems); !reflect.DeepEqual(r, want) {
				t.Errorf("problems = %+v, want %v", got.Problems, want)
			}
		})
	}
}

// One host, several keys in one config: Docker's file store and oras-go use
// the exact key when present (even an empty entry, which sends nothing),
// else a key whose hostname is the host. Never several.
func TestLocalOneEntryPerConfig(t *testing.T) {
	tests := []struct {
		name, docker string
		host         string
		want         []string
		key          string
	}{
		{name: "exact key over a legacy URL key", host: "r.io",
			docker: authsJSON(map[string]string{"https://r.io/": "legacy:pw", "r.io": "exact:pw"}), want: []string{"docker-config=exact"}, key: "r.io"},
		{name: "legacy URL key when no exact one", host: "r.io",
			docker: authsJSON(map[string]string{"https://r.io/v1/": "legacy:pw"}), want: []string{"docker-config=legacy"}, key: "https://r.io/v1/"},
		{name: "an empty exact entry hides the legacy key: nothing is sent", host: "r.io",
			docker: `{"auths":{"r.io":{},"https://r.io":{"auth":"` + b64("legacy:pw") + `"}}}`},
		{name: "Docker Hub's exact key", host: "docker.io",
			docker: authsJSON(map[string]string{"https://index.docker.io/v1/": "hub:pw", "docker.io": "alias:pw"}), want: []string{"docker-config=hub"}, key: "https://index.docker.io/v1/"},
		{name: "two legacy keys: the first in key order", host: "r.io",
			docker: authsJSON(map[string]string{"https://r.io": "a:pw", "http://r.io": "b:pw"}), want: []string{"docker-config=b"}, key: "http://r.io"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newFixture(t, tt.docker, "").local(LocalOptions{}).Lookup(context.Background(), tt.host)
			if s := sources(got.Credentials); !reflect.DeepEqual(s, tt.want) {
				t.Fatalf("credentials = %v, want %v", s, tt.want)
			}
			if tt.key != "" && got.Credentials[0].Key != tt.key {
				t.Errorf("key = %q, want %q", got.Credentials[0].Key, tt.key)
			}
		})
	}
}

// TestLocalHelperFailureHalts: Docker and Helm stop at a credential
// helper's error, so the lookup stops there: no later config is read and
// the caller must not go on anonymously.
func TestLocalHelperFailureHalts(t *testing.T) {
	f := newFixture(t, `{"credsStore":"fail"}`, authsJSON(map[string]string{"r.io": "helmuser:pw"}))
	writeScript(t, f.helpers, "fail", "#!/bin/sh\necho 'no keyring' >&2\nexit 3\n")
	got := f.local(LocalOptions{}).Lookup(context.Background(), "r.io")
	if !got.Halted || len(got.Credentials) != 0 || !reflect.DeepEqual(reasons(got.Problems), []report.Reason{report.ReasonCredentialsUnreadable}) {
		t.Errorf("docker's helper fails: got %+v, want halted with its problem and no credential", got)
	}
	// Under Helm, Helm's own config answers first; Docker's is not asked.
	got = f.local(LocalOptions{HelmMode: true}).Lookup(context.Background(), "r.io")
	if got.Halted || !reflect.DeepEqual(sources(got.Credentials), []string{"helm-registry-config=helmuser"}) {
		t.Errorf("helm mode: got %+v, want helm's credential", got)
	}
}

// TestLocalFileProblemRemedyNamesTheHost: a fault of a whole config file
// is found before a registry is named; looked up for one, its remedy names
// that registry, never a HOST placeholder.
func TestLocalFileProblemRemedyNamesTheHost(t *testing.T) {
	f := newFixture(t, "", "")
	missing := filepath.Join(t.TempDir(), "nope.json")
	got := f.local(LocalOptions{RegistryConfig: missing, HelmMode: true}).Lookup(context.Background(), "r.io:5000")
	if len(got.Problems) != 1 || !strings.Contains(got.Problems[0].Remedy, "helm registry login r.io:5000") || !strings.Contains(got.Problems[0].Remedy, "check the path "+missing) || strings.Contains(got.Problems[0].Remedy, "HOST") {
		t.Errorf("problems = %+v, want a remedy naming r.io:5000", got.Problems)
	}
}

// TestLocalCredHelpersKeyAsWritten: docker/cli and oras-go look a
// credHelpers key up exactly as the server address (a host[:port], or
// Docker Hub's "https://index.docker.io/v1/"), so an entry keyed with a
// scheme or as "docker.io" serves nothing and the host's auths entry
// stands.
func TestLocalCredHelpersKeyAsWritten(t *testing.T) {
	f := newFixture(t, `{
		"auths": {"r.io": {"auth": "`+b64("authsuser:pw")+`"}, "https://index.docker.io/v1/": {"auth": "`+b64("hubuser:pw")+`"}},
		"credHelpers": {"https://r.io": "per", "docker.io": "per"}
	}`, "")
	fakeHelper(t, f.helpers, "per", map[string]string{
		"https://r.io": helperAnswerJSON("https://r.io", "peruser", secretHelper),
		"docker.io":    helperAnswerJSON("docker.io", "peruser", secretHelper),
	}, `{}`)
	l := f.local(LocalOptions{})
	for host, want := range map[string]string{"r.io": "docker-config=authsuser", "docker.io": "docker-config=hubuser"} {
		if got := sources(l.Lookup(context.Background(), host).Credentials); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("%s: %v, want %s (the credHelpers key does not name its server address as written)", host, got, want)
		}
	}
}

// TestProblemOriginChoosesRemedy: every problem carries the typed Origin
// of its store, set where it is made, and its remedy follows that (a
// helper's by the helper's own name), never its source string.
func TestProblemOriginChoosesRemedy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, `{"auths":{"r.io":{"auth":"bm9jb2xvbg=="}}}`, `{"auths":{"r.io":{"username":"u"}}}`)
	writeScript(t, f.helpers, "fail", "#!/bin/sh\nexit 3\n")
	cases := []struct {
		name   string
		lookup Lookup
		origin Origin
		remedy string
	}{
		{"docker config", f.local(LocalOptions{}).Lookup(ctx, "r.io"), OriginDockerConfig, "docker login r.io"},
		{"helm config", f.local(LocalOptions{HelmMode: true}).Lookup(ctx, "r.io"), OriginHelmConfig, "helm registry login r.io"},
		{"flags", f.local(LocalOptions{Username: "u"}).Lookup(ctx, "other.io"), OriginFlags, "--username and --password-stdin"},
		{"DOCKER_AUTH_CONFIG", f.local(LocalOptions{Getenv: env(map[string]string{"DOCKER_AUTH_CONFIG": "{"})}).Lookup(ctx, "other.io"), OriginDockerAuthConfig, "DOCKER_AUTH_CONFIG"},
	}
	g := newFixture(t, `{"credsStore":"fail"}`, "")
	writeScript(t, g.helpers, "fail", "#!/bin/sh\nexit 3\n")
	cases = append(cases, struct {
		name   string
		lookup Lookup
		origin Origin
		remedy string
	}{"helper", g.local(LocalOptions{}).Lookup(ctx, "r.io"), OriginHelper, "docker-credential-fail list"})
	for _, tc := range cases {
		if len(tc.lookup.Problems) == 0 {
			t.Errorf("%s: no problem in %+v", tc.name, tc.lookup)
			continue
		}
		p := tc.lookup.Problems[0]
		if p.Origin != tc.origin || !strings.Contains(p.Remedy, tc.remedy) {
			t.Errorf("%s: origin %d, remedy %q; want origin %d and a remedy naming %q", tc.name, p.Origin, p.Remedy, tc.origin, tc.remedy)
		}
	}
	// A pull secret's problems are the cluster's: pkg/kube words their fix.
	_, problems, _ := ParsePullSecret([]byte(`{"auths":{"r.io":{"auth":" x"}}}`), false, "secret/ns/s")
	if len(problems) != 1 || problems[0].Origin != OriginCluster {
		t.Errorf("pull secret problems = %+v, want one of OriginCluster", problems)
	}
}
