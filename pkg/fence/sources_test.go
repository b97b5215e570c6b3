package fence

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// sourcePrefixes begin the credential source strings regcheck prints
// (credential helpers, pull secrets, ServiceAccounts).
var sourcePrefixes = []string{"credential-helper/", "secret/", "serviceaccount/"}

// TestNoSourceStringReadBack: a credential's or a problem's source string
// is display only. Code that decides by the kind of store, a helper's name
// or a pull secret's namespace and name reads the typed fields
// (credentials.Origin, Problem.Helper, Problem.Secret), never cuts or
// matches a prefix of the printed string: no strings function that
// splits or prefix-matches is called on a value named *Source, nor with
// a source prefix ("secret/...") as its pattern.
func TestNoSourceStringReadBack(t *testing.T) {
	cutters := map[string]bool{
		"HasPrefix": true, "CutPrefix": true, "TrimPrefix": true,
		"HasSuffix": true, "CutSuffix": true, "TrimSuffix": true,
		"Cut": true, "Split": true, "SplitN": true, "SplitAfter": true, "Fields": true,
		"Index": true, "LastIndex": true, "Contains": true,
	}
	// A Helm template's Source is its file path, no credential's.
	files := sourceFiles(t, func(path string) bool { return strings.Contains(path, "/helmrender/") })
	fs := token.NewFileSet()
	for _, path := range files {
		file, err := parser.ParseFile(fs, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !cutters[sel.Sel.Name] {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "strings" {
				return true
			}
			if name := lastName(call.Args[0]); strings.HasSuffix(strings.ToLower(name), "source") {
				t.Errorf("%s: strings.%s on %s reads a source string back: use the typed Origin, Helper or Secret", fs.Position(call.Pos()), sel.Sel.Name, name)
			}
			for _, arg := range call.Args[1:] {
				if lit, ok := firstLiteral(arg); ok {
					for _, p := range sourcePrefixes {
						if strings.HasPrefix(lit, p) {
							t.Errorf("%s: strings.%s with %q matches a source string: use the typed Origin, Helper or Secret", fs.Position(call.Pos()), sel.Sel.Name, lit)
						}
					}
				}
				if name := lastName(arg); name == "helperSourcePrefix" {
					t.Errorf("%s: strings.%s with %s matches a source string: use Problem.Helper or Store.Helper", fs.Position(call.Pos()), sel.Sel.Name, name)
				}
			}
			return true
		})
	}
}

// lastName is the identifier an expression ends in: Source for r.Source,
// p.Source or source; "" for anything else.
func lastName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	case *ast.IndexExpr:
		return lastName(x.X)
	case *ast.ParenExpr:
		return lastName(x.X)
	}
	return ""
}

// firstLiteral is the string literal an expression begins with: "secret/"
// for "secret/"+ns+"/".
func firstLiteral(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			s, err := strconv.Unquote(x.Value)
			return s, err == nil
		}
	case *ast.BinaryExpr:
		if x.Op == token.ADD {
			return firstLiteral(x.X)
		}
	case *ast.ParenExpr:
		return firstLiteral(x.X)
	}
	return "", false
}
