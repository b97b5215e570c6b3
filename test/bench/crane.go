package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// craneBinary returns the crane built from test/tools/crane, building it
// once into .cache/tools/<key>/bin like scripts/build-tools.sh does, with
// the same kind of key: the Go version and the tools module's go.mod and
// go.sum. mk/bench.mk computes the same key in shell.
func craneBinary(root string) (string, error) {
	gover, err := exec.Command("go", "version").Output()
	if err != nil {
		return "", fmt.Errorf("go version: %w", err)
	}
	h := sha256.New()
	h.Write(gover)
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, "test", "tools", "crane", f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	bin := filepath.Join(root, ".cache", "tools", key, "bin", "crane")
	if fi, err := os.Stat(bin); err == nil && fi.Mode()&0o111 != 0 {
		return bin, nil
	}
	logf("building crane (once; cached in %s)", filepath.Dir(bin))
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp.%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "github.com/google/go-containerregistry/cmd/crane")
	cmd.Dir = filepath.Join(root, "test", "tools", "crane")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building crane: %w\n%s", err, out)
	}
	return bin, os.Rename(tmp, bin)
}

// craneLoop runs `crane digest` once per reference, one after the other,
// as a shell loop would, and checks each answer against want. No --insecure:
// crane already allows plain HTTP to a loopback registry, and --insecure
// would let it skip verifying the certificate in the TLS row.
func craneLoop(ctx context.Context, crane string, envv []string, refs, want []string) (time.Duration, error) {
	return digestParallel(ctx, []string{crane, "digest"}, envv, refs, want, 1)
}

// craneParallel runs `crane digest` once per reference, n at a time, as
// `xargs -P n` would: a new process as soon as one ends.
func craneParallel(ctx context.Context, crane string, envv []string, refs, want []string, n int) (time.Duration, error) {
	return digestParallel(ctx, []string{crane, "digest"}, envv, refs, want, n)
}

// digestParallel runs the command argv + a reference once per reference,
// n at a time (1: a shell loop; 16: `xargs -P 16`, a new process as soon
// as one ends), and checks that each prints the digest in want.
func digestParallel(ctx context.Context, argv []string, envv []string, refs, want []string, n int) (time.Duration, error) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	start := time.Now()
	for i, ref := range refs {
		g.Go(func() error { return runDigest(ctx, argv, envv, ref, want[i]) })
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func runDigest(ctx context.Context, argv []string, envv []string, ref, want string) error {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:len(argv):len(argv)], ref)...)
	cmd.Env = envv
	cmd.Stdout, cmd.Stderr = &out, &errOut
	name := filepath.Base(argv[0]) + " " + strings.Join(argv[1:], " ")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, ref, err, strings.TrimSpace(errOut.String()))
	}
	if got := strings.TrimSpace(out.String()); got != want {
		return fmt.Errorf("%s %s = %s, want %s", name, ref, got, want)
	}
	return nil
}
