package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

// TestMain stops the package's shared node and cluster, if a test started
// them, after every test has run; an interrupted or timed-out run stops
// every node and cluster it started before it dies.
func TestMain(m *testing.M) {
	flag.Parse()
	var timeout time.Duration
	if f := flag.Lookup("test.timeout"); f != nil {
		timeout, _ = f.Value.(flag.Getter).Get().(time.Duration)
	}
	env.StopOnInterrupt(timeout)
	code := m.Run()
	if err := stopSharedNode(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the shared node: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if shared.cluster != nil {
		start := time.Now()
		if err := shared.cluster.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the shared cluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		} else if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "shared cluster stopped in %s\n", time.Since(start).Round(time.Millisecond))
		}
	}
	os.Exit(code)
}

// shared is the one cluster of this test binary: starting one costs seconds,
// so tests share it and isolate themselves by namespace.
var shared struct {
	once    sync.Once
	cluster *env.Cluster
	err     error
}

// sharedCluster returns the package's cluster, starting it on first use. It
// skips the test under -short. Set REGCHECK_E2E_KEEP=1 to keep the cluster
// dir (logs, audit log, kubeconfig) after the run.
func sharedCluster(t *testing.T) *env.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end: starts etcd, kube-apiserver and kube-controller-manager")
	}
	shared.once.Do(func() {
		start := time.Now()
		shared.cluster, shared.err = env.StartCluster(context.Background(), env.ClusterOptions{
			KeepDir: os.Getenv("REGCHECK_E2E_KEEP") != "",
		})
		if shared.err == nil {
			t.Logf("shared cluster started in %s in %s", time.Since(start).Round(time.Millisecond), shared.cluster.Dir)
		}
	})
	if shared.err != nil {
		t.Fatalf("starting the shared cluster: %v", shared.err)
	}
	c := shared.cluster
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster logs:\n%s", c.LogTails(40))
		}
	})
	return c
}
