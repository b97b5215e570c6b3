package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// SourceDockerAuthConfig is the DOCKER_AUTH_CONFIG environment variable.
const SourceDockerAuthConfig = "docker-auth-config"

// dockerAuthConfigEnv is the variable docker/cli (v29, configfile
// GetCredentialsStore) reads credentials from before its credential
// helpers and config.json; CI systems such as GitLab set it. Helm does not
// read it.
const dockerAuthConfigEnv = "DOCKER_AUTH_CONFIG"

// parseDockerAuthConfig reads DOCKER_AUTH_CONFIG as docker/cli v29 does
// (configfile parseEnvConfig): one JSON object {"auths": {KEY: {"auth":
// base64(user:password)}}} and nothing else (unknown fields, a second
// object, an entry without "auth" or an "auth" that does not decode make
// Docker ignore the whole variable, with a warning). Entries are keyed
// exactly as written: Docker looks a host up by its exact server address
// only. The hand-written decoder mirrors docker/cli's rules; its own
// parser is unexported.
func parseDockerAuthConfig(v string) ([]Entry, *Problem) {
	var env struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	fault := func(what string) ([]Entry, *Problem) {
		p := newProblem(dockerAuthConfigStore, "", report.ReasonMalformedCredentials,
			dockerAuthConfigEnv+" "+what+"; docker ignores the whole variable and uses its config.json")
		p.Remedy = "set " + dockerAuthConfigEnv + ` to {"auths":{"HOST":{"auth":"BASE64(USER:PASSWORD)"}}}`
		return nil, &p
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil && !errors.Is(err, io.EOF) {
		if strings.Contains(err.Error(), "unknown field") {
			return fault("has a field docker does not know (only auths and auth are allowed)")
		}
		return fault("is not valid JSON: " + jsonFault(err))
	}
	if dec.More() {
		return fault("holds more than one JSON object")
	}
	keys := make([]string, 0, len(env.Auths))
	for k := range env.Auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var entries []Entry
	for _, k := range keys {
		a := env.Auths[k].Auth
		if a == "" {
			return fault(fmt.Sprintf("has no \"auth\" for %q", k))
		}
		user, pass, err := dockerDecodeAuth(a)
		if err != nil {
			return fault(fmt.Sprintf("has an \"auth\" for %q that %s", k, err))
		}
		entries = append(entries, Entry{Key: k, Credential: Credential{Source: SourceDockerAuthConfig, Origin: OriginDockerAuthConfig, Key: k, Username: user, Password: pass}})
	}
	return entries, nil
}

// dockerDecodeAuth decodes an "auth" as docker/cli's configfile does:
// padded standard base64, a non-empty username before the first colon,
// NULs trimmed from the password. Errors never carry the input.
func dockerDecodeAuth(s string) (user, pass string, err error) {
	decoded, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", "", errors.New("is not valid base64")
	}
	user, pass, ok := strings.Cut(string(decoded), ":")
	if !ok || user == "" {
		return "", "", errors.New("does not decode to username:password")
	}
	return user, strings.Trim(pass, "\x00"), nil
}

// dockerAuthConfig is the DOCKER_AUTH_CONFIG credential docker would use
// for host: the entry filed under the host's exact server address.
func (l *Local) dockerAuthConfig(host string) (Credential, *Problem, bool) {
	v := l.getenv(dockerAuthConfigEnv)
	if l.opts.HelmMode || v == "" {
		return Credential{}, nil, false
	}
	entries, p := parseDockerAuthConfig(v)
	if p != nil {
		return Credential{}, p, false
	}
	for _, e := range entries {
		if e.Key == serverAddress(host) {
			return e.Credential, nil, true
		}
	}
	return Credential{}, nil, false
}
