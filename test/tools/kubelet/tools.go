//go:build tools

// Package tools pins the kubelet the e2e environment's node runs.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubelet"
)
