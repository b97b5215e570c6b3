//go:build tools

// Package tools pins the crane command the benchmark builds.
package tools

import _ "github.com/google/go-containerregistry/cmd/crane"
