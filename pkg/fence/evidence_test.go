package fence

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// TestEvidenceIsDisplayOnly: a result's evidence is what a person reads
// (issue 16's shape item 4). Outside the printers, code only writes it
// (r.Evidence[k] = v); anything code decides on is a typed field of the
// result or of an engine's outcome, never read back from evidence by key.
func TestEvidenceIsDisplayOnly(t *testing.T) {
	files := sourceFiles(t, func(path string) bool { return strings.Contains(path, "/printers/") })
	fs := token.NewFileSet()
	for _, path := range files {
		file, err := parser.ParseFile(fs, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		written := map[ast.Expr]bool{}
		ast.Inspect(file, func(n ast.Node) bool {
			if as, ok := n.(*ast.AssignStmt); ok && as.Tok == token.ASSIGN {
				for _, lhs := range as.Lhs {
					written[lhs] = true
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			ix, ok := n.(*ast.IndexExpr)
			if !ok || written[ix] {
				return true
			}
			if sel, ok := ix.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Evidence" {
				t.Errorf("%s: reads a result's evidence by key: decide on a typed field; evidence is display only", fs.Position(ix.Pos()))
			}
			return true
		})
	}
}
