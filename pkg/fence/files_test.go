package fence

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sourceFiles are the non-test Go files of pkg and cmd that skip (given
// the slash-separated path; nil for none) does not leave out: what the
// fence rules read.
func sourceFiles(t *testing.T, skip func(path string) bool) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"..", filepath.Join("..", "..", "cmd")} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") &&
				(skip == nil || !skip(filepath.ToSlash(path))) {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 50 {
		t.Fatalf("found %d source files; the walk is wrong", len(files))
	}
	return files
}
