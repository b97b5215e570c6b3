package verify

import "github.com/regcheck/regcheck/pkg/registry"

// What production hands Run as its Resolver: pkg/registry's Client.
var _ Resolver = (*registry.Client)(nil)
