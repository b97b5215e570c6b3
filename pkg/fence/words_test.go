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
	var files []string
	for _, dir := range []string{"..", filepath.Join("..", "..", "cmd")} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
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
