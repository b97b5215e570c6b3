//go:build !linux

package env

import (
	"context"
	"errors"
)

// NodeRuntime is a node's container runtime (Linux only).
type NodeRuntime string

// The node runtimes (Linux only).
const (
	Containerd16 NodeRuntime = "containerd 1.6"
	Containerd2  NodeRuntime = "containerd 2"
)

// NodeOptions configure StartNode (Linux only).
type NodeOptions struct {
	Runtime                                            NodeRuntime
	Dir, Name                                          string
	KubeletArgs                                        []string
	CredentialProviderConfig, CredentialProviderBinDir string
}

// Node is a real containerd and kubelet (Linux only).
type Node struct {
	Name    string
	Runtime NodeRuntime
}

// NodeAvailable: a real node runs on Linux only.
func NodeAvailable() error { return errors.New("a real node runs on Linux only") }

// StartNode fails off Linux.
func (c *Cluster) StartNode(context.Context, NodeOptions) (*Node, error) { return nil, NodeAvailable() }

// Stop does nothing off Linux.
func (n *Node) Stop() error { return nil }
