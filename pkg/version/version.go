// Package version carries the build's identity, set at link time by the
// Makefile (-X github.com/regcheck/regcheck/pkg/version.Version=...).
package version

import "runtime"

// Set by -ldflags -X at build time.
var (
	Version = "dev"
	Commit  = "unknown"
)

// Info is what `regcheck version` prints.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running binary's identity.
func Get() Info {
	return Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}
