package scan

import (
	"errors"
	"fmt"

	"github.com/regcheck/regcheck/pkg/imageref"
	"github.com/regcheck/regcheck/pkg/report"
)

// foreignDigestRef reports whether imageID, a repo digest d, names another
// repository than r's, and returns that repository's digest reference.
func foreignDigestRef(r imageref.Reference, imageID, d string) (imageref.Reference, bool) {
	repo := imageIDRepository(imageID)
	// Nearly every imageID names r's own repository as Name writes it;
	// the parser (regular expressions, about 4 µs) then has nothing to
	// add. Asked once per pod, it was half the verdicts' CPU at 5,000 pods.
	if repo == "" || repo == r.Name() {
		return imageref.Reference{}, false
	}
	other, err := imageref.Parse(repo + "@" + d)
	if err != nil || other.Name() == r.Name() {
		return imageref.Reference{}, false
	}
	return other, true
}

// invalidReference is the image.reference result for a container image
// imageref refused; the message says why in one line.
func invalidReference(base report.Result, err error) report.Result {
	base.Check = report.CheckImageReference
	base.Status = report.StatusFail
	base.Reason = report.ReasonInvalidReference
	base.Message = err.Error()
	var e *imageref.Error
	if errors.As(err, &e) {
		switch e.Kind {
		case imageref.Empty:
			base.Message = "the container has no image"
		case imageref.BareDigest:
			base.Message = fmt.Sprintf("%q is a bare digest: it names no repository (write REPOSITORY@%s)", e.Input, e.Input)
		default:
			base.Message = fmt.Sprintf("%q does not parse as an image reference: %s", e.Input, e.Why)
		}
	}
	base.Remedy = "write the image as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. registry.example.com/team/app:1.4.2"
	return base
}

// short abbreviates a digest for messages; evidence keeps it whole.
func short(d string) string { return imageref.ShortDigest(d) }

// InvalidReference is the image.reference result for an image imageref
// refused (err), with base's fields: verify reports references as the
// scan does.
func InvalidReference(base report.Result, err error) report.Result {
	return invalidReference(base, err)
}
