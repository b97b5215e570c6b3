//go:build tools

// Package tools pins the containerd 2.x the e2e environment's second node
// runtime runs: the daemon and its runc shim. runc itself stays Debian's.
package tools

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
)
