package fence

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
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

// TestOneCopy: the shared parts have one copy. A bounded fan-out is
// pkg/bounded's (no errgroup or channel semaphore elsewhere), and a digest
// is go-digest's and pkg/imageref's (no hex-64 pattern, no "sha256:"
// spelled by hand). A credential source string is never read back.
func TestOneCopy(t *testing.T) {
	rules := []struct {
		owner string // the package allowed to hold it
		bad   string
		what  string
	}{
		{"bounded", "golang.org/x/sync/errgroup", "a fan-out: use pkg/bounded"},
		{"bounded", "make(chan struct{}, ", "a semaphore: use pkg/bounded"},
		{"imageref", "{64}", "a digest pattern: parse with pkg/imageref or go-digest"},
		{"imageref", `"sha256:" +`, "a digest spelled by hand: use go-digest"},
		// Printers are the only renderer of -o json and yaml.
		{"printers", "json.MarshalIndent(", "output rendered outside pkg/printers"},
		{"printers", "yaml.Marshal(", "output rendered outside pkg/printers"},
		// A credential's kind is its typed Origin, set where it is made;
		// its source string is display and is never read back.
		{"-", "OriginOf(", "a source string read back: use Credential.Origin or Store.Origin"},
		// (TestNoSourceStringReadBack finds prefix matching by its syntax.)
	}
	files := sourceFiles(t, nil)
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if strings.Contains(filepath.ToSlash(path), "/"+r.owner+"/") {
				continue
			}
			if strings.Contains(string(src), r.bad) {
				t.Errorf("%s holds %q: %s", path, r.bad, r.what)
			}
		}
	}
}

// TestRegistryWritesNoMessage: the registry client returns typed facts
// (report.Fault and its report.Seen) and no message; pkg/remedy words the
// message as it words the fix. No type of pkg/registry holds a message
// field, nothing there sets one, and no method there returns one
// (callers word a Failure with remedy.Message; TestDependencyFence keeps
// pkg/remedy out of pkg/registry's imports).
func TestRegistryWritesNoMessage(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "registry", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	worded := regexp.MustCompile(`^(Message|Msg|Text|Summary|Description|Note)$`)
	fs := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fs, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.TypeSpec:
				st, ok := x.Type.(*ast.StructType)
				if !ok {
					return true
				}
				for _, fld := range st.Fields.List {
					for _, id := range fld.Names {
						if worded.MatchString(id.Name) {
							t.Errorf("%s: %s.%s holds wording: add a typed fact to report.Seen and word it in remedy.Message", fs.Position(id.Pos()), x.Name.Name, id.Name)
						}
					}
					if id, ok := fld.Type.(*ast.Ident); ok && id.Name == "string" && x.Name.Name == "Failure" {
						t.Errorf("%s: Failure has a string field: its facts are typed in report.Fault", fs.Position(fld.Pos()))
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && worded.MatchString(k.Name) {
					t.Errorf("%s: sets %s: return the facts, remedy.Message words them", fs.Position(x.Pos()), k.Name)
				}
			case *ast.AssignStmt:
				for _, l := range x.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && worded.MatchString(sel.Sel.Name) {
						t.Errorf("%s: sets .%s: return the facts, remedy.Message words them", fs.Position(x.Pos()), sel.Sel.Name)
					}
				}
			case *ast.FuncDecl:
				if x.Recv != nil && worded.MatchString(x.Name.Name) {
					t.Errorf("%s: method %s words the facts: callers word them with pkg/remedy", fs.Position(x.Pos()), x.Name.Name)
				}
			}
			return true
		})
	}
}

// TestFailuresAreTyped: a registry failure is named by its typed facts
// (report.Cause and report.Seen), and Seen.ErrText, the free text kept
// for an error no fact describes, is set in pkg/registry only: no other
// package, and no test fake, makes a failure production never returns.
func TestFailuresAreTyped(t *testing.T) {
	var files []string
	for _, dir := range []string{"..", filepath.Join("..", "..", "cmd"), filepath.Join("..", "..", "test")} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") &&
				!strings.Contains(filepath.ToSlash(path), "/registry/") && !strings.Contains(filepath.ToSlash(path), "/fence/") {
				files = append(files, path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 100 {
		t.Fatalf("found %d Go files; the walk is wrong", len(files))
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "ErrText:") || strings.Contains(string(src), ".ErrText =") {
			t.Errorf("%s sets Seen.ErrText: name the failure by its report.Cause and report.Seen facts", path)
		}
	}
}
