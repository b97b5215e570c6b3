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
	f := &Failure{Reason: report.ReasonInvalidReference, Evidence: report.Evidence{"reference": in}}
	if e.Kind == imageref.BareDigest {
		f.Message = "a bare digest names no repository: " + in
		f.Remedy = "name the repository too: REPOSITORY@" + in + " (e.g. registry.example.com/team/app@" + in + ")"
		return f
	}
	f.Message = "not a valid image reference: " + in + " (" + e.Why + ")"
	f.Remedy = "use HOST/REPOSITORY[:TAG][@sha256:DIGEST], e.g. ghcr.io/org/app:1.0"
	return f
}
