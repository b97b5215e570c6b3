//go:build tools

// Package tools pins a Helm release inside the range with the known
// anonymous-push bug (after v3.13.1, before v3.15.0), which the helm.version
// e2e test runs to prove the KnownHelmBug warning against a real Helm.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
