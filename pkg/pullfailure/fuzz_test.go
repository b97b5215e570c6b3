package pullfailure

import (
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/report"
)

// FuzzClassify: any message classifies without a panic into a reason of
// the table (or none), the same way twice, with a status Go knows; and an
// image name, quoted as the kubelet quotes it, never decides the cause.
func FuzzClassify(f *testing.F) {
	for _, c := range cases {
		f.Add(c.kubelet, c.message)
	}
	f.Add("", `"unterminated 429 Too Many Requests`)
	f.Add("Failed", strings.Repeat("x509: ", 3000))
	known := map[report.Reason]bool{"": true}
	for _, r := range table {
		known[r.reason] = true
	}
	f.Fuzz(func(t *testing.T, kubeletReason, message string) {
		got := Classify(kubeletReason, message)
		if !known[got.Reason] {
			t.Fatalf("Classify(%q, %q) = %q: not a reason of the table", kubeletReason, message, got.Reason)
		}
		if again := Classify(kubeletReason, message); again != got {
			t.Fatalf("Classify(%q, %q) = %+v, then %+v", kubeletReason, message, got, again)
		}
		if got.Status != 0 && (got.Status < 100 || got.Status > 599) {
			t.Fatalf("Classify(%q, %q): status %d", kubeletReason, message, got.Status)
		}
		if got.Reason == "" && got.Row != "" || got.Reason != "" && got.Row == "" {
			t.Fatalf("Classify(%q, %q) = %+v: reason and row disagree", kubeletReason, message, got)
		}
		// The kubelet's BackOff event names the image and nothing else.
		if len(message) < maxMessage/2 && !strings.ContainsAny(message, "\"\n") {
			if c := Classify("BackOff", `Back-off pulling image "`+message+`"`); c.Reason != "" {
				t.Fatalf("a quoted image %q classified as %+v", message, c)
			}
		}
	})
}
