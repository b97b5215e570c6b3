package cmd

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// TestCAFileRefusal: a --ca-file regcheck cannot read stops the run
// (exit 2) with the one line pkg/remedy words for the registry client's
// typed failure.
func TestCAFileRefusal(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ca.pem")
	o := &CommonOptions{CAFile: missing, Timeout: time.Minute}
	_, err := o.RegistryClient()
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != report.ExitCannotRun {
		t.Fatalf("err = %v, want exit %d", err, report.ExitCannotRun)
	}
	if want := "TLSError: cannot read the CA file " + missing; err.Error() != want {
		t.Errorf("error %q, want %q", err.Error(), want)
	}
}
