//go:build tools

// Package tools pins the etcd server the e2e environment builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
