package printers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/regcheck/regcheck/pkg/version"
)

func TestVersion(t *testing.T) {
	info := version.Info{Version: "v1.2.3", Commit: "abc1234", GoVersion: "go1.27.3", Platform: "linux/amd64"}
	for _, format := range []string{"json", "yaml", "table"} {
		var b bytes.Buffer
		if err := Version(&b, format, info); err != nil {
			t.Fatal(err)
		}
		var got version.Info
		switch format {
		case "json":
			if err := json.Unmarshal(b.Bytes(), &got); err != nil || got != info || !strings.HasSuffix(b.String(), "}\n") {
				t.Errorf("json: %v, %+v from %s", err, got, b.String())
			}
		case "yaml":
			if err := yaml.Unmarshal(b.Bytes(), &got); err != nil || got != info {
				t.Errorf("yaml: %v, %+v from %s", err, got, b.String())
			}
		default:
			if want := "regcheck v1.2.3 (commit abc1234, go1.27.3, linux/amd64)\n"; b.String() != want {
				t.Errorf("%s: %q, want %q", format, b.String(), want)
			}
		}
	}
}
