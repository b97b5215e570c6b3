package doctor

import (
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/remedy"
	"github.com/regcheck/regcheck/pkg/report"
)

func resultFor(id string) report.Result { return report.Result{Message: id} }

const dg = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCheckReference(t *testing.T) {
	for _, tc := range []struct {
		name        string
		input       string
		known       []string
		implicitTag bool
		status      report.Status
		reason      report.Reason
		probe       bool
		remedyHas   string
		corrected   string
	}{
		{name: "tagged", input: "ghcr.io/acme/app:1.0", status: report.StatusPass, reason: report.ReasonOk, probe: true},
		{name: "pinned", input: "ghcr.io/acme/app@" + dg, status: report.StatusPass, reason: report.ReasonOk, probe: true},
		{name: "oci chart", input: "oci://registry.example.com/charts/demo:0.1.0", status: report.StatusPass, reason: report.ReasonOk, probe: true},
		{name: "no tag", input: "ghcr.io/acme/app", status: report.StatusWarn, reason: report.ReasonMissingTag, probe: true, remedyHas: "unique tag"},
		{name: "no tag in a setting", input: "oci://registry.example.com/modelops-bundles", implicitTag: true, status: report.StatusPass, reason: report.ReasonOk, probe: true},
		{name: "bare digest, one repository known", input: dg, known: []string{"registry.example.com/smoke_bundle"},
			status: report.StatusFail, reason: report.ReasonInvalidReference, remedyHas: "registry.example.com/smoke_bundle@" + dg, corrected: "registry.example.com/smoke_bundle@" + dg},
		{name: "bare digest, two repositories known", input: dg, known: []string{"r.io/a", "r.io/b"},
			status: report.StatusFail, reason: report.ReasonInvalidReference, remedyHas: "one of: r.io/a@" + dg + ", r.io/b@" + dg},
		{name: "bare digest, nothing known", input: dg, status: report.StatusFail, reason: report.ReasonInvalidReference, remedyHas: "REGISTRY/REPOSITORY@" + dg},
		{name: "unparsable", input: "Registry.example.com/UPPER:tag", status: report.StatusFail, reason: report.ReasonInvalidReference},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, ok := checkReference(report.Result{}, tc.input, tc.known, tc.implicitTag, remedy.ForKubectl)
			if r.Status != tc.status || r.Reason != tc.reason || ok != tc.probe {
				t.Errorf("got %s/%s probe=%v, want %s/%s probe=%v: %s", r.Status, r.Reason, ok, tc.status, tc.reason, tc.probe, r.Message)
			}
			if r.Check != report.CheckImageReference || r.Image != tc.input {
				t.Errorf("check %s image %q", r.Check, r.Image)
			}
			if !strings.Contains(r.Remedy, tc.remedyHas) {
				t.Errorf("remedy %q does not say %q", r.Remedy, tc.remedyHas)
			}
			if tc.status != report.StatusPass && r.Remedy == "" {
				t.Error("a finding needs a remedy")
			}
			if got, _ := r.Evidence["corrected"].(string); got != tc.corrected {
				t.Errorf("corrected = %q, want %q", got, tc.corrected)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        settingKind
	}{
		{"BUNDLE_REGISTRY", "registry.example.com", registrySetting},
		{"REGISTRY_URL", "https://registry.example.com", registrySetting},
		{"BUNDLE_REGISTRY", "registry.example.com/modelops-bundles", imageSetting},
		{"WORKER_IMAGE", "registry.example.com/worker:1.0", imageSetting},
		{"BUNDLE", "oci://registry.example.com/modelops-bundles:latest", imageSetting},
		{"MODEL", "registry.example.com/models/m@" + dg, imageSetting},
		{"BUNDLE_DIGEST", dg, imageSetting},
		{"LOG_LEVEL", "debug", notRegistry},
		{"REGISTRY_NOTE", "not a host name", notRegistry},
		{"WORKER_IMAGE", "", notRegistry},
	} {
		if got := classify(tc.name, tc.value); got != tc.want {
			t.Errorf("classify(%s=%q) = %d, want %d", tc.name, tc.value, got, tc.want)
		}
	}
}
