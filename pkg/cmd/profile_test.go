package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestCPUProfile: REGCHECK_CPUPROFILE writes a pprof profile (gzipped
// protobuf) of the run; without it nothing is written; a path that cannot
// be created is a warning, not a failure.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	var errOut bytes.Buffer
	getenv := func(k string) string {
		if k == profileEnv {
			return path
		}
		return ""
	}
	var out bytes.Buffer
	code := Execute(t.Context(), genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, []string{"version"}, getenv)
	if code != 0 {
		t.Fatalf("version exited %d: %s", code, errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s is not a gzipped pprof profile (%d bytes)", path, len(b))
	}

	errOut.Reset()
	stop := startProfile(func(string) string { return filepath.Join(t.TempDir(), "missing", "cpu.pprof") }, &errOut)
	stop()
	if !strings.Contains(errOut.String(), "warning: "+profileEnv) {
		t.Errorf("an unwritable profile path: %q, want a warning", errOut.String())
	}
	errOut.Reset()
	startProfile(func(string) string { return "" }, &errOut)()
	if errOut.Len() != 0 {
		t.Errorf("without %s: %q, want nothing", profileEnv, errOut.String())
	}
}
