// Package registry is a diagnostic client for the OCI distribution API.
//
// It is written over net/http on purpose. A diagnosis must observe every raw
// step of a registry's auth flow — the status of GET /v2/, the challenge, the
// content type and shape of each body, the token endpoint's answer and the
// actions a token grants — and name the one that went wrong.
// go-containerregistry and oras-go collapse those steps into opaque errors,
// and their policies (trying HTTPS before plain HTTP, refusing token realms
// on other private hosts, retrying) would change what we observe. What
// libraries do well is still theirs: references are parsed with
// github.com/distribution/reference, manifests and indexes with
// go-containerregistry's v1 package, OCI error bodies with its transport
// package.
//
// Every error the client returns is a *Failure: a SPEC reason, evidence,
// and the typed observation (report.Fault: a Cause such as ManifestUnknown
// or UnknownAuthority, the names a fix needs, and report.Seen, the facts:
// step, status, method and path, the registry's own error, the credential
// by its origin, content type, timeout). The client words nothing and does
// not import pkg/remedy: the message (remedy.Message) and the fix are
// pkg/remedy's, for whoever reads the result; Failure.Error names the
// typed facts only. No secret ever reaches a
// Failure, the trace or a result, and credentials are never sent to a host
// they were not meant for.
package registry
