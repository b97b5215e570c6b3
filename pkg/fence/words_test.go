package fence

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// userWords are what a fix worded for a person names: a flag, a command
// of regcheck or of another tool.
var userWords = regexp.MustCompile(`(^|[\s(])--[a-z]|\b(crane|docker|kubectl|helm|aws|gcloud|az) [a-z]`)

// TestRegistryWordsNoFix: the registry client returns typed observations
// (report.Fault) and words no fix; no string it writes names a flag or a
// command. pkg/remedy words fixes for whoever reads them.
func TestRegistryWordsNoFix(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "registry", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fs, name, nil, 0) // comments are not parsed: they may name flags
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && userWords.MatchString(s) {
				t.Errorf("%s: %q names a flag or a command: return a report.Cause and word the fix in pkg/remedy", fs.Position(lit.Pos()), s)
			}
			return true
		})
	}
}
