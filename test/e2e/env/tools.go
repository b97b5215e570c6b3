// Package env starts the real pieces the end-to-end tests and the demo run
// against: etcd, kube-apiserver and kube-controller-manager on loopback, with
// certificates, kubeconfig and RBAC generated on the fly.
//
// The API returns errors instead of taking a *testing.T so that a demo main
// program can use it as well as the tests.
package env

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// modulePath identifies the repository root among the go.mod files met while
// walking up from the working directory.
const modulePath = "github.com/regcheck/regcheck"

// ToolPaths holds absolute paths of the real binaries built by
// scripts/build-tools.sh.
type ToolPaths struct {
	Dir               string // the bin directory holding all of them
	Etcd              string
	APIServer         string
	ControllerManager string
	Kubectl           string
	Helm              string
	// Kubelet is the node's kubelet (test/tools/kubelet), built like the
	// others; a link into its own cache directory.
	Kubelet string
	// Containerd2Dir holds containerd 2.x's containerd and
	// containerd-shim-runc-v2 (test/tools/containerd2), a node's second
	// runtime; a link to its own cache directory.
	Containerd2Dir string
	// Prometheus and Promtool (test/tools/prometheus): the server that
	// scrapes `regcheck serve`, and the checker of the chart's rules.
	Prometheus string
	Promtool   string
}

// RepoRoot returns the directory holding the regcheck go.mod, found by
// walking up from the working directory (tests run in their package dir).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if isRegcheckModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// isRegcheckModule reports whether path is a go.mod declaring regcheck's
// module; nested modules such as test/tools/kube are skipped.
func isRegcheckModule(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == modulePath
		}
	}
	return false
}

var (
	toolsOnce sync.Once
	toolPaths ToolPaths
	toolsErr  error
)

// Tools builds (or finds in the cache) the real binaries and returns their
// paths. The build script runs at most once per process; a cached build
// returns in well under a second, a cold one takes many minutes.
func Tools() (ToolPaths, error) {
	toolsOnce.Do(func() { toolPaths, toolsErr = buildTools() })
	return toolPaths, toolsErr
}

func buildTools() (ToolPaths, error) {
	root, err := RepoRoot()
	if err != nil {
		return ToolPaths{}, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-tools.sh"))
	cmd.Dir = root
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return ToolPaths{}, fmt.Errorf("running scripts/build-tools.sh: %w\n%s", err, tailLines(stderr.String(), 20))
	}
	// The script prints the bin directory as its last stdout line.
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if dir == "" {
		return ToolPaths{}, errors.New("scripts/build-tools.sh printed no bin directory")
	}
	tp := ToolPaths{
		Dir:               dir,
		Etcd:              filepath.Join(dir, "etcd"),
		APIServer:         filepath.Join(dir, "kube-apiserver"),
		ControllerManager: filepath.Join(dir, "kube-controller-manager"),
		Kubectl:           filepath.Join(dir, "kubectl"),
		Helm:              filepath.Join(dir, "helm"),
		Kubelet:           filepath.Join(dir, "kubelet"),
		Containerd2Dir:    filepath.Join(dir, "containerd2"),
		Prometheus:        filepath.Join(dir, "prometheus"),
		Promtool:          filepath.Join(dir, "promtool"),
	}
	for _, p := range []string{tp.Etcd, tp.APIServer, tp.ControllerManager, tp.Kubectl, tp.Helm, tp.Kubelet,
		filepath.Join(tp.Containerd2Dir, "containerd"), filepath.Join(tp.Containerd2Dir, "containerd-shim-runc-v2"),
		tp.Prometheus, tp.Promtool} {
		fi, err := os.Stat(p)
		if err != nil {
			return ToolPaths{}, fmt.Errorf("tool missing after build: %w", err)
		}
		if fi.Mode()&0o111 == 0 {
			return ToolPaths{}, fmt.Errorf("tool %s is not executable", p)
		}
	}
	return tp, nil
}
