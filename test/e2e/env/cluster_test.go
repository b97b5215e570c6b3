package env

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// TestStartClusterStop starts a cluster of its own (the e2e package shares
// another one) to check what the shared one cannot: that Stop leaves no
// process, no listener and no directory behind.
func TestStartClusterStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd, kube-apiserver and kube-controller-manager")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	start := time.Now()
	c, err := StartCluster(ctx, ClusterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %s", time.Since(start).Round(time.Millisecond))
	defer c.Stop()

	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatalf("loading kubeconfig: %v", err)
	}
	if cfg.CurrentContext != AdminContext || cfg.Contexts[ViewerContext] == nil || cfg.Clusters[ClusterName] == nil {
		t.Errorf("kubeconfig: current %q, contexts %v, clusters %v", cfg.CurrentContext, clusterKeys(cfg.Contexts), clusterKeys(cfg.Clusters))
	}
	if _, err := c.Admin.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("admin getting namespace default: %v", err)
	}
	if host := clusterHost(t, c.Server); host != "127.0.0.1" {
		t.Errorf("apiserver on %s, want loopback", host)
	}

	addrs := []string{clusterHostPort(t, c.Server), clusterHostPort(t, c.EtcdURL)}
	stopStart := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("stopped in %s", time.Since(stopStart).Round(time.Millisecond))
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	for _, a := range addrs {
		if conn, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after Stop", a)
		}
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir %s still there after Stop (stat: %v)", c.Dir, err)
	}
	if pids := clusterProcessesMentioning(c.Dir); len(pids) > 0 {
		t.Errorf("processes still running with %s on their command line: %v", c.Dir, pids)
	}
}

// TestStartClusterFailureCleansUp makes the apiserver fail on a bad flag:
// the error must carry its log and etcd, already running, must be stopped.
func TestStartClusterFailureCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "cluster")
	c, err := StartCluster(ctx, ClusterOptions{Dir: dir, ExtraAPIServerArgs: []string{"--no-such-flag"}})
	if err == nil {
		c.Stop()
		t.Fatal("StartCluster with a bad apiserver flag succeeded")
	}
	t.Logf("the expected start error:\n%v", err)
	if !strings.Contains(err.Error(), "no-such-flag") || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("error does not show the apiserver's complaint:\n%v", err)
	}
	if pids := clusterProcessesMentioning(dir); len(pids) > 0 {
		t.Errorf("processes left running after a failed start: %v", pids)
	}
	if _, err := os.Stat(filepath.Join(dir, "etcd.log")); err != nil {
		t.Errorf("a given Dir must be kept with its logs: %v", err)
	}
}

// clusterProcessesMentioning lists the pids whose command line contains s (every
// component gets paths in the cluster dir as flags).
func clusterProcessesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

func clusterHostPort(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("parsing %q: %v", rawURL, err)
	}
	return u.Host
}

func clusterHost(t *testing.T, rawURL string) string {
	host, _, err := net.SplitHostPort(clusterHostPort(t, rawURL))
	if err != nil {
		t.Fatalf("splitting %q: %v", rawURL, err)
	}
	return host
}

func clusterKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
