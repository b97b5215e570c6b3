//go:build tools

// Package tools pins the Helm 4 command the packaging e2e test builds.
package tools

import _ "helm.sh/helm/v4/cmd/helm"
