package cmd

import (
	"github.com/spf13/pflag"

	"github.com/regcheck/regcheck/pkg/registry"
	"github.com/regcheck/regcheck/pkg/scan"
	"github.com/regcheck/regcheck/pkg/versions"
)

// newerFlags are --newer and its hidden page size (scan, release, doctor).
type newerFlags struct {
	scope    newerScope
	pageSize int
}

// newerScope is --newer's value: checked as the flag is parsed, so a
// scope that is not one ends as a flag error (exit 2).
type newerScope struct {
	set   bool
	scope versions.Scope
}

func (s *newerScope) String() string { return string(s.scope) }
func (s *newerScope) Type() string   { return "scope" }
func (s *newerScope) Set(v string) error {
	scope, err := versions.ParseScope(v)
	if err != nil {
		return err
	}
	s.set, s.scope = true, scope
	return nil
}

// addNewerFlag binds --newer[=major|minor|patch] and the hidden
// --newer-page-size the e2e tests use to force pagination.
func (o *CommonOptions) addNewerFlag(flags *pflag.FlagSet) {
	f := flags.VarPF(&o.newer.scope, "newer", "", "also list each repository's tags and report workload.version: is a newer version than the running tag out? --newer=major (the default: any newer), --newer=minor (within the running major) or --newer=patch (within the running major.minor), the scope joined with = (a word after a space is read as an argument); costs one tags list per repository")
	f.NoOptDefVal = string(versions.ScopeMajor)
	flags.IntVar(&o.newer.pageSize, "newer-page-size", 0, "tags asked per page of a tags list (default 1000)")
	_ = flags.MarkHidden("newer-page-size")
}

// newerScan is the scan's Newer, nil without --newer.
func (o *CommonOptions) newerScan() *scan.Newer {
	if !o.newer.scope.set {
		return nil
	}
	return &scan.Newer{Scope: o.newer.scope.scope, Tags: registry.TagsOptions{PageSize: o.newer.pageSize}}
}
