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
// a source prefix ("secret/...") as its pattern. Nor is a credential picked
// by comparing source strings (c.Source == res.CredentialSource): two
// credentials may share a source (one pull secret's two entries for a
// host), so what a lookup used travels by identity (registry.Used,
// probe.Outcome); only a comparison with a constant (SourceAnonymous, "")
// is a test of kind, not a search.
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
			if bin, ok := n.(*ast.BinaryExpr); ok && (bin.Op == token.EQL || bin.Op == token.NEQ) {
				if comparesSources(bin.X, bin.Y) || comparesSources(bin.Y, bin.X) {
					t.Errorf("%s: %s %s %s picks a credential by its source string: carry which one was used (registry.Used, probe.Outcome)",
						fs.Position(bin.Pos()), lastName(bin.X), bin.Op, lastName(bin.Y))
				}
				return true
			}
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
			if name := lastName(call.Args[0]); namedSource(name) {
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

// comparesSources says whether x, a value named *Source (or a Source()
// call), is compared with other, anything but a constant: a literal, nil,
// or a named constant such as credentials.SourceAnonymous.
func comparesSources(x, other ast.Expr) bool {
	if !namedSource(lastName(x)) {
		return false
	}
	switch o := other.(type) {
	case *ast.BasicLit:
		return false
	case *ast.Ident:
		return o.Name != "nil" && !strings.HasPrefix(o.Name, "Source")
	case *ast.SelectorExpr:
		return !strings.HasPrefix(o.Sel.Name, "Source")
	}
	return true
}

// namedSource says whether an identifier names a source string: Source,
// CredentialSource, src...Source; not a Kubernetes resource.
func namedSource(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, "source") && !strings.HasSuffix(name, "resource")
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
	case *ast.CallExpr:
		return lastName(x.Fun) // a.source() reads as source
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
