package env

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Sandbox is a home of its own with regcheck installed the way users
// install it: kubectl-regcheck on PATH (so the real kubectl finds it as
// `kubectl regcheck`) and `helm plugin install` of the repository (so the
// real helm runs `helm regcheck`). Nothing outside Dir is read or written
// through it: HOME, DOCKER_CONFIG and Helm's directories all point inside.
type Sandbox struct {
	Dir   string
	Root  string // the repository
	Tools ToolPaths
	env   []string
}

// Result is what one command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

var (
	buildOnce sync.Once
	buildErr  error
)

// BuildRegcheck runs `make build` once per process, so tests run the same
// binary users get (bin/kubectl-regcheck, with version ldflags).
func BuildRegcheck() error {
	buildOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("make", "-s", "build")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("make build: %w\n%s", err, out)
		}
	})
	return buildErr
}

// NewSandbox prepares dir (which must exist) as a home with regcheck
// installed as a kubectl and a Helm plugin.
func NewSandbox(ctx context.Context, dir string) (*Sandbox, error) {
	return newSandbox(ctx, dir, false)
}

// NewFreshSandbox is a first-time user's machine: a fresh, empty HOME and a
// PATH, nothing else. No DOCKER_CONFIG, no HELM_* directories, no
// ~/.docker, no Helm config: kubectl and Helm find their defaults under
// HOME as they would for a new user, and Helm runs the plugin with the
// environment it gives every plugin (HELM_REGISTRY_CONFIG at its default
// path, which does not exist, HELM_NAMESPACE, ...). KUBECONFIG is unset
// ($HOME/.kube/config, absent) until a test adds it with With.
func NewFreshSandbox(ctx context.Context, dir string) (*Sandbox, error) {
	return newSandbox(ctx, dir, true)
}

func newSandbox(ctx context.Context, dir string, fresh bool) (*Sandbox, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	tools, err := Tools()
	if err != nil {
		return nil, err
	}
	if err := BuildRegcheck(); err != nil {
		return nil, err
	}
	plugins := filepath.Join(dir, "plugins")
	dirs := []string{plugins}
	if !fresh {
		dirs = append(dirs, filepath.Join(dir, ".docker"), filepath.Join(dir, "helm", "config"), filepath.Join(dir, "helm", "data"), filepath.Join(dir, "helm", "cache"))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// kubectl discovers plugins as executables named kubectl-* on PATH.
	if err := os.Symlink(filepath.Join(root, "bin", "kubectl-regcheck"), filepath.Join(plugins, "kubectl-regcheck")); err != nil {
		return nil, fmt.Errorf("installing the kubectl plugin: %w", err)
	}
	s := &Sandbox{Dir: dir, Root: root, Tools: tools, env: []string{
		"HOME=" + dir,
		"PATH=" + plugins + string(os.PathListSeparator) + tools.Dir + string(os.PathListSeparator) + "/usr/local/bin:/usr/bin:/bin",
	}}
	if !fresh {
		s.env = append(s.env,
			"DOCKER_CONFIG="+filepath.Join(dir, ".docker"),
			"HELM_CONFIG_HOME="+filepath.Join(dir, "helm", "config"),
			"HELM_DATA_HOME="+filepath.Join(dir, "helm", "data"),
			"HELM_CACHE_HOME="+filepath.Join(dir, "helm", "cache"),
			"KUBECONFIG="+filepath.Join(dir, "no-kubeconfig"),
			"NO_COLOR=1",
		)
	}
	if r := s.Run(ctx, "", "helm", "plugin", "install", root); r.Code != 0 {
		return nil, fmt.Errorf("helm plugin install: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	return s, nil
}

// With returns a copy of the sandbox with more environment (KEY=VALUE).
func (s *Sandbox) With(kv ...string) *Sandbox {
	c := *s
	c.env = append(append([]string(nil), s.env...), kv...)
	return &c
}

// Env is the sandbox's environment.
func (s *Sandbox) Env() []string { return append([]string(nil), s.env...) }

// Run runs name (kubectl, helm, or any tool on the sandbox's PATH) with
// args and stdin in the sandbox.
func (s *Sandbox) Run(ctx context.Context, stdin, name string, args ...string) Result {
	path := name
	switch name {
	case "kubectl":
		path = s.Tools.Kubectl
	case "helm":
		path = s.Tools.Helm
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = s.Dir
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	res := Result{Stdout: out.String(), Stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		res.Code = -1
		res.Stderr += "\n(run error: " + err.Error() + ")"
	}
	return res
}
