package fence

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/regcheck/regcheck/pkg/kube"
)

// TestOneKindsTable: kube.WorkloadKinds is the one table of workload kinds
// (names, listing, templates, how each restarts). No switch outside
// pkg/kube has a case for a kind by name: a kind added to the table would
// be missed there (issue 16, "one table of workload kinds drives listing,
// grouping, completion and remedies").
func TestOneKindsTable(t *testing.T) {
	kinds := map[string]bool{}
	for _, k := range kube.WorkloadKinds {
		kinds[k.Kind] = true
	}
	files := sourceFiles(t, func(path string) bool { return strings.Contains(path, "/kube/") })
	fs := token.NewFileSet()
	for _, path := range files {
		file, err := parser.ParseFile(fs, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok {
				return true
			}
			for _, e := range cc.List {
				if sel, ok := e.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "kube" && strings.HasPrefix(sel.Sel.Name, "Kind") {
						t.Errorf("%s: a case for kube.%s: say it in kube.WorkloadKinds and read it from there", fs.Position(sel.Pos()), sel.Sel.Name)
					}
				}
				lit, ok := e.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if s, err := strconv.Unquote(lit.Value); err == nil && kinds[s] {
					t.Errorf("%s: a case for the kind %q: say it in kube.WorkloadKinds and read it from there", fs.Position(lit.Pos()), s)
				}
			}
			return true
		})
	}
}
