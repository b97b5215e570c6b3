package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	dockercreds "github.com/docker/cli/cli/config/credentials"

	"github.com/regcheck/regcheck/pkg/report"
)

// configFile is what a Docker-format config file (Docker's config.json or
// Helm's registry config) holds about credentials. It is only ever read.
type configFile struct {
	store       Store // Docker's config.json (OriginDockerConfig) or Helm's registry config (OriginHelmConfig)
	path        string
	exists      bool
	entries     []Entry
	keys        map[string]bool // every auths key, faulty entries included
	credsStore  string
	credHelpers map[string]string
	problems    []Problem
}

// loadConfigFile reads path as Docker and Helm (oras-go) do: a missing or
// empty file holds nothing; a file that is not JSON is a Problem. A missing
// file the user named explicitly is a Problem too.
func loadConfigFile(path, source string, origin Origin, explicit bool, lookPath func(string) (string, error)) configFile {
	store := Store{Source: source, Origin: origin}
	cf := configFile{store: store, path: path}
	if path == "" {
		return cf
	}
	data, err := os.ReadFile(path)
	cf.exists = err == nil
	switch {
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		err = nil
	case errors.Is(err, fs.ErrNotExist):
		p := newProblem(store, "", report.ReasonCredentialsUnreadable, fmt.Sprintf("%s: %s does not exist", source, path))
		p.missing, p.Remedy = path, missingRemedy(origin, path, "")
		cf.problems = append(cf.problems, p)
	case errors.Is(err, fs.ErrPermission):
		cf.problems = append(cf.problems, newProblem(store, "", report.ReasonCredentialsUnreadable,
			fmt.Sprintf("%s: no permission to read %s", source, path)))
	case err != nil:
		cf.problems = append(cf.problems, newProblem(store, "", report.ReasonCredentialsUnreadable,
			fmt.Sprintf("%s: cannot read %s", source, path)))
	}
	if err != nil {
		return cf
	}

	var raw struct {
		Auths       map[string]json.RawMessage `json:"auths"`
		CredsStore  string                     `json:"credsStore"`
		CredHelpers map[string]string          `json:"credHelpers"`
	}
	if err := decodeJSON(data, &raw); err != nil && !errors.Is(err, errEmptyPayload) {
		cf.problems = append(cf.problems, newProblem(store, "", report.ReasonMalformedCredentials,
			fmt.Sprintf("%s: %s is not a valid Docker config: %s", source, path, jsonFault(err))))
		return cf
	}
	cf.credsStore, cf.credHelpers = raw.CredsStore, raw.CredHelpers
	cf.keys = make(map[string]bool, len(raw.Auths))
	for k := range raw.Auths {
		cf.keys[k] = true
	}
	// Docker and Helm both fall back to the platform's keychain helper
	// when a config configures no auth at all.
	if cf.credsStore == "" && len(cf.credHelpers) == 0 && len(raw.Auths) == 0 {
		cf.credsStore = defaultHelper(lookPath)
	}
	cf.entries, cf.problems = parseEntries(raw.Auths, store, func(key string) string {
		return cf.helperFor(NormalizeHost(key))
	})
	return cf
}

// helperFor names the credential helper that serves host, if any: the
// credHelpers entry whose key is exactly the host's server address, else
// credsStore. docker/cli (configfile.getConfiguredCredentialStore) and
// oras-go (DynamicStore.getHelper) look the key up as written, so an entry
// keyed "https://r.io" or "docker.io" serves nothing (Docker Hub's key is
// "https://index.docker.io/v1/"). When one applies, Docker and Helm ignore
// the host's auths entries.
func (cf configFile) helperFor(host string) string {
	if h := cf.credHelpers[serverAddress(host)]; h != "" {
		return h
	}
	return cf.credsStore
}

// problemsFor are the problems that concern host: those of the whole file
// and those of the host's entries.
func (cf configFile) problemsFor(host string) []Problem {
	var out []Problem
	for _, p := range cf.problems {
		if p.Host == "" || NormalizeHost(p.Host) == host {
			out = append(out, p.ForHost(host))
		}
	}
	return out
}

// entriesFor is the one auths entry Docker's file store (docker/cli
// credentials fileStore.Get) and oras-go's (so Helm's) use for host: the
// entry filed under the host's exact server address when there is one,
// even an empty or broken one (which then sends nothing); otherwise an
// entry whose key's hostname is that address ("https://r.io/" for "r.io").
// Both peers take the first such key in Go's random map order; regcheck
// takes the first in key order, so its answer is stable.
func (cf configFile) entriesFor(host string) []Entry {
	addr := serverAddress(host)
	if cf.keys[addr] {
		for _, e := range cf.entries {
			if e.Key == addr {
				return []Entry{e}
			}
		}
		return nil // an empty or broken exact entry: its problem says why
	}
	for _, e := range cf.entries {
		if keyHostname(e.Key) == addr {
			return []Entry{e}
		}
	}
	return nil
}

// keyHostname is a key's host[:port], its scheme and path dropped, as
// docker/cli's file store reduces legacy keys (oras-go's ToHostname does
// the same); docker/cli's own function, so the two cannot drift.
func keyHostname(key string) string { return dockercreds.ConvertToHostname(key) }

// defaultHelper is the keychain helper Docker (and oras-go, so Helm)
// detects on this platform when a config names none, or "" if absent.
func defaultHelper(lookPath func(string) (string, error)) string {
	var name string
	switch runtime.GOOS {
	case "darwin":
		name = "osxkeychain"
	case "windows":
		name = "wincred"
	case "linux":
		name = "secretservice"
		if _, err := lookPath("pass"); err == nil {
			name = "pass"
		}
	default:
		return ""
	}
	if _, err := lookPath(helperPrefix + name); err != nil {
		return ""
	}
	return name
}
