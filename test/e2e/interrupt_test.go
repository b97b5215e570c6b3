package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// interruptChild names the directory a child run of TestInterruptStops
// starts its cluster in; it is set only in the child's environment.
const interruptChild = "REGCHECK_E2E_INTERRUPT_CHILD"

// TestInterruptStops proves that a run stopped from outside (SIGTERM, as
// CI's timeout or a Ctrl-C sends) leaves no etcd or kube-apiserver behind:
// it runs this test binary again as a child that starts a cluster and
// waits, signals it, and checks that every server the child started has
// gone. Without env.StopOnInterrupt they outlive the child, each in its own
// process group.
func TestInterruptStops(t *testing.T) {
	if dir := os.Getenv(interruptChild); dir != "" {
		runInterruptChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("end to end: starts a cluster in a child process")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInterruptStops$", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), interruptChild+"="+dir)
	out, err := os.Create(filepath.Join(dir, "child.log"))
	must(t, err)
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	must(t, cmd.Start())
	pidsFile := filepath.Join(dir, "pids")
	var pids []int
	deadline := time.Now().Add(3 * time.Minute)
	for pids == nil && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidsFile); err == nil && strings.HasSuffix(string(b), "\n") {
			for _, f := range strings.Fields(string(b)) {
				pid, err := strconv.Atoi(f)
				must(t, err)
				pids = append(pids, pid)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if pids == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("the child never started its cluster:\n%s", env.TailFile(out.Name(), 30))
	}
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("child after SIGTERM: %v, want exit status 1", err)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the child did not exit within 2m of SIGTERM:\n%s", env.TailFile(out.Name(), 30))
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			t.Errorf("process %d outlived the interrupted run (kill 0: %v)", pid, err)
		}
	}
	if log := env.TailFile(out.Name(), 30); !strings.Contains(log, "stopping the nodes and clusters") {
		t.Errorf("the child did not say what it stopped:\n%s", log)
	}
}

// runInterruptChild starts a cluster in dir, writes its servers' pids and
// waits to be signalled.
func runInterruptChild(t *testing.T, dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := env.StartCluster(ctx, env.ClusterOptions{Dir: filepath.Join(dir, "cluster")})
	if err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	var b strings.Builder
	for _, pid := range c.Pids() {
		fmt.Fprintf(&b, "%d ", pid)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(b.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	_ = c.Stop()
	t.Fatal("not signalled within 3 minutes")
}
