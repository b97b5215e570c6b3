package credentials

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/regcheck/regcheck/pkg/report"
)

// newProblem builds a Problem about store s whose remedy fits the kind of
// store.
func newProblem(s Store, key string, reason report.Reason, msg string) Problem {
	p := Problem{Source: s.Source, Origin: s.Origin, Helper: s.Helper, Host: key, Reason: reason, Message: msg}
	p.Remedy = p.localRemedy(key)
	return p
}

// localRemedy says how a user re-creates credentials in a local store for
// key, by the store's Origin. A pull secret's problems get the
// cluster-side fix from pkg/kube, which knows the secret's namespace and
// name (pkg/remedy words it).
func (p Problem) localRemedy(key string) string {
	host := NormalizeHost(key)
	if host == "" {
		host = "HOST"
	}
	switch p.Origin {
	case OriginHelmConfig:
		return fmt.Sprintf("log in again: helm registry login %s", host)
	case OriginFlags:
		return "pass both --username and --password-stdin"
	case OriginHelper:
		return fmt.Sprintf("check the helper works (%s%s list), then log in again: docker login %s", helperPrefix, p.Helper, host)
	}
	return fmt.Sprintf("log in again: docker login %s", host)
}

// missingRemedy is for a config file the user named that does not exist:
// a wrong path is likelier than a lost login, and logging in creates it.
func missingRemedy(origin Origin, path, key string) string {
	host := NormalizeHost(key)
	if host == "" {
		host = "HOST"
	}
	login := "docker login " + host
	if origin == OriginHelmConfig {
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
