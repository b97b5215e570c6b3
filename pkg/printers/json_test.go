package printers

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/regcheck/regcheck/pkg/report"
)

// writeJSON streams what json.MarshalIndent and a newline would write,
// byte for byte, for the values a report holds.
func TestWriteJSONIsMarshalIndent(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
	}{
		{"empty report", report.New(report.KindScan, nil)},
		{"results with evidence", report.New(report.KindScan, []report.Result{{
			Check: report.CheckWorkloadDigest, Status: report.StatusFail, Reason: "Stale",
			Message: "<html> & \u2028 line separators, \xff invalid UTF-8, \"quotes\"",
			Evidence: report.Evidence{
				"tags": []string{"v1", "v2"}, "none": []string{}, "nil": []string(nil),
				"httpStatus": 404, "ratio": 1.5, "nested": map[string]any{"b": true, "a": nil},
				"empty": map[string]string{}, "when": time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC),
			},
			Line: 7,
		}})},
		{"a bare map", map[string]any{"z": 1, "a": []any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.MarshalIndent(tc.v, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			var got bytes.Buffer
			if err := writeJSON(&got, tc.v); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("writeJSON wrote\n%s\nMarshalIndent\n%s", got.Bytes(), want)
			}
		})
	}
}
