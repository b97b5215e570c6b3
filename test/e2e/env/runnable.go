package env

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var (
	sleeperOnce sync.Once
	sleeperBin  []byte
	sleeperErr  error
)

// sleeper builds ./test/e2e/env/sleeper once per process (static, for this
// machine's architecture) and returns the binary.
func sleeper() ([]byte, error) {
	sleeperOnce.Do(func() {
		root, err := RepoRoot()
		if err != nil {
			sleeperErr = err
			return
		}
		dir, err := os.MkdirTemp("", "regcheck-sleeper-")
		if err != nil {
			sleeperErr = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "sleeper")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./test/e2e/env/sleeper")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if b, err := cmd.CombinedOutput(); err != nil {
			sleeperErr = fmt.Errorf("building the sleeper: %w\n%s", err, b)
			return
		}
		sleeperBin, sleeperErr = os.ReadFile(out)
	})
	return sleeperBin, sleeperErr
}

// tarLayer is an uncompressed layer of the given files (name to mode and
// content).
func tarLayer(files map[string][]byte, modes map[string]int64) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range files {
		mode := modes[name]
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

// RunnableImage is a new image a real node can run: the sleeper as
// /sleeper (its entrypoint; the same layer in every image) and a layer of
// random bytes, so no two images share a config digest. containerd keeps one
// record per config digest and names the alphabetically first repository
// holding it in imageID, so tests push the same image twice only on purpose.
func RunnableImage() (v1.Image, error) {
	bin, err := sleeper()
	if err != nil {
		return nil, err
	}
	base, err := tarLayer(map[string][]byte{"sleeper": bin}, map[string]int64{"sleeper": 0o755})
	if err != nil {
		return nil, err
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	unique, err := tarLayer(map[string][]byte{"id": []byte(hex.EncodeToString(id) + "\n")}, nil)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, base, unique)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Entrypoint = []string{"/sleeper"}
	return mutate.ConfigFile(img, cf)
}

// PushRunnableImage pushes a new RunnableImage to repo:tag as user.
func PushRunnableImage(reg *Registry, repo, tag, user string) (Pushed, error) {
	img, err := RunnableImage()
	if err != nil {
		return Pushed{}, err
	}
	return PushImage(reg, repo, tag, user, img)
}

// shortHash is 10 hex digits of s's SHA-256, for names derived from paths.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:5])
}

// sanitizeName keeps the letters, digits and dashes of s (a node name must
// be a DNS subdomain), at most 40 of them.
func sanitizeName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}
