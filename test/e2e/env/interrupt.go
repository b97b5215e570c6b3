package env

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// running holds what a test binary started and has not stopped yet, so an
// interrupted run can still stop it. A node left behind keeps a kubelet,
// containerd, bind mounts and cgroups on a machine other runs share; a
// cluster keeps etcd and kube-apiserver. Each process runs in its own
// process group (Ctrl-C does not reach it), so nothing else stops them.
var running struct {
	mu       sync.Mutex
	nodes    map[*Node]bool
	clusters map[*Cluster]bool
}

func trackNode(n *Node, on bool)       { track(&running.nodes, n, on) }
func trackCluster(c *Cluster, on bool) { track(&running.clusters, c, on) }

func track[T comparable](set *map[T]bool, v T, on bool) {
	running.mu.Lock()
	defer running.mu.Unlock()
	if *set == nil {
		*set = map[T]bool{}
	}
	if on {
		(*set)[v] = true
	} else {
		delete(*set, v)
	}
}

// StopAll stops every node, then every cluster, still running (nodes first:
// a node deletes its Node object through its cluster). Safe to call more
// than once and alongside a test's own Stop: both are idempotent.
func StopAll() {
	running.mu.Lock()
	nodes := keys(running.nodes)
	clusters := keys(running.clusters)
	running.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); _ = n.Stop() }()
	}
	wg.Wait()
	for _, c := range clusters {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Stop() }()
	}
	wg.Wait()
}

func keys[T comparable](m map[T]bool) []T {
	out := make([]T, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// StopOnInterrupt makes an interrupted or timed-out test binary stop what
// it started before it dies: on SIGINT or SIGTERM it stops everything and
// exits 1; when timeout (go test -timeout) is set, it stops everything a
// minute before the testing package would panic, which kills the process
// with no cleanup at all. A TestMain calls it first.
func StopOnInterrupt(timeout time.Duration) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "e2e: %v: stopping the nodes and clusters this run started\n", s)
		StopAll()
		os.Exit(1)
	}()
	if timeout > 2*time.Minute {
		time.AfterFunc(timeout-time.Minute, func() {
			fmt.Fprintf(os.Stderr, "e2e: a minute before the %s test timeout: stopping the nodes and clusters this run started\n", timeout)
			StopAll()
		})
	}
}

// Pids are the process ids of the cluster's servers (each leads its own
// process group), for a test that proves they are gone.
func (c *Cluster) Pids() []int {
	var out []int
	for _, p := range []*Process{c.etcd, c.apiserver, c.kcm} {
		if p != nil {
			out = append(out, p.Pid())
		}
	}
	return out
}
