package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/regcheck/regcheck/pkg/report"
)

// ExitError carries an exit code up to main (SPEC: 0 ok, 1 a check failed,
// 2 regcheck could not run). A nil Err means the output already said it.
type ExitError struct {
	Code int
	Err  error
	// Hint says what to do next, on its own line after the error.
	Hint string
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// cannotRun marks err as "regcheck could not run" (exit 2).
func cannotRun(format string, args ...any) error {
	return &ExitError{Code: report.ExitCannotRun, Err: fmt.Errorf(format, args...)}
}

// exitCode prints err once, as cobra is told not to, and maps it to an
// exit code. Anything not typed is a failure to run.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return report.ExitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(stderr, "error: %v\n", exit.Err)
		}
		if exit.Hint != "" {
			fmt.Fprintf(stderr, "hint: %s\n", exit.Hint)
		}
		return exit.Code
	}
	fmt.Fprintf(stderr, "error: %v\n", err)
	return report.ExitCannotRun
}
