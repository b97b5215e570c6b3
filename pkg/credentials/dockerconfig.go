package credentials

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// We parse Docker config ourselves rather than with docker/cli's configfile:
// configfile decodes every "auth" while loading and rejects the whole file
// on one bad entry (so does the kubelet for a whole secret). A user is
// better served by hearing which entry is broken while the others still
// work, so every entry is decoded on its own and faults become Problems.

// authEntry is one auths entry as written. JSON field names match
// case-insensitively, as they do for Docker and the kubelet.
type authEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// ParseDockerConfigJSON parses a config.json / kubernetes.io/dockerconfigjson
// payload ({"auths": {KEY: {auth|username,password|identitytoken}}}).
// source names it in credentials and problems (e.g. "secret/ns/name"); the
// payload is a cluster secret's, so its credentials are OriginCluster.
// Entries come back in a stable order (sorted by key); an entry with a
// fault is left out and reported as a Problem instead.
func ParseDockerConfigJSON(data []byte, source string) ([]Entry, []Problem) {
	store := Store{Source: source, Origin: OriginCluster}
	var top struct {
		Auths json.RawMessage `json:"auths"`
	}
	if err := decodeJSON(data, &top); err != nil {
		return nil, []Problem{malformedPayload(store, err)}
	}
	if top.Auths == nil {
		// A legacy .dockercfg payload in a dockerconfigjson secret is a
		// common mistake; the kubelet then silently finds nothing.
		if entries, _ := ParseDockerCfg(data, source); len(entries) > 0 {
			return nil, []Problem{newProblem(store, "", report.ReasonMalformedCredentials,
				fmt.Sprintf("%s has no \"auths\" object: its entries are in the legacy .dockercfg format", source))}
		}
		return nil, nil
	}
	var auths map[string]json.RawMessage
	if err := json.Unmarshal(top.Auths, &auths); err != nil {
		return nil, []Problem{newProblem(store, "", report.ReasonMalformedCredentials,
			fmt.Sprintf("%s: \"auths\" is not an object (%s)", source, jsonFault(err)))}
	}
	return parseEntries(auths, store, nil)
}

// ParseDockerCfg parses a legacy kubernetes.io/dockercfg payload
// ({KEY: {auth|username,password}}), with the same rules as
// ParseDockerConfigJSON.
func ParseDockerCfg(data []byte, source string) ([]Entry, []Problem) {
	store := Store{Source: source, Origin: OriginCluster}
	var auths map[string]json.RawMessage
	if err := decodeJSON(data, &auths); err != nil {
		return nil, []Problem{malformedPayload(store, err)}
	}
	for key, raw := range auths {
		// The kubelet would read "auths" as a registry named "auths".
		if strings.EqualFold(key, "auths") && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return nil, []Problem{newProblem(store, "", report.ReasonMalformedCredentials,
				fmt.Sprintf("%s holds an \"auths\" object: that is the config.json format, which needs the kubernetes.io/dockerconfigjson type", source))}
		}
	}
	return parseEntries(auths, store, nil)
}

// decodeJSON unmarshals data, naming an empty payload as such.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmptyPayload
	}
	return json.Unmarshal(data, v)
}

func malformedPayload(s Store, err error) Problem {
	return newProblem(s, "", report.ReasonMalformedCredentials,
		fmt.Sprintf("%s is not a valid Docker config: %s", s.Source, jsonFault(err)))
}

// parseEntries turns raw auths entries into Entries, sorted by key.
// helperFor, when set, names the credential helper that serves a key: an
// empty entry under such a key is the marker Docker writes, not a fault.
func parseEntries(auths map[string]json.RawMessage, s Store, helperFor func(key string) string) ([]Entry, []Problem) {
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var entries []Entry
	var problems []Problem
	for _, key := range keys {
		var a authEntry
		if err := json.Unmarshal(auths[key], &a); err != nil {
			problems = append(problems, newProblem(s, key, report.ReasonMalformedCredentials,
				fmt.Sprintf("%s: entry %q is not an auth object (%s)", s.Source, key, jsonFault(err))))
			continue
		}
		if a == (authEntry{}) && helperFor != nil && helperFor(key) != "" {
			continue
		}
		cred, p := a.credential(key, s)
		if p != nil {
			problems = append(problems, *p)
			continue
		}
		entries = append(entries, Entry{Key: key, Credential: cred})
	}
	return entries, problems
}

// credential checks an entry and returns what it authenticates with.
// "auth" wins over username/password, as with Docker and the kubelet.
func (a authEntry) credential(key string, s Store) (Credential, *Problem) {
	c := Credential{
		Source:        s.Source,
		Origin:        s.Origin,
		Key:           key,
		Username:      a.Username,
		Password:      a.Password,
		IdentityToken: a.IdentityToken,
		RegistryToken: a.RegistryToken,
	}
	fault := func(reason report.Reason, what string) (Credential, *Problem) {
		p := newProblem(s, key, reason, fmt.Sprintf("%s: entry %q %s", s.Source, key, what))
		return Credential{}, &p
	}
	if a.Auth != "" {
		user, pass, err := decodeAuth(a.Auth)
		switch {
		case errors.Is(err, errNoColon):
			return fault(report.ReasonMalformedCredentials, "has an \"auth\" that does not decode to username:password")
		case err != nil:
			return fault(report.ReasonMalformedCredentials, "has an \"auth\" that is not valid base64")
		}
		c.Username, c.Password = user, pass
	}
	if c.IdentityToken != "" || c.RegistryToken != "" {
		return c, nil
	}
	switch {
	case c.Username == "" && c.Password == "":
		return fault(report.ReasonIncompleteCredentials, "is empty")
	case c.Password == "":
		return fault(report.ReasonIncompleteCredentials, "has a username but no password")
	case c.Username == "":
		return fault(report.ReasonIncompleteCredentials, "has a password but no username")
	}
	return c, nil
}

var errNoColon = errors.New("auth is not username:password")

// decodeAuth splits base64("user:pass") on the first colon: passwords may
// hold colons, usernames may not. Like the kubelet, padding is optional.
// Errors never carry the input.
func decodeAuth(field string) (user, pass string, err error) {
	s := strings.TrimSpace(field)
	enc := base64.RawStdEncoding
	if strings.HasSuffix(s, "=") {
		enc = base64.StdEncoding
	}
	decoded, err := enc.DecodeString(s)
	if err != nil {
		return "", "", errors.New("invalid base64")
	}
	user, pass, ok := strings.Cut(string(decoded), ":")
	if !ok {
		return "", "", errNoColon
	}
	return user, pass, nil
}
