//go:build tools

// Package tools pins the regctl command the benchmark compares regcheck with.
package tools

import _ "github.com/regclient/regclient/cmd/regctl"
