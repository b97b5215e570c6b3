package printers

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
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
			if err := writeJSON(&got, tc.v, "report"); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("writeJSON wrote\n%s\nMarshalIndent\n%s", got.Bytes(), want)
			}
		})
	}
}

// failingWriter refuses every write, as a closed pipe does.
type failingWriter struct{}

var errClosedPipe = errors.New("write |1: broken pipe")

func (failingWriter) Write([]byte) (int, error) { return 0, errClosedPipe }

// A failed write is the writer's own error; a value that does not encode
// is named as the report and writes nothing.
func TestWriteJSONErrors(t *testing.T) {
	if err := writeJSON(failingWriter{}, report.New(report.KindScan, nil), "report"); err != errClosedPipe {
		t.Errorf("failed write: err = %v, want the writer's own", err)
	}
	var out bytes.Buffer
	err := writeJSON(&out, map[string]any{"a": 1, "b": make(chan int)}, "report")
	if err == nil || !strings.HasPrefix(err.Error(), "encoding report: ") {
		t.Errorf("unencodable value: err = %v, want encoding report: ...", err)
	}
	if out.Len() != 0 {
		t.Errorf("unencodable value wrote %q", out.String())
	}
}
