package credentials

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"sync"

	"github.com/regcheck/regcheck/pkg/report"
)

// LocalOptions say where local credentials live. Zero values mean the
// defaults Docker and Helm use.
type LocalOptions struct {
	DockerConfig   string // --docker-config: the directory holding config.json, or the file
	RegistryConfig string // --registry-config: Helm's registry config file
	Username       string // --username
	Password       string // from --password-stdin
	HelmMode       bool   // running as a Helm plugin: Helm's config before Docker's
	Getenv         func(string) string
	HomeDir        string
}

// Local finds credentials on this machine: flags, Docker's config.json and
// its credential helpers, and Helm's registry config. It never writes a
// config file.
type Local struct {
	opts LocalOptions

	mu      sync.Mutex
	helpers map[helperCall]helperAnswer // one call per helper and server per run
}

type helperCall struct{ name, server string }

type helperAnswer struct {
	cred    Credential
	found   bool
	problem *Problem
}

// Listed is one credential as "regcheck creds" shows it: never a secret.
type Listed struct {
	Host     string // registry host; "*" for flags, which apply to every host
	Username string
	Source   string
	Kind     string // auth | identitytoken | registrytoken | helper
}

// Kinds of Listed credential.
const (
	KindAuth          = "auth"
	KindIdentityToken = "identitytoken"
	KindRegistryToken = "registrytoken"
	KindHelper        = "helper"
)

// NewLocal returns a Local reading the sources opts names.
func NewLocal(opts LocalOptions) *Local {
	return &Local{opts: opts, helpers: map[helperCall]helperAnswer{}}
}

func (l *Local) getenv(key string) string {
	if l.opts.Getenv != nil {
		return l.opts.Getenv(key)
	}
	return os.Getenv(key)
}

func (l *Local) homeDir() string {
	if l.opts.HomeDir != "" {
		return l.opts.HomeDir
	}
	home, _ := os.UserHomeDir()
	return home
}

// configs loads the config files in the order they are consulted: Helm
// falls back to Docker's config, so in Helm mode Helm's comes first.
func (l *Local) configs() []configFile {
	dockerPath, dockerExplicit := l.dockerConfigPath()
	helmPath, helmExplicit := l.helmRegistryConfigPath()
	docker := loadConfigFile(dockerPath, SourceDockerConfig, OriginDockerConfig, dockerExplicit, exec.LookPath)
	helm := loadConfigFile(helmPath, SourceHelmRegistryConfig, OriginHelmConfig, helmExplicit, exec.LookPath)
	if l.opts.HelmMode {
		return []configFile{helm, docker}
	}
	return []configFile{docker, helm}
}

// Searched names the config files consulted, in order, for a person:
// "helm-registry-config (/home/u/.config/helm/registry/config.json, not
// created yet)".
func (l *Local) Searched() []string {
	var out []string
	for _, cf := range l.configs() {
		switch {
		case cf.path == "":
			out = append(out, cf.store.Source)
		case cf.exists:
			out = append(out, cf.store.Source+" ("+cf.path+")")
		default:
			out = append(out, cf.store.Source+" ("+cf.path+", not created yet)")
		}
	}
	return out
}

// Lookup returns every local credential for host (a registry host[:port];
// a scheme or path is ignored), in the order they would be tried: the
// flags alone when both were given, else each config file. Within a config, a credential helper that serves
// the host hides its auths entries, as in Docker and Helm. Outside Helm
// mode, a DOCKER_AUTH_CONFIG entry for the host's exact server address
// takes the place of Docker's config, as in docker/cli.
//
// Each mode asks its own tool's config first and the other tool's only
// when its own holds nothing for the host: in Helm mode Docker's config
// after Helm's, as Helm's store with fallbacks does; outside Helm mode
// Helm's registry config after Docker's. So the probe never tries a
// credential after the one its tool would send: when docker's login is
// refused, regcheck says so instead of succeeding with Helm's, which
// docker never reads. (A Helm login for a host Docker has none for is
// still tried, named helm-registry-config: docker itself would pull
// anonymously there; docs/reference-tables.md lists this difference.)
func (l *Local) Lookup(ctx context.Context, host string) Lookup {
	host = NormalizeHost(host)
	var out Lookup
	if cred, problem, given := l.flagCredential(host); given {
		out.Tried = append(out.Tried, flagsStore)
		if problem == nil {
			// Helm given --username and --password sends them and never
			// asks its store (helm pkg/registry NewClient): no config
			// credential is tried after them.
			out.Credentials = append(out.Credentials, cred)
			return out
		}
		// Half given: Helm uses its store, as if neither were.
		out.Problems = append(out.Problems, *problem)
	}
	for _, cf := range l.configs() {
		if len(out.Credentials) > 0 {
			// Helm (oras-go's NewStoreWithFallbacks) falls back to
			// Docker's config only when its own holds nothing for the
			// host; docker never reads Helm's.
			break
		}
		if cf.store.Origin == OriginDockerConfig {
			// docker/cli reads DOCKER_AUTH_CONFIG first; an entry for the
			// host there hides its helper and config.json.
			cred, problem, found := l.dockerAuthConfig(host)
			if found || problem != nil {
				out.Tried = append(out.Tried, dockerAuthConfigStore)
			}
			if problem != nil {
				out.Problems = append(out.Problems, *problem)
			}
			if found {
				out.Credentials = append(out.Credentials, cred)
				continue
			}
		}
		out.Tried = append(out.Tried, cf.store)
		problems := cf.problemsFor(host)
		out.Problems = append(out.Problems, problems...)
		if l.opts.HelmMode && malformed(problems) {
			// oras-go (so Helm) returns the decoding error of the host's
			// entry, or of a file that is not JSON, and stops: no later
			// store, no anonymous request. (docker/cli drops the whole
			// file instead: docs/reference-tables.md.)
			out.Halted = true
			break
		}
		helper := cf.helperFor(host)
		if helper == "" {
			for _, e := range cf.entriesFor(host) {
				out.Credentials = append(out.Credentials, e.Credential)
			}
			continue
		}
		out.Tried = append(out.Tried, helperStore(helper))
		a := l.helperGet(ctx, helper, serverAddress(host))
		if a.problem != nil {
			// Docker's and Helm's (oras-go's) stores return the helper's
			// error: no later config, no anonymous request.
			out.Problems = append(out.Problems, *a.problem)
			out.Halted = true
			break
		}
		if a.found {
			out.Credentials = append(out.Credentials, a.cred)
		}
	}
	out.Credentials = unique(out.Credentials)
	out.Tried = unique(out.Tried)
	out.Problems = unique(out.Problems)
	return out
}

// malformed reports whether a problem is a config or entry that does not
// decode.
func malformed(problems []Problem) bool {
	for _, p := range problems {
		if p.Reason == report.ReasonMalformedCredentials {
			return true
		}
	}
	return false
}

// unique drops repeats, keeping first places: Docker and Helm may share a
// helper, which then answers once for both.
func unique[T comparable](xs []T) []T {
	seen := make(map[T]bool, len(xs))
	out := xs[:0]
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// flagCredential is the --username/--password-stdin credential; given is
// false when neither flag was used.
func (l *Local) flagCredential(host string) (cred Credential, problem *Problem, given bool) {
	user, pass := l.opts.Username, l.opts.Password
	switch {
	case user == "" && pass == "":
		return Credential{}, nil, false
	case pass == "":
		p := newProblem(flagsStore, host, report.ReasonIncompleteCredentials, "--username was given without a password (--password-stdin)")
		return Credential{}, &p, true
	case user == "":
		p := newProblem(flagsStore, host, report.ReasonIncompleteCredentials, "a password was given without --username")
		return Credential{}, &p, true
	}
	return Credential{Source: SourceFlags, Origin: OriginFlags, Key: host, Username: user, Password: pass}, nil, true
}

// helperGet runs a helper once per server and remembers the answer.
func (l *Local) helperGet(ctx context.Context, name, server string) helperAnswer {
	call := helperCall{name, server}
	l.mu.Lock()
	a, ok := l.helpers[call]
	l.mu.Unlock()
	if ok {
		return a
	}
	a.cred, a.found, a.problem = helperGet(ctx, name, server)
	l.mu.Lock()
	l.helpers[call] = a
	l.mu.Unlock()
	return a
}

// List returns every local credential with where it came from, and the
// problems met, for "regcheck creds". It asks credsStore helpers to list
// what they hold and each credHelpers helper for its host.
func (l *Local) List(ctx context.Context) ([]Listed, []Problem) {
	var listed []Listed
	var problems []Problem
	if cred, problem, given := l.flagCredential(""); given {
		if problem != nil {
			problems = append(problems, *problem)
		} else {
			listed = append(listed, Listed{Host: "*", Username: cred.Username, Source: SourceFlags, Kind: KindAuth})
		}
	}
	if v := l.getenv(dockerAuthConfigEnv); v != "" && !l.opts.HelmMode {
		entries, problem := parseDockerAuthConfig(v)
		if problem != nil {
			problems = append(problems, *problem)
		}
		for _, e := range entries {
			listed = append(listed, Listed{Host: NormalizeHost(e.Key), Username: e.Credential.Username, Source: SourceDockerAuthConfig, Kind: KindAuth})
		}
	}
	for _, cf := range l.configs() {
		problems = append(problems, cf.problems...)
		for _, e := range cf.entries {
			if cf.helperFor(NormalizeHost(e.Key)) != "" {
				continue // hidden by a helper
			}
			listed = append(listed, Listed{Host: NormalizeHost(e.Key), Username: e.Credential.Username, Source: cf.store.Source, Kind: kindOf(e.Credential)})
		}
		l.listHelpers(ctx, cf, &listed, &problems)
	}
	return listed, unique(problems)
}

// listHelpers lists what cf's credential helpers hold.
func (l *Local) listHelpers(ctx context.Context, cf configFile, listed *[]Listed, problems *[]Problem) {
	keys := make([]string, 0, len(cf.credHelpers))
	for k := range cf.credHelpers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	perHost := map[string]bool{}
	for _, k := range keys {
		host := NormalizeHost(k)
		name := cf.helperFor(host)
		if perHost[host] || name == "" {
			continue
		}
		perHost[host] = true
		a := l.helperGet(ctx, name, serverAddress(host))
		switch {
		case a.problem != nil:
			*problems = append(*problems, *a.problem)
		case a.found:
			*listed = append(*listed, Listed{Host: host, Username: a.cred.Username, Source: helperSource(name), Kind: KindHelper})
		}
	}
	if cf.credsStore == "" {
		return
	}
	servers, problem := helperList(ctx, cf.credsStore)
	if problem != nil {
		*problems = append(*problems, *problem)
		return
	}
	urls := make([]string, 0, len(servers))
	for u := range servers {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	for _, u := range urls {
		host := NormalizeHost(u)
		if perHost[host] {
			continue // served by its credHelpers entry
		}
		user := servers[u]
		if user == helperTokenUser {
			user = ""
		}
		*listed = append(*listed, Listed{Host: host, Username: user, Source: helperSource(cf.credsStore), Kind: KindHelper})
	}
}

// kindOf names what a credential authenticates with, the way a registry
// client prefers them.
func kindOf(c Credential) string {
	switch {
	case c.RegistryToken != "":
		return KindRegistryToken
	case c.IdentityToken != "":
		return KindIdentityToken
	}
	return KindAuth
}

// String and GoString keep %v and %#v of a Local, which holds the
// password from --password-stdin and helpers' answers, free of secrets.
func (l *Local) String() string {
	return fmt.Sprintf("credentials.Local{docker-config %q, registry-config %q, username %q, helm mode %t}",
		l.opts.DockerConfig, l.opts.RegistryConfig, l.opts.Username, l.opts.HelmMode)
}

// GoString: see String.
func (l *Local) GoString() string { return l.String() }

// String keeps the password out of %v.
func (o LocalOptions) String() string {
	return fmt.Sprintf("{DockerConfig:%q RegistryConfig:%q Username:%q HelmMode:%t}", o.DockerConfig, o.RegistryConfig, o.Username, o.HelmMode)
}

// GoString keeps the password out of %#v.
func (o LocalOptions) GoString() string { return "credentials.LocalOptions" + o.String() }

// String shows a listed credential: source, host, kind and username only.
func (x Listed) String() string {
	if x.Username == "" {
		return fmt.Sprintf("%s %s (%s)", x.Source, x.Host, x.Kind)
	}
	return fmt.Sprintf("%s %s (%s, user %s)", x.Source, x.Host, x.Kind, x.Username)
}
