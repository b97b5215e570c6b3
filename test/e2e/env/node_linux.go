//go:build linux

package env

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"
)

// A real node: a private containerd (Debian's package, or containerd 2.x
// from the tool cache: NodeRuntime; started with a config, root, state and
// socket of its own) and the real kubelet built by
// scripts/build-tools.sh, registered with the cluster's API server. It runs
// as root because a container runtime mounts overlay filesystems and writes
// cgroups; see NodeAvailable. Pods run with hostNetwork (no CNI) and
// spec.nodeName set (no scheduler).
//
// Several test runs share the machine, so everything a node creates is named
// after it: its directory (containerd root and state, kubelet root, pod
// logs, hosts.toml), its cgroup root /regcheck-node-<id> in every cgroup
// hierarchy (the kubelet removes pod cgroups it does not know under its
// root, so two kubelets must never share one), free ports for the kubelet's
// server and healthz and containerd's stream server. Stop removes all of it;
// Leftovers proves it.

// NodeRuntime is the container runtime a node runs under its kubelet.
type NodeRuntime string

const (
	// Containerd16 is Debian's containerd 1.6.20 (scripts/node-runtime.sh)
	// with a version-2 config. The default.
	Containerd16 NodeRuntime = "containerd 1.6"
	// Containerd2 is containerd 2.x (test/tools/containerd2, built by
	// scripts/build-tools.sh) with a version-3 config and its own runc shim;
	// runc is still Debian's.
	Containerd2 NodeRuntime = "containerd 2"
)

// NodeOptions configure StartNode.
type NodeOptions struct {
	// Runtime is the node's container runtime; empty means Containerd16.
	Runtime NodeRuntime
	// Dir holds the node's state; it must exist, and be short: containerd's
	// and the kubelet's unix sockets live under it (108-byte limit).
	Dir string
	// Name is the node's name; empty means "regcheck-" and Dir's base name.
	Name string
	// KubeletArgs are appended to the kubelet's command line.
	KubeletArgs []string
	// ImageCredentialProvider, when set, is a CredentialProviderConfig file
	// and its plugin directory, for --image-credential-provider-*.
	CredentialProviderConfig string
	CredentialProviderBinDir string
}

// Node is a running containerd and kubelet registered as Name.
type Node struct {
	Name       string
	Runtime    NodeRuntime
	Dir        string
	CgroupName string // the kubelet's cgroupRoot, without the leading slash
	Socket     string // containerd's gRPC socket
	// PauseImage is the sandbox image, pushed to Pause (an anonymous
	// registry started for the node).
	PauseImage string
	Pause      *Registry

	ContainerdLog string
	KubeletLog    string

	cluster               *Cluster
	containerd, kubelet   *Process
	certsD                string
	stopOnce              sync.Once
	stopErr               error
	containerdBin, ctrBin string
	// shimBin is the runc shim containerd 2.x is told to run (its config's
	// runtime_path): Debian's 1.6 shim is on PATH and would win a lookup.
	shimBin string
	// shimDir is where the node's shims make their sockets: the one
	// directory every containerd 1.6 shares, or the node's own for 2.x
	// (socket_dir).
	shimDir string
	// links are the machine's network interfaces before the node started:
	// a node (a CNI plugin) must add none that outlive it.
	links map[string]bool
	// shimSockets are the sockets the node's shims made in the one
	// directory every containerd shares (/run/containerd/s), found by Stop.
	shimSockets map[string]bool
}

var (
	nodeAvailOnce sync.Once
	nodeAvailErr  error
)

// NodeAvailable reports why a real node cannot run here, or nil. It runs
// scripts/node-runtime.sh once per process, which installs containerd and
// runc from Debian's packages when missing (root and apt-get needed). The
// tests that need a node skip with this reason; they never pass silently.
func NodeAvailable() error {
	nodeAvailOnce.Do(func() { nodeAvailErr = nodeAvailable() })
	return nodeAvailErr
}

func nodeAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root (a container runtime mounts filesystems and writes cgroups)")
	}
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "node-runtime.sh"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/node-runtime.sh: %v: %s", err, tailLines(string(out), 5))
	}
	for _, b := range []string{"containerd", "runc", "ctr"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not on PATH after scripts/node-runtime.sh", b)
		}
	}
	if _, err := os.Stat("/sys/fs/cgroup"); err != nil {
		return fmt.Errorf("no cgroup filesystem: %w", err)
	}
	return nil
}

// StartNode starts a private containerd and a kubelet registered with c,
// pushes the pause image and waits until the node is Ready. On error
// everything started is stopped and removed.
func (c *Cluster) StartNode(ctx context.Context, opts NodeOptions) (_ *Node, err error) {
	if err := NodeAvailable(); err != nil {
		return nil, err
	}
	if c.Tools.Kubelet == "" {
		return nil, errors.New("no kubelet among the tools (scripts/build-tools.sh)")
	}
	if opts.Dir == "" {
		return nil, errors.New("StartNode needs a directory")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = "regcheck-" + strings.ToLower(sanitizeName(filepath.Base(dir)))
	}
	rt := opts.Runtime
	if rt == "" {
		rt = Containerd16
	}
	n := &Node{
		Name:       name,
		Runtime:    rt,
		Dir:        dir,
		CgroupName: "regcheck-node-" + shortHash(dir),
		Socket:     filepath.Join(dir, "c", "containerd.sock"),
		certsD:     filepath.Join(dir, "certs.d"),
		cluster:    c,
		links:      netLinks(),
	}
	switch rt {
	case Containerd16:
		if n.containerdBin, err = exec.LookPath("containerd"); err != nil {
			return nil, err
		}
		n.shimDir = sharedShimSocketDir
	case Containerd2:
		if c.Tools.Containerd2Dir == "" {
			return nil, errors.New("no containerd 2.x among the tools (scripts/build-tools.sh)")
		}
		n.containerdBin = filepath.Join(c.Tools.Containerd2Dir, "containerd")
		n.shimBin = filepath.Join(c.Tools.Containerd2Dir, "containerd-shim-runc-v2")
		n.shimDir = filepath.Join(dir, "c", "s")
	default:
		return nil, fmt.Errorf("unknown node runtime %q", rt)
	}
	if n.ctrBin, err = exec.LookPath("ctr"); err != nil {
		return nil, err
	}
	if err := diskRoom(dir); err != nil {
		return nil, err
	}
	trackNode(n, true)
	defer func() {
		if err != nil {
			_ = n.Stop()
		}
	}()
	for _, d := range []string{n.certsD, filepath.Join(dir, "c"), filepath.Join(dir, "kubelet"), filepath.Join(dir, "logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := n.pushPause(); err != nil {
		return nil, err
	}
	if err := n.createCgroupRoot(); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	if err := n.startKubelet(ctx, opts); err != nil {
		return nil, err
	}
	return n, nil
}

// pushPause starts the node's anonymous registry and pushes the sleeper as
// the pause image; there is no internet to fetch registry.k8s.io/pause.
func (n *Node) pushPause() error {
	reg, err := StartRegistry(RegistryOptions{Dir: filepath.Join(n.Dir, "pause-registry")})
	if err != nil {
		return err
	}
	n.Pause = reg
	img, err := RunnableImage()
	if err != nil {
		return err
	}
	p, err := PushImage(reg, "pause", "3.10", "", img)
	if err != nil {
		return err
	}
	n.PauseImage = p.Ref
	return n.AddRegistry(reg, HostOptions{})
}

// HostOptions change how the node's containerd reaches a registry.
type HostOptions struct {
	// NoCA leaves a TLS registry's CA out, so pulls fail with an unknown
	// authority.
	NoCA bool
	// Scheme overrides the registry's scheme ("http" against a TLS port
	// provokes "400 Bad Request").
	Scheme string
}

// AddRegistry writes certs.d/HOST/hosts.toml for reg; containerd reads it on
// every pull, so it may be called while the node runs.
func (n *Node) AddRegistry(reg *Registry, o HostOptions) error {
	scheme := "http"
	if reg.TLS {
		scheme = "https"
	}
	if o.Scheme != "" {
		scheme = o.Scheme
	}
	ca := ""
	if reg.TLS && !o.NoCA && scheme == "https" {
		ca = fmt.Sprintf("  ca = %q\n", reg.CAFile)
	}
	return n.AddHost(reg.Host, scheme, ca)
}

// AddHost writes certs.d/HOST/hosts.toml naming scheme://host as the one
// place to pull from, with extra lines for the [host] table. Use it for a
// host with no registry (connection refused) or behind a fault proxy.
func (n *Node) AddHost(host, scheme, extra string) error {
	url := scheme + "://" + host
	toml := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n%s", url, url, extra)
	d := filepath.Join(n.certsD, host)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d, "hosts.toml"), []byte(toml), 0o644)
}

// containerdConfig is containerd 1.6's config (version 2). Written as text:
// containerd's own config types live in a module far too large to import
// for one file. Every path is the node's own; the CRI settings are those
// KUBELET.md found necessary on this machine kind.
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
oom_score = 0
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = %[3]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # Pod network namespaces (none while pods use the host network) under
  # the node's state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[6]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[7]q
    conf_dir = %[7]q
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %[8]q
`

// containerd2Config is containerd 2.x's config (version 3: the CRI plugin
// split into io.containerd.cri.v1.images and .runtime), with the same paths
// and settings as containerdConfig, and three more for isolation: the shims'
// sockets in the node's own directory (socket_dir; 1.6 has no such setting),
// the node's own shim binary (runtime_path) and no NRI (its socket,
// /var/run/nri/nri.sock, would be shared). Pulls go through the transfer
// service, containerd 2.1+'s default, so the messages are those of a stock
// 2.x node.
const containerd2Config = `version = 3
root = %[1]q
state = %[2]q
oom_score = 0
disabled_plugins = [
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.differ.v1.erofs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = %[3]q

[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = %[4]q
  [plugins.'io.containerd.shim.v1.manager']
    socket_dir = %[9]q
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
    socket_path = %[11]q
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = %[5]q
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = %[8]q
  [plugins.'io.containerd.cri.v1.runtime']
    # Root here lacks CAP_SYS_RESOURCE (see containerdConfig).
    restrict_oom_score_adj = true
    enable_selinux = false
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        runtime_path = %[10]q
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = %[6]q
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = [%[7]q]
      conf_dir = %[7]q
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
`

// cniConfig is a network config containerd loads and never runs (every
// pod uses the host's network).
const cniConfig = `{"cniVersion": "0.4.0", "name": "regcheck-hostnet", "plugins": [{"type": "loopback"}]}
`

func (n *Node) startContainerd(ctx context.Context) error {
	c := filepath.Join(n.Dir, "c")
	tmpl := containerdConfig
	if n.Runtime == Containerd2 {
		tmpl = containerd2Config
	}
	cfg := fmt.Sprintf(tmpl,
		filepath.Join(c, "root"), filepath.Join(c, "state"), n.Socket,
		filepath.Join(c, "opt"), n.PauseImage, filepath.Join(c, "runc"),
		filepath.Join(c, "cni"), n.certsD, n.shimDir, n.shimBin,
		filepath.Join(c, "nri.sock"))
	cfgPath := filepath.Join(c, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	// containerd reports the pod network ready once a CNI config loads;
	// until then the kubelet keeps the node NotReady. Pods use the host's
	// network, so the plugin is never invoked and needs no binary.
	if err := os.MkdirAll(filepath.Join(c, "cni"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c, "cni", "10-hostnet.conflist"), []byte(cniConfig), 0o644); err != nil {
		return err
	}
	p, err := StartProcess("containerd", n.Dir, n.containerdBin, "--config", cfgPath)
	if err != nil {
		return err
	}
	n.containerd = p
	n.ContainerdLog = p.LogPath
	err = waitFor(ctx, 100*time.Millisecond, p, func() bool {
		return exec.CommandContext(ctx, n.ctrBin, "--address", n.Socket, "version").Run() == nil
	})
	if err != nil {
		return fmt.Errorf("containerd did not answer on %s: %w\n%s", n.Socket, err, p.Tail(20))
	}
	return nil
}

func (n *Node) startKubelet(ctx context.Context, opts NodeOptions) error {
	kdir := filepath.Join(n.Dir, "kubelet")
	var port, healthz int
	var err error
	if port, err = FreePort(); err != nil {
		return err
	}
	if healthz, err = FreePort(); err != nil {
		return err
	}
	// A map, not k8s.io/kubelet's KubeletConfiguration: that module would
	// join regcheck's go.mod for one file the kubelet validates anyway.
	cfg := map[string]any{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"containerRuntimeEndpoint": "unix://" + n.Socket,
		"cgroupDriver":             "cgroupfs",
		"cgroupRoot":               "/" + n.CgroupName,
		// 1.35+ refuse cgroup v1 unless told; this machine kind is v1 hybrid.
		"failCgroupV1":       false,
		"failSwapOn":         false,
		"port":               port,
		"healthzPort":        healthz,
		"healthzBindAddress": "127.0.0.1",
		"readOnlyPort":       0,
		"address":            "127.0.0.1",
		"podLogsDir":         filepath.Join(n.Dir, "logs"),
		"oomScoreAdj":        0,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": true},
			"webhook":   map[string]any{"enabled": false},
		},
		"authorization": map[string]any{"mode": "AlwaysAllow"},
		// A big shared disk must not evict test pods or collect images: a
		// percentage of 250 GB is gigabytes another run's caches may take,
		// so the lines are absolute and StartNode checks diskRoom first.
		"evictionHard": map[string]string{
			"memory.available": "1Mi", "nodefs.available": evictionLine, "nodefs.inodesFree": "1%",
			"imagefs.available": evictionLine, "imagefs.inodesFree": "1%",
		},
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		"serializeImagePulls":         false,
		// The kubelet's own pull limit (5 a second, burst 10) answers a
		// test that starts a dozen failing pods at once with "pull QPS
		// exceeded" instead of the runtime's words: 0 is no limit.
		"registryPullQPS":           0,
		"syncFrequency":             "10s",
		"fileCheckFrequency":        "10s",
		"nodeStatusUpdateFrequency": "2s",
		"resolvConf":                "",
		"registerNode":              true,
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(kdir, "config.yaml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return err
	}
	args := []string{
		"--config", cfgPath,
		"--kubeconfig", n.cluster.Kubeconfig,
		"--root-dir", filepath.Join(kdir, "root"),
		"--cert-dir", filepath.Join(kdir, "pki"),
		"--hostname-override", n.Name,
		"--v", "2",
	}
	if opts.CredentialProviderConfig != "" {
		args = append(args, "--image-credential-provider-config", opts.CredentialProviderConfig,
			"--image-credential-provider-bin-dir", opts.CredentialProviderBinDir)
	}
	args = append(args, opts.KubeletArgs...)
	p, err := StartProcess("kubelet", n.Dir, n.cluster.Tools.Kubelet, args...)
	if err != nil {
		return err
	}
	n.kubelet = p
	n.KubeletLog = p.LogPath
	err = waitFor(ctx, 100*time.Millisecond, p, func() bool {
		_, err := n.cluster.Admin.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("kubelet did not register node %s: %w\n%s", n.Name, err, p.Tail(30))
	}
	var why string
	err = waitFor(ctx, 200*time.Millisecond, p, func() bool {
		node, err := n.cluster.Admin.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				why = c.Reason + ": " + c.Message
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready (%s): %w\n%s", n.Name, why, err, p.Tail(30))
	}
	return nil
}

// waitFor polls ok until it holds, p exits or ctx ends.
func waitFor(ctx context.Context, every time.Duration, p *Process, ok func() bool) error {
	if _, has := ctx.Deadline(); !has {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	return wait.PollUntilContextCancel(ctx, every, true, func(context.Context) (bool, error) {
		if exited, err := p.Exited(); exited {
			return false, fmt.Errorf("%s exited: %v", p.Name, err)
		}
		return ok(), nil
	})
}

// Stop deletes the node's pods, stops the kubelet and containerd, kills what
// a runtime leaves running on purpose (shims and containers outlive
// containerd by design), unmounts everything under Dir, removes the node's
// cgroups and the node object. Safe to call more than once and after a
// failed start.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.stopErr = n.stop()
		trackNode(n, false)
	})
	return n.stopErr
}

func (n *Node) stop() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n.findShimSockets()
	if n.kubelet != nil {
		if exited, _ := n.kubelet.Exited(); !exited {
			n.deletePods(ctx)
		}
		if err := n.kubelet.Stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	if n.containerd != nil {
		if exited, _ := n.containerd.Exited(); !exited {
			n.removeContainers(ctx)
		}
		if err := n.containerd.Stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	n.findShimSockets()
	errs = append(errs, n.killStragglers())
	errs = append(errs, n.removeShimSockets())
	errs = append(errs, n.unmountAll())
	errs = append(errs, n.removeCgroups())
	if n.Pause != nil {
		errs = append(errs, n.Pause.Close())
	}
	if n.cluster != nil {
		err := n.cluster.Admin.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting node %s: %w", n.Name, err))
		}
	}
	// Kubelet pod log symlinks in the shared /var/log/containers that point
	// into Dir: the kubelet only removes those of pods it saw go.
	errs = append(errs, removeSymlinksInto("/var/log/containers", n.Dir))
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}

// deletePods deletes every pod bound to the node with a grace period of 0
// and waits (bounded) for the kubelet to stop their containers: the kubelet
// unmounts their volumes as it goes.
func (n *Node) deletePods(ctx context.Context) {
	pods, err := n.cluster.Admin.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + n.Name})
	if err != nil {
		return
	}
	for _, p := range pods.Items {
		_ = n.cluster.Admin.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_ = wait.PollUntilContextCancel(wctx, 200*time.Millisecond, true, func(context.Context) (bool, error) {
		if exited, _ := n.kubelet.Exited(); exited {
			return true, nil // a dead kubelet stops nothing: removeContainers will
		}
		out, err := exec.CommandContext(wctx, n.ctrBin, "--address", n.Socket, "-n", "k8s.io", "tasks", "ls", "-q").Output()
		return err == nil && strings.TrimSpace(string(out)) == "", nil
	})
}

// removeContainers kills and deletes every task and container containerd
// still has, through its own client (ctr).
func (n *Node) removeContainers(ctx context.Context) {
	ctr := func(args ...string) string {
		out, _ := exec.CommandContext(ctx, n.ctrBin, append([]string{"--address", n.Socket, "-n", "k8s.io"}, args...)...).Output()
		return string(out)
	}
	for _, id := range strings.Fields(ctr("tasks", "ls", "-q")) {
		ctr("tasks", "kill", "-s", "SIGKILL", id)
	}
	for _, id := range strings.Fields(ctr("tasks", "ls", "-q")) {
		ctr("tasks", "delete", "-f", id)
	}
	for _, id := range strings.Fields(ctr("containers", "ls", "-q")) {
		ctr("containers", "delete", id)
	}
}

// sharedShimSocketDir is where containerd 1.6's runc shim (runtime v2) puts
// its socket whatever containerd's own state dir: a shim killed, not
// stopped, leaves it behind. containerd 2.x's go where its socket_dir says.
const sharedShimSocketDir = "/run/containerd/s"

// findShimSockets adds to n.shimSockets the sockets of the node's shims,
// named as containerd's runtime/v2/shim.SocketAddress names them:
// sha256(containerd's address/namespace/task id). Task ids come from
// running shims' command lines and from the task bundles in containerd's
// state dir (left there when containerd was killed).
func (n *Node) findShimSockets() {
	ids := map[string]bool{}
	bundles, _ := os.ReadDir(filepath.Join(n.Dir, "c", "state", "io.containerd.runtime.v2.task", "k8s.io"))
	for _, b := range bundles {
		ids[b.Name()] = true
	}
	for _, p := range n.NodeProcesses() {
		f := strings.Fields(p)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-id" && strings.Contains(p, "containerd-shim") {
				ids[f[i+1]] = true
			}
		}
	}
	if n.shimSockets == nil {
		n.shimSockets = map[string]bool{}
	}
	for id := range ids {
		sum := sha256.Sum256([]byte(filepath.Join(n.Socket, "k8s.io", id)))
		n.shimSockets[filepath.Join(n.shimDir, hex.EncodeToString(sum[:]))] = true
	}
}

func (n *Node) removeShimSockets() error {
	var errs []error
	for s := range n.shimSockets {
		if err := os.Remove(s); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NodeProcesses lists the processes that belong to the node: those whose
// command line names Dir (containerd, kubelet, shims: a shim's -address is
// containerd's socket) and those in the node's cgroups (containers).
func (n *Node) NodeProcesses() []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cg, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if strings.Contains(string(cmdline), n.Dir) || strings.Contains(string(cg), "/"+n.CgroupName) {
			found = append(found, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")))
		}
	}
	return found
}

// killStragglers SIGKILLs the node's processes still alive after containerd
// stopped, until none is left.
func (n *Node) killStragglers() error {
	var left []string
	for range 50 {
		left = n.NodeProcesses()
		if len(left) == 0 {
			return nil
		}
		for _, l := range left {
			pid, _ := strconv.Atoi(strings.Fields(l)[0])
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("node %s: processes survive SIGKILL: %v", n.Name, left)
}

// NodeMounts lists the mount points under Dir (overlay rootfs, /dev/shm of
// sandboxes, the kubelet's bind mount of its root, pod volumes).
func (n *Node) NodeMounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == n.Dir || strings.HasPrefix(mp, n.Dir+"/") {
			found = append(found, mp)
		}
	}
	return found
}

// unmountAll detaches every mount under Dir, deepest first, until none is
// left (a bind mount may be stacked more than once).
func (n *Node) unmountAll() error {
	for range 10 {
		mounts := n.NodeMounts()
		if len(mounts) == 0 {
			return nil
		}
		sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
		for _, m := range mounts {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
	if left := n.NodeMounts(); len(left) > 0 {
		return fmt.Errorf("node %s: mounts left: %v", n.Name, left)
	}
	return nil
}

// cgroupMounts lists the mount points of the cgroup hierarchies (v1 and v2).
func cgroupMounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, " - ")
		if i < 0 {
			continue
		}
		post := strings.Fields(line[i+3:])
		fields := strings.Fields(line[:i])
		if len(post) > 0 && (post[0] == "cgroup" || post[0] == "cgroup2") && len(fields) >= 5 {
			found = append(found, unescapeMount(fields[4]))
		}
	}
	return found
}

// NodeCgroups lists the node's cgroup directories that exist.
func (n *Node) NodeCgroups() []string {
	var found []string
	for _, m := range cgroupMounts() {
		d := filepath.Join(m, n.CgroupName)
		if _, err := os.Stat(d); err == nil {
			found = append(found, d)
		}
	}
	return found
}

// createCgroupRoot creates the kubelet's cgroupRoot in every hierarchy: the
// kubelet refuses a root that does not exist.
func (n *Node) createCgroupRoot() error {
	for _, m := range cgroupMounts() {
		d := filepath.Join(m, n.CgroupName)
		if err := os.Mkdir(d, 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("creating cgroup %s: %w", n.CgroupName, err)
		}
		// A new v1 cpuset starts with no CPUs and no memory nodes, and no
		// process may join it until they are set: the parent's.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v, err := os.ReadFile(filepath.Join(m, f)); err == nil {
				if err := os.WriteFile(filepath.Join(d, f), v, 0o644); err != nil {
					return fmt.Errorf("setting %s of cgroup %s: %w", f, d, err)
				}
			}
		}
	}
	return nil
}

// removeCgroups removes the node's cgroup trees, children first (a cgroup
// directory is removed with rmdir, and only once empty of processes).
func (n *Node) removeCgroups() error {
	var errs []error
	for _, root := range n.NodeCgroups() {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			var err error
			for range 20 { // a just-killed process leaves its cgroup a moment later
				if err = syscall.Rmdir(d); err == nil || errors.Is(err, syscall.ENOENT) {
					err = nil
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Leftovers lists what the node left on the machine after Stop: processes,
// mounts, cgroups, /var/log/containers links into Dir, its shims' sockets
// in /run/containerd/s, network interfaces that were not there before it
// started. Empty means clean.
func (n *Node) Leftovers() []string {
	var left []string
	for _, p := range n.NodeProcesses() {
		left = append(left, "process "+p)
	}
	for _, m := range n.NodeMounts() {
		left = append(left, "mount "+m)
	}
	for _, c := range n.NodeCgroups() {
		left = append(left, "cgroup "+c)
	}
	for _, l := range symlinksInto("/var/log/containers", n.Dir) {
		left = append(left, "symlink "+l)
	}
	for s := range n.shimSockets {
		if _, err := os.Lstat(s); err == nil {
			left = append(left, "shim socket "+s)
		}
	}
	for l := range netLinks() {
		if !n.links[l] {
			left = append(left, "network interface "+l)
		}
	}
	return left
}

// netLinks is the set of the machine's network interface names.
func netLinks() map[string]bool {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	links := make(map[string]bool, len(ifs))
	for _, i := range ifs {
		links[i.Name] = true
	}
	return links
}

func symlinksInto(dir, target string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var found []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if dest, err := os.Readlink(p); err == nil && strings.HasPrefix(dest, target+"/") {
			found = append(found, p)
		}
	}
	return found
}

func removeSymlinksInto(dir, target string) error {
	var errs []error
	for _, p := range symlinksInto(dir, target) {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Logs returns the tails of the node's containerd and kubelet logs.
func (n *Node) Logs(lines int) string {
	var b strings.Builder
	for _, p := range []*Process{n.containerd, n.kubelet} {
		if p != nil {
			fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.Name, p.LogPath, p.Tail(lines))
		}
	}
	return b.String()
}

// PodSpec returns spec bound to the node: nodeName (there is no
// scheduler), hostNetwork (there is no CNI), no service account token
// volume (nothing to mount or unmount) and a short grace period.
func (n *Node) PodSpec(spec corev1.PodSpec) corev1.PodSpec {
	spec.NodeName = n.Name
	spec.HostNetwork = true
	f := false
	spec.AutomountServiceAccountToken = &f
	var grace int64 = 1
	spec.TerminationGracePeriodSeconds = &grace
	return spec
}

// Pod is a pod named name in ns with n.PodSpec(spec) and label app=name.
func (n *Node) Pod(ns, name string, spec corev1.PodSpec) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}}, Spec: n.PodSpec(spec)}
}
