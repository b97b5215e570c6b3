package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// The real-node tests: a private containerd and the real kubelet pull from
// the tests' registries, and the kubelet writes every status regcheck reads.
// They need root and containerd/runc (installed from Debian's packages by
// scripts/node-runtime.sh when missing); elsewhere they skip with the
// reason, unless REGCHECK_E2E_NODE=required (CI, make e2e), where a missing
// node fails the run instead of skipping it.

// nodeDir is a short directory for a node: containerd's and the kubelet's
// unix sockets live under it, and t.TempDir's long names can pass the
// 108-byte limit.
func nodeDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "rcn-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// requireNodeRuntime skips (or, with REGCHECK_E2E_NODE=required, fails)
// when this machine cannot run a real node.
func requireNodeRuntime(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: runs a real containerd and kubelet")
	}
	if err := env.NodeAvailable(); err != nil {
		if os.Getenv("REGCHECK_E2E_NODE") == "required" {
			t.Fatalf("REGCHECK_E2E_NODE=required but no real node can run here: %v", err)
		}
		t.Skipf("no real node here: %v", err)
	}
}

// nodeStartFailed skips the test when a node could not start here (a
// machine whose kernel, cgroups or privileges a runtime cannot use), with
// the reason and the runtime's own words; with REGCHECK_E2E_NODE=required
// (make e2e) it fails instead, so a node that should start never passes
// silently.
func nodeStartFailed(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("REGCHECK_E2E_NODE") == "required" {
		t.Fatalf("REGCHECK_E2E_NODE=required but the node did not start: %v", err)
	}
	t.Skipf("no real node here: it did not start: %v", err)
}

// sharedNodeState is the one node per runtime of this test binary, on the
// shared cluster (started by the real-pull tests), stopped by TestMain.
type sharedNodeState struct {
	once sync.Once
	node *env.Node
	err  error
}

// sharedNodes holds the shared node of each runtime; a runtime's first
// test starts it.
var sharedNodes = map[env.NodeRuntime]*sharedNodeState{env.Containerd16: {}, env.Containerd2: {}}

// nodeRuntimes are the runtimes every real-node test runs on.
var nodeRuntimes = []env.NodeRuntime{env.Containerd16, env.Containerd2}

// stopSharedNode stops the package's nodes, if any started; TestMain calls
// it before stopping the cluster.
func stopSharedNode() error {
	var errs []error
	for _, rt := range nodeRuntimes {
		n := sharedNodes[rt].node
		if n == nil {
			continue
		}
		err := n.Stop()
		if left := n.Leftovers(); len(left) > 0 && err == nil {
			err = &leftoverError{left}
		}
		_ = os.RemoveAll(n.Dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rt, err))
		}
	}
	return errors.Join(errs...)
}

type leftoverError struct{ left []string }

func (e *leftoverError) Error() string { return "node left behind: " + strings.Join(e.left, "; ") }

// runPod creates a pod bound to n and waits for ok.
func runPod(t *testing.T, c *env.Cluster, n *env.Node, ns, name string, spec corev1.PodSpec, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.Admin.CoreV1().Pods(ns).Create(ctx, n.Pod(ns, name, spec), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := c.WaitPod(ctx, ns, name, ok)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestNodeStartStop starts a real node (Ready), runs a pod pulled from a
// registry, and proves Stop leaves no process, mount, cgroup, log link,
// shim socket or network interface behind: once after an orderly run and
// once after the kubelet and containerd were killed (as when a test binary
// dies mid-test), on each runtime (containerd 1.6 and 2.x).
func TestNodeStartStop(t *testing.T) {
	c := sharedCluster(t)
	requireNodeRuntime(t)
	reg := startRegistry(t, env.RegistryOptions{})
	img, err := env.PushRunnableImage(reg, "start/stop", "v1", "")
	if err != nil {
		t.Fatal(err)
	}
	ns := "node-start-stop"
	ctx := context.Background()
	if err := c.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	type tcase struct {
		rt    env.NodeRuntime
		name  string
		crash bool
	}
	var cases []tcase
	for _, rt := range nodeRuntimes {
		cases = append(cases, tcase{rt, "orderly", false}, tcase{rt, "after a crash", true})
	}
	for _, tc := range cases {
		t.Run(string(tc.rt)+"/"+tc.name, func(t *testing.T) {
			start := time.Now()
			n, err := c.StartNode(ctx, env.NodeOptions{Dir: nodeDir(t), Runtime: tc.rt})
			if err != nil {
				nodeStartFailed(t, err)
			}
			t.Logf("node %s Ready after %s", n.Name, time.Since(start).Round(time.Millisecond))
			node, err := c.Admin.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !nodeReady(node) {
				t.Errorf("node %s not Ready: %+v", n.Name, node.Status.Conditions)
			}
			rv := node.Status.NodeInfo.ContainerRuntimeVersion
			t.Logf("runtime %s", rv)
			if want := map[env.NodeRuntime]string{env.Containerd16: "containerd://1.6.", env.Containerd2: "containerd://2."}[tc.rt]; !strings.HasPrefix(rv, want) {
				t.Errorf("node %s runs %q, want %s*", n.Name, rv, want)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					t.Logf("node logs:\n%s", n.Logs(40))
					_ = n.Stop()
				}
			})
			if err := n.AddRegistry(reg, env.HostOptions{}); err != nil {
				t.Fatal(err)
			}
			pod := strings.NewReplacer(" ", "-", ".", "-").Replace("p-" + string(tc.rt) + "-" + tc.name)
			p := runPod(t, c, n, ns, pod, spec1(img.Ref), env.ContainersRunning)
			if got := p.Status.ContainerStatuses[0].ImageID; got != img.DigestRef {
				t.Errorf("imageID %q, want %q", got, img.DigestRef)
			}
			if len(n.NodeProcesses()) < 4 || len(n.NodeMounts()) == 0 || len(n.NodeCgroups()) == 0 {
				t.Errorf("a running node should have processes, mounts and cgroups: %d %v %v", len(n.NodeProcesses()), n.NodeMounts(), n.NodeCgroups())
			}
			// Each runtime runs its own runc shim: containerd 2.x must not
			// pick Debian's 1.6 one, first on PATH.
			wantShim := "/usr/bin/containerd-shim-runc-v2"
			if tc.rt == env.Containerd2 {
				wantShim = filepath.Join(c.Tools.Containerd2Dir, "containerd-shim-runc-v2")
			}
			want, err := os.Stat(wantShim)
			if err != nil {
				t.Fatal(err)
			}
			shims := 0
			for _, l := range n.NodeProcesses() {
				f := strings.Fields(l)
				if len(f) < 2 || !strings.HasSuffix(f[1], "/containerd-shim-runc-v2") {
					continue
				}
				shims++
				if got, err := os.Stat(f[1]); err != nil || !os.SameFile(got, want) {
					t.Errorf("%s node runs the shim %s, want %s", tc.rt, f[1], wantShim)
				}
			}
			if shims == 0 {
				t.Errorf("no runc shim among the node's processes: %v", n.NodeProcesses())
			}
			if tc.crash {
				for _, l := range n.NodeProcesses() {
					if strings.Contains(l, "kubelet") || strings.Contains(l, "containerd --config") {
						var pid int
						if _, err := fmt.Sscan(l, &pid); err == nil {
							_ = syscall.Kill(pid, syscall.SIGKILL)
						}
					}
				}
			}
			stopped = true
			start = time.Now()
			err = n.Stop()
			t.Logf("node stopped in %s", time.Since(start).Round(time.Millisecond))
			if err != nil && !tc.crash {
				t.Errorf("Stop: %v", err)
			}
			if left := n.Leftovers(); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if err := os.RemoveAll(n.Dir); err != nil {
				t.Errorf("removing the node dir: %v", err)
			}
			if _, err := os.Stat(filepath.Join(n.Dir)); !os.IsNotExist(err) {
				t.Errorf("node dir still there: %v", err)
			}
			if _, err := c.Admin.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{}); err == nil {
				t.Errorf("node object %s still registered", n.Name)
			}
		})
	}
}

// nodeReady reports whether the node's Ready condition is True.
func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
