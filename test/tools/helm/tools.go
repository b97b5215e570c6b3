//go:build tools

// Package tools pins the helm command the e2e environment builds.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
