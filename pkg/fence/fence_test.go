// Package fence holds the dependency fence: engines that must not know
// cobra, a registry probe that must not know client-go, and production
// code that must not reach into test helpers (as crane's depcheck does).
package fence

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const cmdPkg = "github.com/regcheck/regcheck/pkg/cmd"

func TestDependencyFence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over the dependency graph")
	}
	forbidden := map[string][]string{
		// The one reference parser is a leaf: distribution/reference and
		// go-digest, no report or registry words.
		"imageref": {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/report", "github.com/regcheck/regcheck/pkg/registry"},
		"report":   {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm"},
		"printers": {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm"},
		// The registry client returns typed facts (report.Fault); the
		// words for a person, message and fix, are pkg/remedy's.
		"registry":    {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/remedy"},
		"probe":       {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm"},
		"credentials": {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm/v3/pkg/helmpath"},
		"kube":        {"github.com/spf13/cobra", "helm.sh/helm"},
		"scan":        {"github.com/spf13/cobra", "helm.sh/helm"},
		"helmbugs":    {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm"},
		"pullfailure": {"github.com/spf13/cobra", "k8s.io/client-go", "k8s.io/api", "helm.sh/helm"},
		"helmclient":  {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm"},
		// Matching and config decoding only: no cluster, no registry.
		"nodecreds": {"github.com/spf13/cobra", "k8s.io/client-go", "helm.sh/helm", "k8s.io/kubernetes", "github.com/regcheck/regcheck/pkg/registry"},
		// Name suggestions are plain string work, shared by doctor and scan.
		"similar": {"github.com/spf13/cobra", "k8s.io/client-go", "k8s.io/api", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/report", "github.com/regcheck/regcheck/pkg/registry"},
		// Remedies are words over report's: no cluster, registry or CLI.
		"remedy": {"github.com/spf13/cobra", "k8s.io/client-go", "k8s.io/api", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/registry", "github.com/regcheck/regcheck/pkg/kube"},
		// The doctor composes the engines: no CLI, no Helm, no client of
		// its own (workloads come from scan.Run, ConfigMaps from pkg/kube,
		// both handed in). Printers are the only renderer: the doctor
		// returns results and printers draws its table and incident report.
		"doctor": {"github.com/spf13/cobra", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/printers"},
		// Helm's storage driver needs Helm's action package (which itself
		// imports cobra): the fence keeps regcheck's own front end and
		// printers out.
		"helmrelease": {"github.com/regcheck/regcheck/pkg/printers", "github.com/regcheck/regcheck/pkg/doctor"},
		"version":     {"github.com/spf13/cobra", "k8s.io", "helm.sh/helm"},
		// The shared fan-out: concurrency only, no regcheck words.
		"bounded": {"github.com/spf13/cobra", "k8s.io", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/"},
		// Tag versions are string work over semver: no cluster, registry
		// or report words.
		"versions": {"github.com/spf13/cobra", "k8s.io", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/report", "github.com/regcheck/regcheck/pkg/registry"},
		// Chart rendering is Helm's action package (which imports cobra
		// itself): the fence keeps regcheck's front end, printers and
		// engines out of it.
		"helmrender": {"github.com/regcheck/regcheck/pkg/cmd", "github.com/regcheck/regcheck/pkg/printers", "github.com/regcheck/regcheck/pkg/verify", "github.com/regcheck/regcheck/pkg/scan"},
		// Pre-deploy checks compose kube's templates and the probe: no
		// CLI, no Helm (charts are rendered by the front end), no printing.
		"verify": {"github.com/spf13/cobra", "helm.sh/helm", "github.com/regcheck/regcheck/pkg/printers"},
		// Continuous mode is a loop and metrics over a scan function handed
		// in: no CLI, no Helm, no cluster client of its own, no printing.
		"serve": {"github.com/spf13/cobra", "helm.sh/helm", "k8s.io/client-go", "github.com/regcheck/regcheck/pkg/printers", "github.com/regcheck/regcheck/pkg/scan", "github.com/regcheck/regcheck/pkg/kube"},
	}
	// Every package under pkg/ but the front end and this one has a row:
	// a new engine cannot escape the fence by being left out.
	out, err := exec.Command("go", "list", "github.com/regcheck/regcheck/pkg/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, path := range strings.Fields(string(out)) {
		name := strings.TrimPrefix(path, "github.com/regcheck/regcheck/pkg/")
		if _, ok := forbidden[name]; !ok && name != "cmd" && name != "fence" {
			t.Errorf("pkg/%s has no row in the dependency fence", name)
		}
	}
	for pkg, bad := range forbidden {
		path := "github.com/regcheck/regcheck/pkg/" + pkg
		out, err := exec.Command("go", "list", "-deps", path).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", path, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
			if strings.HasPrefix(dep, "github.com/regcheck/regcheck/test/") {
				t.Errorf("%s depends on test code %s", pkg, dep)
			}
			if dep == cmdPkg {
				t.Errorf("%s depends on the front end %s", pkg, dep)
			}
		}
	}
}

// TestDoctorHasNoClient: the doctor imports no Kubernetes client itself
// (it reaches the cluster only through the engines handed to it), though
// those engines bring client-go along.
func TestDoctorHasNoClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-f", `{{join .Imports " "}}`, "github.com/regcheck/regcheck/pkg/doctor").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "k8s.io/client-go") {
			t.Errorf("pkg/doctor imports %s: take what the cluster says from scan.Run or pkg/kube", imp)
		}
	}
}

// TestOneReferenceParser: image references are parsed in pkg/imageref
// only; no other package imports distribution/reference's parser.
func TestOneReferenceParser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list over every package")
	}
	out, err := exec.Command("go", "list", "-test", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/regcheck/regcheck/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "github.com/regcheck/regcheck/pkg/imageref") {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == "github.com/distribution/reference" {
				t.Errorf("%s imports %s: parse references with pkg/imageref", fields[0], imp)
			}
		}
	}
}

// TestReadmeDesignTable: the README's design table names every package
// under pkg/, so a reader finds each one's job there.
func TestReadmeDesignTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, design, ok := strings.Cut(string(readme), "\n## Design\n")
	if !ok {
		t.Fatal("README.md has no ## Design section")
	}
	design, _, _ = strings.Cut(design, "\n## ")
	dirs, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if d.IsDir() && !strings.Contains(design, "`pkg/"+d.Name()+"`") {
			t.Errorf("README's design section has no row for pkg/%s", d.Name())
		}
	}
	// And every package it names exists: a row outliving its package
	// misleads as much as a missing one.
	for _, m := range readmePackage.FindAllStringSubmatch(design, -1) {
		if st, err := os.Stat(filepath.Join("..", m[1])); err != nil || !st.IsDir() {
			t.Errorf("README's design section names pkg/%s, which does not exist", m[1])
		}
	}
}

// readmePackage is a package named in code font: `pkg/NAME`.
var readmePackage = regexp.MustCompile("`pkg/([a-z0-9]+)`")
