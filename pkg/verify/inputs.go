package verify

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Input is one manifest file (or stdin) as read: its name, as results
// show it, and its bytes, read once and decoded twice (by the scheme, and
// by yaml.v3 for positions).
type Input struct {
	Name string
	Data []byte
}

// StdinName is what results show as the file of manifests read from "-".
const StdinName = "STDIN"

// manifestExtensions are the files a directory contributes, as kubectl
// apply -f DIR reads them.
var manifestExtensions = []string{".json", ".yaml", ".yml"}

// ReadInputs reads the -f arguments as kubectl apply -f does: a file, a
// directory (its .json, .yaml and .yml files; with recursive, those of its
// subdirectories too), or "-" for stdin (once). Written here rather than
// taken from cli-runtime's Builder, which expands paths only inside
// visitors that read each file themselves: the bytes are needed twice,
// and stdin can be read only once.
func ReadInputs(paths []string, recursive bool, stdin io.Reader) ([]Input, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no manifests given: use -f FILE, -f DIR or -f -")
	}
	var out []Input
	stdinRead := false
	for _, p := range paths {
		if p == "-" {
			if stdinRead {
				return nil, fmt.Errorf("-f - given more than once: stdin can be read only once")
			}
			stdinRead = true
			if stdin == nil {
				return nil, fmt.Errorf("reading stdin: no stdin")
			}
			b, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			out = append(out, Input{Name: StdinName, Data: b})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("the path %q does not exist", p)
		}
		if !st.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", p, err)
			}
			out = append(out, Input{Name: p, Data: b})
			continue
		}
		files, err := dirFiles(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			out = append(out, Input{Name: f, Data: b})
		}
	}
	return out, nil
}

// dirFiles lists dir's manifest files in lexical order (filepath.WalkDir's
// order, as kubectl's), descending only when recursive.
func dirFiles(dir string, recursive bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(manifestExtensions, strings.ToLower(filepath.Ext(path))) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return files, nil
}
