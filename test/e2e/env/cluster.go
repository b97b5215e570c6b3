package env

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names the cluster is created with; tests and the demo refer to them.
const (
	ClusterName    = "regcheck-e2e"
	AdminContext   = "admin"
	ViewerContext  = "viewer"
	AdminUser      = "regcheck-admin"
	ViewerUser     = "regcheck-viewer"
	ViewerRoleName = "regcheck-viewer"
	// kcmUser is the user the bootstrap RBAC policy already knows.
	kcmUser = "system:kube-controller-manager"
)

// kcmControllers are the controllers a test needs to turn workloads into
// pods, plus those that keep namespaces and service accounts usable. The
// must-haves are serviceaccount (pods are rejected until the namespace's
// default service account exists), replicaset and deployment.
var kcmControllers = []string{
	"serviceaccount-controller",
	"namespace-controller",
	"garbage-collector-controller",
	"root-ca-certificate-publisher-controller",
	"replicaset-controller",
	"deployment-controller",
	"job-controller",
	"cronjob-controller",
	"statefulset-controller",
	"daemonset-controller",
	"serviceaccount-token-controller",
}

// auditPolicy records every request at Metadata level: who did which verb on
// what, never a request or response body (so no secret data lands on disk).
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// ClusterOptions tunes StartCluster. The zero value is ready to use.
type ClusterOptions struct {
	// Dir holds certificates, data and logs. Empty means a new temporary
	// directory, removed by Stop unless KeepDir is set. A given Dir is kept.
	Dir     string
	KeepDir bool
	// Tools overrides the binaries; nil means Tools().
	Tools *ToolPaths
	// StartTimeout bounds the whole start; zero means 2 minutes (the
	// machine running the tests may be busy).
	StartTimeout time.Duration
	// ExtraAPIServerArgs are appended to the kube-apiserver command line.
	ExtraAPIServerArgs []string
}

// Cluster is a running etcd, kube-apiserver and kube-controller-manager on
// 127.0.0.1. There is no kubelet and no scheduler: CreateNode, BindPod and
// SetPodRunning play their parts.
type Cluster struct {
	Dir        string
	EtcdURL    string // http://127.0.0.1:PORT
	Server     string // https://127.0.0.1:PORT
	CAFile     string // PEM CA that signed the serving and client certificates
	Kubeconfig string // contexts AdminContext (current) and ViewerContext

	AdminContext  string
	ViewerContext string
	AdminConfig   *rest.Config
	ViewerConfig  *rest.Config
	Admin         kubernetes.Interface
	Viewer        kubernetes.Interface

	// AuditLogPath is the apiserver's JSON-lines audit log (Metadata level
	// for every request), to prove what a client did.
	AuditLogPath string

	EtcdLog              string
	APIServerLog         string
	ControllerManagerLog string

	Tools ToolPaths

	etcd, apiserver, kcm *Process
	removeDir            bool

	stopOnce sync.Once
	stopErr  error
}

// StartCluster starts etcd, kube-apiserver and kube-controller-manager on
// loopback, generates the certificates and kubeconfig, and creates the
// viewer's RBAC. On error everything started is stopped and the error holds
// the tail of the relevant log.
func StartCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()

	var tools ToolPaths
	if opts.Tools != nil {
		tools = *opts.Tools
	} else if tools, err = Tools(); err != nil {
		return nil, err
	}

	c := &Cluster{
		Tools:         tools,
		AdminContext:  AdminContext,
		ViewerContext: ViewerContext,
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating cluster dir: %w", err)
		}
		c.Dir = opts.Dir
	} else {
		if c.Dir, err = os.MkdirTemp("", "regcheck-e2e-"); err != nil {
			return nil, fmt.Errorf("creating cluster dir: %w", err)
		}
		c.removeDir = !opts.KeepDir
	}
	trackCluster(c, true)
	defer func() {
		if err != nil {
			// The start error already carries the log that explains it; a
			// crashed process would only repeat it from Stop.
			_ = c.Stop()
		}
	}()

	if c.EtcdURL, err = c.startEtcd(ctx); err != nil {
		return nil, err
	}
	pki, err := c.writePKI()
	if err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, c.EtcdURL, pki, opts.ExtraAPIServerArgs); err != nil {
		return nil, err
	}
	if err := c.createRBAC(ctx); err != nil {
		return nil, err
	}
	if err := c.startControllerManager(ctx, pki); err != nil {
		return nil, err
	}
	return c, nil
}

// errPortInUse marks a start that lost the race for a port FreePort found.
var errPortInUse = errors.New("port already in use")

// withPortRetry retries start a few times when it lost a port race.
func withPortRetry(start func() error) error {
	var err error
	for range 3 {
		if err = start(); !errors.Is(err, errPortInUse) {
			return err
		}
	}
	return err
}

func (c *Cluster) startEtcd(ctx context.Context) (string, error) {
	var clientURL string
	err := withPortRetry(func() error {
		clientPort, err := FreePort()
		if err != nil {
			return err
		}
		peerPort, err := FreePort()
		if err != nil {
			return err
		}
		clientURL = "http://127.0.0.1:" + strconv.Itoa(clientPort)
		peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
		dataDir := filepath.Join(c.Dir, "etcd-data")
		// A retry must not find a half-initialised member with other URLs.
		if err := os.RemoveAll(dataDir); err != nil {
			return fmt.Errorf("clearing etcd data dir: %w", err)
		}
		args := []string{
			"--name=" + ClusterName,
			"--data-dir=" + dataDir,
			"--listen-client-urls=" + clientURL,
			"--advertise-client-urls=" + clientURL,
			"--listen-peer-urls=" + peerURL,
			"--initial-advertise-peer-urls=" + peerURL,
			"--initial-cluster=" + ClusterName + "=" + peerURL,
			"--initial-cluster-state=new",
			"--log-level=warn",
		}
		if etcdSupports(c.Tools.Etcd, "--unsafe-no-fsync") {
			// Test data is thrown away: durability only costs time.
			args = append(args, "--unsafe-no-fsync")
		}
		p, err := StartProcess("etcd", c.Dir, c.Tools.Etcd, args...)
		if err != nil {
			return err
		}
		c.etcd, c.EtcdLog = p, p.LogPath
		return waitForProcess(ctx, p, "etcd health", func(ctx context.Context) error {
			return etcdHealthy(ctx, clientURL)
		})
	})
	return clientURL, err
}

var (
	etcdHelpOnce sync.Once
	etcdHelp     string
)

// etcdSupports reports whether etcd's help mentions flag, so a newer or
// older etcd without it still starts.
func etcdSupports(bin, flag string) bool {
	etcdHelpOnce.Do(func() {
		out, _ := exec.Command(bin, "--help").CombinedOutput()
		etcdHelp = string(out)
	})
	return strings.Contains(etcdHelp, flag)
}

func etcdHealthy(ctx context.Context, clientURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientURL+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body.String(), `"health":"true"`) {
		return fmt.Errorf("etcd /health: %s %s", resp.Status, strings.TrimSpace(body.String()))
	}
	return nil
}

// pkiFiles are the paths of the generated credentials the components read.
type pkiFiles struct {
	caFile, servingCert, servingKey, saKey string
	caPEM                                  []byte
	admin, viewer, kcm                     clusterKeyPair
}

func (c *Cluster) writePKI() (*pkiFiles, error) {
	dir := filepath.Join(c.Dir, "pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating pki dir: %w", err)
	}
	authority, err := newClusterCA()
	if err != nil {
		return nil, err
	}
	serving, err := authority.serving("kube-apiserver",
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		[]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	p := &pkiFiles{
		caFile:      filepath.Join(dir, "ca.crt"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saKey:       filepath.Join(dir, "sa.key"),
		caPEM:       authority.certPEM,
	}
	if p.admin, err = authority.client(AdminUser, "system:masters"); err != nil {
		return nil, err
	}
	if p.viewer, err = authority.client(ViewerUser); err != nil {
		return nil, err
	}
	if p.kcm, err = authority.client(kcmUser); err != nil {
		return nil, err
	}
	saKey, err := newServiceAccountKey()
	if err != nil {
		return nil, err
	}
	for path, data := range map[string][]byte{
		p.caFile:      authority.certPEM,
		p.servingCert: serving.CertPEM,
		p.servingKey:  serving.KeyPEM,
		p.saKey:       saKey,
	} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	c.CAFile = p.caFile
	return p, nil
}

func (c *Cluster) startAPIServer(ctx context.Context, etcdURL string, p *pkiFiles, extra []string) error {
	policy := filepath.Join(c.Dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return fmt.Errorf("writing audit policy: %w", err)
	}
	c.AuditLogPath = filepath.Join(c.Dir, "audit.log")
	return withPortRetry(func() error {
		port, err := FreePort()
		if err != nil {
			return err
		}
		c.Server = "https://127.0.0.1:" + strconv.Itoa(port)
		if err := c.writeKubeconfigs(p); err != nil {
			return err
		}
		args := []string{
			"--etcd-servers=" + etcdURL,
			"--secure-port=" + strconv.Itoa(port),
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--cert-dir=" + filepath.Join(c.Dir, "apiserver-certs"),
			"--authorization-mode=RBAC",
			"--client-ca-file=" + p.caFile,
			"--tls-cert-file=" + p.servingCert,
			"--tls-private-key-file=" + p.servingKey,
			"--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file=" + p.saKey,
			"--service-account-signing-key-file=" + p.saKey,
			"--service-cluster-ip-range=10.0.0.0/24",
			// The default lease reconciler would publish 127.0.0.1 as the
			// kubernetes service endpoint, which validation rejects.
			"--endpoint-reconciler-type=none",
			"--audit-policy-file=" + policy,
			"--audit-log-path=" + c.AuditLogPath,
			"--profiling=false",
		}
		args = append(args, extra...)
		proc, err := StartProcess("kube-apiserver", c.Dir, c.Tools.APIServer, args...)
		if err != nil {
			return err
		}
		c.apiserver, c.APIServerLog = proc, proc.LogPath
		return waitForProcess(ctx, proc, "kube-apiserver /readyz", func(ctx context.Context) error {
			body, err := c.Admin.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			if err != nil {
				return fmt.Errorf("%w: %s", err, bytes.TrimSpace(body))
			}
			return nil
		})
	})
}

// writeKubeconfigs writes the user kubeconfig (admin and viewer contexts)
// and the controller manager's own, and builds the clients from the very
// file users get, so the tests exercise what kubectl and regcheck load.
func (c *Cluster) writeKubeconfigs(p *pkiFiles) error {
	cluster := &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: p.caPEM}
	user := func(kp clusterKeyPair) *clientcmdapi.AuthInfo {
		return &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[ClusterName] = cluster
	cfg.AuthInfos["admin"] = user(p.admin)
	cfg.AuthInfos["viewer"] = user(p.viewer)
	cfg.Contexts[AdminContext] = &clientcmdapi.Context{Cluster: ClusterName, AuthInfo: "admin", Namespace: metav1.NamespaceDefault}
	cfg.Contexts[ViewerContext] = &clientcmdapi.Context{Cluster: ClusterName, AuthInfo: "viewer", Namespace: metav1.NamespaceDefault}
	cfg.CurrentContext = AdminContext
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, c.Kubeconfig); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}

	kcm := clientcmdapi.NewConfig()
	kcm.Clusters[ClusterName] = cluster
	kcm.AuthInfos[kcmUser] = user(p.kcm)
	kcm.Contexts["default"] = &clientcmdapi.Context{Cluster: ClusterName, AuthInfo: kcmUser}
	kcm.CurrentContext = "default"
	if err := clientcmd.WriteToFile(*kcm, c.kcmKubeconfig()); err != nil {
		return fmt.Errorf("writing controller manager kubeconfig: %w", err)
	}

	var err error
	if c.AdminConfig, c.Admin, err = c.client(AdminContext); err != nil {
		return err
	}
	c.ViewerConfig, c.Viewer, err = c.client(ViewerContext)
	return err
}

func (c *Cluster) kcmKubeconfig() string {
	return filepath.Join(c.Dir, "pki", "kube-controller-manager.kubeconfig")
}

// client loads the kubeconfig context the same way kubectl would.
func (c *Cluster) client(kubeContext string) (*rest.Config, kubernetes.Interface, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("loading kubeconfig context %s: %w", kubeContext, err)
	}
	// Tests create objects in bursts; client-go's default 5 QPS only adds waiting.
	cfg.QPS, cfg.Burst = 100, 200
	cfg.UserAgent = "regcheck-e2e/" + kubeContext
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("building client for context %s: %w", kubeContext, err)
	}
	return cfg, cs, nil
}

// createRBAC lets the viewer read workloads, nodes and namespaces but not
// secrets or service accounts, so regcheck's CredentialsUnreadable path can
// be shown against real authorization.
func (c *Cluster) createRBAC(ctx context.Context) error {
	read := []string{"get", "list", "watch"}
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: ViewerRoleName},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "replicationcontrollers", "nodes", "namespaces"}, Verbs: read},
			{APIGroups: []string{"apps"}, Resources: []string{"replicasets", "deployments", "statefulsets", "daemonsets"}, Verbs: read},
			{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}, Verbs: read},
		},
	}
	viewerBinding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: ViewerRoleName},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ViewerRoleName},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: ViewerUser}},
	}
	// With --use-service-account-credentials=false every controller acts as
	// the manager itself, whose bootstrap role cannot create pods or
	// replicasets; per-controller service account tokens would cost start
	// time for no benefit here.
	kcmBinding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "regcheck-e2e:kube-controller-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: kcmUser}},
	}
	rbac := c.Admin.RbacV1()
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ClusterRole %s: %w", role.Name, err)
	}
	for _, b := range []*rbacv1.ClusterRoleBinding{viewerBinding, kcmBinding} {
		if _, err := rbac.ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ClusterRoleBinding %s: %w", b.Name, err)
		}
	}
	return nil
}

func (c *Cluster) startControllerManager(ctx context.Context, p *pkiFiles) error {
	args := []string{
		"--kubeconfig=" + c.kcmKubeconfig(),
		"--controllers=" + strings.Join(kcmControllers, ","),
		"--secure-port=0", // nothing to serve; nothing left listening
		"--leader-elect=false",
		"--service-account-private-key-file=" + p.saKey,
		"--root-ca-file=" + p.caFile,
		"--use-service-account-credentials=false",
	}
	proc, err := StartProcess("kube-controller-manager", c.Dir, c.Tools.ControllerManager, args...)
	if err != nil {
		return err
	}
	c.kcm, c.ControllerManagerLog = proc, proc.LogPath
	// Pods are refused until their namespace's default service account
	// exists, so its appearance is the readiness that matters to tests.
	return waitForProcess(ctx, proc, "the default service account from kube-controller-manager", func(ctx context.Context) error {
		_, err := c.Admin.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// waitFor polls probe until it succeeds, the process exits or ctx ends. The
// error carries the tail of the process log, which is where the reason is.
func waitForProcess(ctx context.Context, p *Process, what string, probe func(context.Context) error) error {
	const interval = 100 * time.Millisecond
	var last error
	for {
		probeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = probe(probeCtx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-p.Done():
			_ = p.Stop(0) // reap and close the log
			_, exitErr := p.Exited()
			log := p.Tail(30)
			err := fmt.Errorf("%s exited while waiting for %s (%v); last lines of %s:\n%s", p.Name, what, exitErr, p.LogPath, log)
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("%w: %w", errPortInUse, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last probe: %v); last lines of %s:\n%s", what, ctx.Err(), last, p.LogPath, p.Tail(30))
		case <-time.After(interval):
		}
	}
}

// Stop stops the controller manager, the apiserver and then etcd, and
// removes the temporary directory unless it was asked to be kept. It is safe
// to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stop()
		trackCluster(c, false)
	})
	return c.stopErr
}

func (c *Cluster) stop() error {
	// The apiserver goes before etcd: without storage its shutdown hangs.
	steps := []struct {
		p     *Process
		grace time.Duration
	}{
		{c.kcm, 5 * time.Second},
		{c.apiserver, 20 * time.Second},
		{c.etcd, 10 * time.Second},
	}
	var errs []error
	for _, s := range steps {
		if s.p == nil {
			continue
		}
		if err := s.p.Stop(s.grace); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w; last lines of %s:\n%s", s.p.Name, err, s.p.LogPath, s.p.Tail(20)))
		}
	}
	if c.removeDir {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, fmt.Errorf("removing cluster dir: %w", err))
		}
	}
	return errors.Join(errs...)
}

// LogTails returns the last n lines of each component log, for a failing
// test to print. Call it before Stop, which may remove the logs.
func (c *Cluster) LogTails(n int) string {
	var b strings.Builder
	for _, p := range []*Process{c.etcd, c.apiserver, c.kcm} {
		if p != nil {
			fmt.Fprintf(&b, "--- last %d lines of %s ---\n%s\n", n, p.LogPath, p.Tail(n))
		}
	}
	return b.String()
}

// Kubectl runs the real kubectl against the cluster in the given context
// ("" means the kubeconfig's current context, admin). Its discovery cache
// stays in the cluster dir so nothing touches the user's home.
func (c *Cluster) Kubectl(ctx context.Context, kubeContext string, args ...string) (stdout, stderr string, err error) {
	full := []string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + filepath.Join(c.Dir, "kubectl-cache")}
	if kubeContext != "" {
		full = append(full, "--context="+kubeContext)
	}
	full = append(full, args...)
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Tools.Kubectl, full...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "HOME="+c.Dir)
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), nil
}
