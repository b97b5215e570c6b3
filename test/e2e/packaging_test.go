package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestPackaging installs regcheck the ways users do, with the real tools in
// a sandboxed home: the release archive through krew and kubectl, and the
// repository as a Helm plugin through Helm 3 and Helm 4. It needs
// bin/kubectl-regcheck (make build) and runs `make dist` itself when dist/
// is missing or older than that binary.
func TestPackaging(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds release archives, runs real kubectl, krew and helm")
	}
	root, tools, ptools := packagingSetup(t)
	sb := newPackagingSandbox(t, tools.Kubectl, ptools)

	t.Run("dist is reproducible", func(t *testing.T) {
		before := packagingRead(t, filepath.Join(root, "dist", "checksums.txt"))
		packagingMake(t, root, "dist")
		after := packagingRead(t, filepath.Join(root, "dist", "checksums.txt"))
		if before != after {
			t.Fatalf("a second make dist changed the archives:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if n := strings.Count(after, "\n"); n != len(packagingPlatforms()) {
			t.Fatalf("checksums.txt lists %d archives, want %d:\n%s", n, len(packagingPlatforms()), after)
		}
	})

	// The manifest is a release asset generated from dist/ (make
	// krew-manifest), never committed: a binary links the commit it is built
	// from, so a committed manifest could only carry checksums that match no
	// build of it.
	manifest := filepath.Join(sb.dir, "regcheck.yaml") // krew takes the plugin name from the file name
	fresh, err := exec.Command("bash", filepath.Join(root, "scripts", "krew-manifest.sh"), filepath.Join(root, "dist", "checksums.txt")).Output()
	if err != nil {
		t.Fatalf("scripts/krew-manifest.sh: %v", packagingExitDetail(err))
	}
	if err := os.WriteFile(manifest, fresh, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("krew manifest", func(t *testing.T) {
		// No checksums that match nothing: the repository holds no krew
		// manifest, only its generator.
		tracked, err := exec.Command("git", "-C", root, "ls-files", "*.krew.yaml", ".krew.yaml", "regcheck.yaml").Output()
		if err != nil {
			t.Fatalf("git ls-files: %v", packagingExitDetail(err))
		}
		if s := strings.TrimSpace(string(tracked)); s != "" {
			t.Errorf("a krew manifest is committed (%s): it is a release asset, written by make krew-manifest into dist/", s)
		}
		for _, sum := range packagingSHALine.FindAllStringSubmatch(string(fresh), -1) {
			if !strings.Contains(packagingRead(t, filepath.Join(root, "dist", "checksums.txt")), sum[2]) {
				t.Errorf("manifest sha256 %s is not in dist/checksums.txt", sum[2])
			}
		}
		// -skip-install: its install step downloads the uri; the subtests
		// below install every archive from dist/ instead.
		sb.run(t, ptools.validate, "-manifest", manifest, "-skip-install")
	})

	// Every archive against its platform's entry: sha256, bin and LICENSE.
	// KREW_OS/KREW_ARCH make krew pick the entry as it would on that platform.
	t.Run("krew install every platform", func(t *testing.T) {
		for _, p := range packagingPlatforms() {
			t.Run(p.os+"/"+p.arch, func(t *testing.T) {
				krewRoot := filepath.Join(t.TempDir(), "krew")
				sb.runEnv(t, []string{"KREW_ROOT=" + krewRoot, "KREW_OS=" + p.os, "KREW_ARCH=" + p.arch},
					sb.kubectl, "krew", "install", "--manifest="+manifest, "--archive="+packagingArchive(t, root, p.os, p.arch))
				store := filepath.Join(krewRoot, "store", "regcheck")
				for _, f := range []string{"LICENSE", p.exe()} {
					if m, _ := filepath.Glob(filepath.Join(store, "*", f)); len(m) != 1 {
						t.Errorf("%s not installed in %s", f, store)
					}
				}
			})
		}
	})

	t.Run("kubectl regcheck via krew", func(t *testing.T) {
		archive := packagingArchive(t, root, runtime.GOOS, runtime.GOARCH)
		sb.run(t, sb.kubectl, "krew", "install", "--manifest="+manifest, "--archive="+archive)

		out := sb.run(t, sb.kubectl, "plugin", "list")
		if !strings.Contains(out, filepath.Join(sb.krewRoot, "bin", "kubectl-regcheck")) {
			t.Errorf("kubectl plugin list does not show krew's kubectl-regcheck:\n%s", out)
		}

		var info struct{ Version, Commit, GoVersion, Platform string }
		out = sb.run(t, sb.kubectl, "regcheck", "version", "-o", "json")
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("kubectl regcheck version -o json: %v\n%s", err, out)
		}
		if info.Platform != runtime.GOOS+"/"+runtime.GOARCH || info.Version == "" || info.Version == "dev" || info.Commit == "unknown" {
			t.Errorf("version of the released binary = %+v, want this platform and the version and commit linked in by make dist", info)
		}

		// The root's display name: usage reads as kubectl users type it.
		if out := sb.run(t, sb.kubectl, "regcheck", "--help"); !strings.Contains(out, "kubectl regcheck") {
			t.Errorf("kubectl regcheck --help does not say kubectl regcheck:\n%s", out)
		}
		// No `krew uninstall`: it insists on a cloned plugin index (network);
		// the sandbox goes away with the test.
	})

	for _, h := range []struct{ name, bin string }{{"helm3", tools.Helm}, {"helm4", ptools.helm4}} {
		t.Run(h.name+" plugin", func(t *testing.T) {
			// Plugins land in $HELM_DATA_HOME/plugins. HELM_PLUGINS is left
			// unset: Helm 4.3.1 symlinks a local directory into the data
			// home's plugins dir even when HELM_PLUGINS points elsewhere,
			// and then lists only HELM_PLUGINS.
			extra := helmHomeEnv(filepath.Join(sb.dir, h.name))
			run := func(args ...string) string { return sb.runEnv(t, extra, h.bin, args...) }

			// A local directory: Helm links it and runs the install hook,
			// which finds bin/kubectl-regcheck. Helm 4 skips signature
			// verification for local directories by itself.
			run("plugin", "install", root)
			if !packagingListed(run("plugin", "list")) {
				t.Fatalf("%s plugin list does not show regcheck", h.name)
			}
			if out := run("regcheck", "version"); !strings.HasPrefix(out, "regcheck ") {
				t.Errorf("%s regcheck version printed %q", h.name, out)
			}
			// Helm's environment switches regcheck to its Helm front end.
			if out := run("regcheck", "push-auth", "--help"); !strings.Contains(out, "helm regcheck push-auth") {
				t.Errorf("%s regcheck push-auth --help does not say helm regcheck push-auth:\n%s", h.name, out)
			}
			run("plugin", "uninstall", "regcheck")
			if packagingListed(run("plugin", "list")) {
				t.Errorf("%s plugin list still shows regcheck after uninstall", h.name)
			}
			if _, err := os.Stat(filepath.Join(root, "plugin.yaml")); err != nil {
				t.Errorf("uninstall touched the repository: %v", err)
			}
		})
	}
}

// TestHelmPluginArchive installs the release archive as a Helm plugin from
// its URL (served on loopback, as a release page serves it) with Helm 3,
// Helm 4 and, with REGCHECK_E2E_HELM314=1, Helm v3.14.4: the archive's
// plugin.yaml has no hooks, so even a Helm that refuses the repository's
// platformHooks installs it.
func TestHelmPluginArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds release archives, runs real helm")
	}
	root, tools, ptools := packagingSetup(t)
	archive := packagingArchive(t, root, runtime.GOOS, runtime.GOARCH)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(archive))))
	t.Cleanup(srv.Close)
	url := srv.URL + "/" + filepath.Base(archive)
	sb := newPackagingSandbox(t, tools.Kubectl, ptools)

	helms := []struct {
		name, bin string
		install   []string
	}{
		{"helm3", tools.Helm, nil},
		// Helm 4 verifies plugin signatures by default; the release
		// publishes no .prov, so the user says --verify=false (README).
		{"helm4", ptools.helm4, []string{"--verify=false"}},
	}
	if os.Getenv("REGCHECK_E2E_HELM314") != "" {
		helms = append(helms, struct {
			name, bin string
			install   []string
		}{"helm314", helm314(t, root), nil})
	}
	for _, h := range helms {
		t.Run(h.name, func(t *testing.T) {
			extra := helmHomeEnv(filepath.Join(sb.dir, "archive-"+h.name))
			run := func(args ...string) string { return sb.runEnv(t, extra, h.bin, args...) }
			run(append([]string{"plugin", "install", url}, h.install...)...)
			if !packagingListed(run("plugin", "list")) {
				t.Fatalf("%s plugin list does not show regcheck", h.name)
			}
			if out := run("regcheck", "version"); !strings.HasPrefix(out, "regcheck ") {
				t.Errorf("%s regcheck version printed %q", h.name, out)
			}
			if out := run("regcheck", "pull-auth", "--help"); !strings.Contains(out, "helm regcheck pull-auth") {
				t.Errorf("%s regcheck pull-auth --help does not say helm regcheck pull-auth:\n%s", h.name, out)
			}
			run("plugin", "uninstall", "regcheck")
		})
	}
}

// TestHelmPluginUpdate installs regcheck with the real Helm 3 the way
// `helm plugin install https://github.com/regcheck/regcheck` does, from a
// git repository (served by git daemon on loopback), then makes a newer
// commit upstream: `helm plugin update` pulls it and its update hook
// rebuilds, so the plugin reports the new commit. Helm updates only VCS
// installs; a local directory is linked, not updated.
func TestHelmPluginUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end: builds regcheck twice through Helm's hooks")
	}
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := env.Tools()
	if err != nil {
		t.Fatal(err)
	}
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed: it serves the plugin repository")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: the update hook builds from source")
	}
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, append([]string{"-C", dir, "-c", "user.name=regcheck-e2e", "-c", "user.email=e2e@example.invalid"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	repos := t.TempDir()
	git(repos, "clone", "-q", "--bare", root, "regcheck.git")
	port := freePort(t)
	// In its own process group: `git daemon` runs git-daemon as a child,
	// which killing git alone left running after every test run.
	daemon, err := env.StartProcess("git-daemon", t.TempDir(), gitBin, "daemon", "--export-all", "--base-path="+repos, "--listen=127.0.0.1", "--port="+port, "--reuseaddr", repos)
	if err != nil {
		t.Skipf("git daemon cannot start: %v", err)
	}
	t.Cleanup(func() { _ = daemon.Stop(5 * time.Second) })
	waitListening(t, "127.0.0.1:"+port)

	sb := newPackagingSandbox(t, tools.Kubectl, packagingTools(t, root))
	goEnv := func(name string) string {
		out, err := exec.Command(goBin, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	extra := append(helmHomeEnv(filepath.Join(sb.dir, "helm3")),
		// The hook builds with the project's Go from the machine's module
		// and build caches: no download.
		"PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+"/usr/bin:/bin",
		"GOMODCACHE="+goEnv("GOMODCACHE"), "GOCACHE="+goEnv("GOCACHE"), "GOPROXY=off",
	)
	run := func(args ...string) string { return sb.runEnv(t, extra, tools.Helm, args...) }
	commit := func() string {
		var info struct{ Commit string }
		if err := json.Unmarshal([]byte(run("regcheck", "version", "-o", "json")), &info); err != nil {
			t.Fatalf("helm regcheck version -o json: %v", err)
		}
		return info.Commit
	}

	url := "git://127.0.0.1:" + port + "/regcheck.git"
	run("plugin", "install", url)
	first := commit()
	if want := git(filepath.Join(repos, "regcheck.git"), "rev-parse", "--short", "HEAD"); first != want {
		t.Errorf("installed plugin reports commit %q, want the repository's %q", first, want)
	}

	work := filepath.Join(t.TempDir(), "work")
	git(repos, "clone", "-q", filepath.Join(repos, "regcheck.git"), work)
	git(work, "commit", "-q", "--allow-empty", "-m", "a newer commit")
	git(work, "push", "-q", "origin", "HEAD")
	newer := git(work, "rev-parse", "--short", "HEAD")

	run("plugin", "update", "regcheck")
	if got := commit(); got != newer || got == first {
		t.Errorf("after helm plugin update the plugin reports commit %q, want the newer %q (was %q)", got, newer, first)
	}
}

// freePort is a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// waitListening polls until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type packagingPlatform struct{ os, arch string }

func (p packagingPlatform) exe() string {
	if p.os == "windows" {
		return "kubectl-regcheck.exe"
	}
	return "kubectl-regcheck"
}

// packagingPlatforms are the platforms dist/ holds: the six of a release,
// or those PLATFORMS names, as scripts/dist.sh reads it (make e2e builds
// three; make e2e-packaging all six).
func packagingPlatforms() []packagingPlatform {
	list := os.Getenv("PLATFORMS")
	if strings.TrimSpace(list) == "" {
		list = "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
	}
	var out []packagingPlatform
	for _, p := range strings.Fields(list) {
		goos, goarch, _ := strings.Cut(p, "/")
		out = append(out, packagingPlatform{goos, goarch})
	}
	return out
}

// packagingSetup is what every packaging test needs: the repository, the
// environment's tools, the packaging tools, and dist/ built from this tree.
func packagingSetup(t *testing.T) (string, env.ToolPaths, packagingToolPaths) {
	t.Helper()
	root, err := env.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := env.Tools()
	if err != nil {
		t.Fatal(err)
	}
	ptools := packagingTools(t, root)
	packagingEnsureDist(t, root)
	return root, tools, ptools
}

// helmHomeEnv gives a Helm its own cache, config and data homes under dir.
func helmHomeEnv(dir string) []string {
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "data"),
	}
}

type packagingToolPaths struct{ krew, validate, helm4 string }

// packagingTools builds (or finds cached) kubectl-krew,
// validate-krew-manifest and helm4.
func packagingTools(t *testing.T, root string) packagingToolPaths {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build-packaging-tools.sh"))
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-packaging-tools.sh: %v", packagingExitDetail(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	return packagingToolPaths{
		krew:     filepath.Join(dir, "kubectl-krew"),
		validate: filepath.Join(dir, "validate-krew-manifest"),
		helm4:    filepath.Join(dir, "helm4"),
	}
}

// packagingEnsureDist runs make dist unless dist/ is newer than the binary
// the Helm plugin installs, so archives and binary come from the same tree.
func packagingEnsureDist(t *testing.T, root string) {
	t.Helper()
	bin, err := os.Stat(filepath.Join(root, "bin", "kubectl-regcheck"))
	if err != nil {
		t.Fatalf("bin/kubectl-regcheck: %v (run make build; make e2e does)", err)
	}
	sums, err := os.Stat(filepath.Join(root, "dist", "checksums.txt"))
	if err == nil && !sums.ModTime().Before(bin.ModTime()) {
		return
	}
	packagingMake(t, root, "dist")
}

func packagingMake(t *testing.T, root, target string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("make", "-C", root, target)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	t.Logf("make %s took %s", target, time.Since(start).Round(time.Second))
}

func packagingArchive(t *testing.T, root, goos, goarch string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(root, "dist", fmt.Sprintf("kubectl-regcheck_*_%s_%s.tar.gz", goos, goarch)))
	if len(m) != 1 {
		t.Fatalf("want one dist archive for %s/%s, found %v", goos, goarch, m)
	}
	return m[0]
}

var packagingSHALine = regexp.MustCompile(`(?m)^(\s*sha256: )([0-9a-f]{64})$`)

// packagingListed reports whether `helm plugin list` output has a regcheck row.
func packagingListed(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "regcheck" {
			return true
		}
	}
	return false
}

func packagingRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// packagingExitDetail adds the stderr that exec.Cmd.Output captured.
func packagingExitDetail(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("%v\n%s", err, ee.Stderr)
	}
	return err.Error()
}

// packagingSandbox is a throwaway home: nothing reads or writes the user's
// kubeconfig, krew root or Helm directories, and PATH holds only the tools
// under test (kubectl and kubectl-krew, then krew's bin) and the system's.
type packagingSandbox struct {
	dir, krewRoot, kubectl string
	env                    []string
}

func newPackagingSandbox(t *testing.T, kubectl string, pt packagingToolPaths) *packagingSandbox {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	sb := &packagingSandbox{dir: dir, krewRoot: filepath.Join(dir, "krew"), kubectl: filepath.Join(bin, "kubectl")}
	for _, d := range []string{bin, filepath.Join(dir, "home"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// kubectl finds krew as the kubectl-krew plugin on PATH.
	for name, target := range map[string]string{"kubectl": kubectl, "kubectl-krew": pt.krew} {
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	home := filepath.Join(dir, "home")
	sb.env = []string{
		"PATH=" + strings.Join([]string{bin, filepath.Join(sb.krewRoot, "bin"), "/usr/local/bin", "/usr/bin", "/bin"}, string(os.PathListSeparator)),
		"HOME=" + home,
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"KUBECONFIG=" + filepath.Join(home, ".kube", "config"),
		"KREW_ROOT=" + sb.krewRoot,
		"KREW_NO_UPGRADE_CHECK=1", // no call to GitHub
		"NO_COLOR=1",
	}
	return sb
}

func (sb *packagingSandbox) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return sb.runEnv(t, nil, name, args...)
}

// runEnv runs a command in the sandbox, extra overriding its environment,
// and fails the test on a non-zero exit. It returns stdout.
func (sb *packagingSandbox) runEnv(t *testing.T, extra []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = sb.dir
	cmd.Env = append(append([]string{}, sb.env...), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
