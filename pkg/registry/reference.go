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
		// imageref's parsers refuse only with an *imageref.Error; an error
		// from elsewhere has no kind or input to name, so its own text is
		// the only fact known (Seen.ErrText).
		return &Failure{Reason: report.ReasonInvalidReference, Evidence: report.Evidence{},
			Fault: report.Fault{Cause: report.CauseInvalidReference, Seen: report.Seen{ErrText: err.Error()}}}
	}
	in := strings.TrimPrefix(e.Input, "oci://")
	f := &Failure{Reason: report.ReasonInvalidReference, Evidence: report.Evidence{"reference": in},
		Fault: report.Fault{Cause: report.CauseInvalidReference, Input: in}}
	if e.Kind == imageref.BareDigest {
		f.Cause = report.CauseBareDigest
		return f
	}
	f.Why = e.Why
	return f
}
