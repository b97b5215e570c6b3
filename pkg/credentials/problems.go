package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/regcheck/regcheck/pkg/report"
)

// newProblem builds a Problem whose remedy fits the kind of source.
func newProblem(source, key string, reason report.Reason, msg string) Problem {
	return Problem{Source: source, Host: key, Reason: reason, Message: msg, Remedy: remedyFor(source, key)}
}

// remedyFor says how a user re-creates credentials in a local store for
// key. A pull secret's problems get the cluster-side fix from pkg/kube,
// which knows the secret's namespace and name (pkg/remedy words it).
func remedyFor(source, key string) string {
	host := NormalizeHost(key)
	if host == "" {
		host = "HOST"
	}
	switch {
	case source == SourceHelmRegistryConfig:
		return fmt.Sprintf("log in again: helm registry login %s", host)
	case source == SourceFlags:
		return "pass both --username and --password-stdin"
	case strings.HasPrefix(source, helperSourcePrefix):
		name := strings.TrimPrefix(source, helperSourcePrefix)
		return fmt.Sprintf("check the helper works (docker-credential-%s list), then log in again: docker login %s", name, host)
	}
	return fmt.Sprintf("log in again: docker login %s", host)
}

// missingRemedy is for a config file the user named that does not exist:
// a wrong path is likelier than a lost login, and logging in creates it.
func missingRemedy(source, path, key string) string {
	host := NormalizeHost(key)
	if host == "" {
		host = "HOST"
	}
	login := "docker login " + host
	if source == SourceHelmRegistryConfig {
		login = "helm registry login " + host
	}
	return fmt.Sprintf("check the path %s (Helm and Docker read a missing file as no credentials), or log in to create it: %s", path, login)
}

// jsonFault describes a JSON decoding error without quoting the input: a
// syntax error's message can carry a byte of the payload, and the payload
// may be a secret.
func jsonFault(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("a JSON %s where %s was expected", typ.Value, jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, errEmptyPayload):
		return "it is empty"
	}
	return "it cannot be decoded"
}

// jsonKind names a Go kind in JSON's words.
func jsonKind(kind string) string {
	switch kind {
	case "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	}
	return kind
}

var errEmptyPayload = errors.New("empty payload")
