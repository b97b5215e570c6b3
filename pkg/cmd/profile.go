package cmd

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// profileEnv names a file to write a CPU profile of the run to (go tool
// pprof reads it). It is for measuring regcheck itself, as make bench's
// profiling does, and is not a flag, so it stays out of --help. A CPU
// profile holds function names and sample counts, never the data the
// process handled: no credential, token or header can end up in it.
const profileEnv = "REGCHECK_CPUPROFILE"

// startProfile starts the CPU profile REGCHECK_CPUPROFILE asks for and
// returns what stops it; without it, or when the file cannot be written
// (said on errOut), a no-op.
func startProfile(getenv func(string) string, errOut io.Writer) (stop func()) {
	path := getenv(profileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(errOut, "warning: %s: %v\n", profileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(errOut, "warning: %s: %v\n", profileEnv, err)
		_ = f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(errOut, "warning: %s: %v\n", profileEnv, err)
		}
	}
}
