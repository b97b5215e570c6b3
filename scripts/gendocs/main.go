// Command gendocs writes one markdown page per regcheck command into docs/
// (make docs), from the cobra tree the binary runs, so the reference can
// not drift from the flags. With -check it writes nothing and exits 1 when
// the pages in -out differ from what it would generate (make docs-check).
//
// The output is deterministic: no "Auto generated ... on DATE" footer, and
// the home directory in flag defaults (cli-runtime's --cache-dir) is
// written as $HOME.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/regcheck/regcheck/pkg/cmd"
)

func main() {
	out := flag.String("out", "docs", "directory of the generated pages")
	check := flag.Bool("check", false, "compare -out with fresh pages instead of writing; exit 1 when stale")
	flag.Parse()
	if err := run(*out, *check, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

// pagePrefix names every generated page (kubectl_regcheck.md,
// kubectl_regcheck_scan.md, ...); other files in docs/ are left alone.
const pagePrefix = "kubectl_regcheck"

func run(out string, check bool, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "gendocs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := generate(tmp); err != nil {
		return err
	}
	fresh, err := pages(tmp)
	if err != nil {
		return err
	}
	old, err := pages(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var stale []string
	for name, data := range fresh {
		if prev, ok := old[name]; !ok || !bytes.Equal(prev, data) {
			stale = append(stale, name)
		}
	}
	for name := range old {
		if _, ok := fresh[name]; !ok {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if check {
		if len(stale) > 0 {
			return fmt.Errorf("%s is stale (run make docs): %s", out, strings.Join(stale, ", "))
		}
		return nil
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range stale {
		data, ok := fresh[name]
		if !ok {
			if err := os.Remove(filepath.Join(out, name)); err != nil {
				return err
			}
			fmt.Fprintln(w, "removed", filepath.Join(out, name))
			continue
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(w, "wrote", filepath.Join(out, name))
	}
	return nil
}

// generate renders the tree as kubectl users see it (getenv returns
// nothing, so the root is "kubectl regcheck", not Helm's "helm regcheck").
func generate(dir string) error {
	streams := genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: io.Discard, ErrOut: io.Discard}
	root := cmd.NewRootCmd(streams, func(string) string { return "" })
	home, _ := os.UserHomeDir()
	walk(root, func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		if len(home) > 1 {
			unhome := func(f *pflag.Flag) { f.DefValue = strings.ReplaceAll(f.DefValue, home, "$HOME") }
			c.Flags().VisitAll(unhome)
			c.PersistentFlags().VisitAll(unhome)
		}
	})
	return doc.GenMarkdownTree(root, dir)
}

func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// pages reads the generated pages in dir by file name.
func pages(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), pagePrefix) || filepath.Ext(e.Name()) != ".md" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		m[e.Name()] = data
	}
	return m, nil
}
