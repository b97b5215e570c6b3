package registry

import (
	"errors"
	"strings"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// InvalidReference names a reference imageref refused as a Failure
// (SPEC's InvalidReference), with the reason imageref gives.
func InvalidReference(err error) *Failure {
	var e *imageref.Error
	if !errors.As(err, &e) {
		return &Failure{Reason: report.ReasonInvalidReference, Message: err.Error(), Evidence: report.Evidence{}}
	}
	in := strings.TrimPrefix(e.Input, "oci://")
	f := &Failure{Reason: report.ReasonInvalidReference, Evidence: report.Evidence{"reference": in},
		Fault: report.Fault{Cause: report.CauseInvalidReference, Input: in}}
	if e.Kind == imageref.BareDigest {
		f.Message = "a bare digest names no repository: " + in
		f.Cause = report.CauseBareDigest
		return f
	}
	f.Message = "not a valid image reference: " + in + " (" + e.Why + ")"
	return f
}
