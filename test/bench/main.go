// Command bench is `make bench`: regcheck against a cluster and a registry
// of realistic size, with the registry made to look remote.
//
// In one run it starts the real local environment (etcd, kube-apiserver,
// kube-controller-manager, a token-auth distribution registry), puts a
// loopback proxy in front of the registry that delays every answer by
// -delay, counts requests by kind and serves HTTPS (a certificate of a test
// CA the bench makes; HTTP/2 and HTTP/1.1) as well as plain HTTP on the same
// address, pushes -images unique references
// (each twice: the previous build, for stale pods, and the current one),
// and writes Deployments, their ReplicaSets and running pods with a pull
// secret per namespace. It then measures, side by side:
//
//   - list_floor_s: `kubectl get pods -A -o json`, what merely reading the pods costs;
//   - list_floor_protobuf_s and list_floor_clientgo_json_s: a client-go LIST
//     of the pods (pages of 500, as kubectl) as application/vnd.kubernetes.protobuf
//     and as JSON, in the bench's process: the list without kubectl's printing;
//   - regcheck_s: `kubectl regcheck -A -o json --ca-file CA --concurrency N`
//     through the real kubectl, its peak RSS and the registry requests it made;
//   - crane_loop_s: `crane digest` once per unique image, one after the
//     other, with the same credentials, the shell-loop alternative (trusting
//     the CA through SSL_CERT_FILE);
//   - crane_parallel_s: the same, -crane-parallel at a time (as `xargs -P 16`);
//   - regctl_loop_s and regctl_parallel_s: regclient's `regctl image digest`,
//     sequential and -crane-parallel at a time, with the same credentials
//     and CA in a regctl configuration file of the sandbox's.
//
// regcheck and the peers are measured over TLS first, then (-plain, on by
// default) again over plain HTTP/1.1 (--plain-http) for comparison; each
// scale prints a block per transport, the TLS one first.
//
// The smaller scales of -scales are measured first, on a prefix of the
// objects (proportionally fewer namespaces, deployments and images); then
// the rest is written and the full scale is measured. The full scale is
// printed first, each scale as a block of `name: value` lines.
package main

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/regcheck/regcheck/test/e2e/env"
)

const (
	user     = "bench-bot"
	password = "bench:s3cret" // a throwaway credential of the throwaway registry
)

type options struct {
	pods, deployments, namespaces int
	images, repos                 int
	delay                         time.Duration
	concurrency                   int
	scales                        []int
	workers                       int
	crane, regctl                 string
	craneSample                   int
	craneParallel                 int
	timeout                       time.Duration
	pullFailing                   int // percent of pods in ImagePullBackOff
	newer                         bool
	plain                         bool
	sweepBatches                  []int
	sweepConcurrency              []int
	sweepRepeat                   int
	runs, peerRuns                int
}

// transport is one row of the benchmark: how regcheck and crane reach the
// proxy.
type transport struct {
	name          string   // tls or plain-http
	regcheckFlags []string // --ca-file CA or --plain-http
	craneEnv      []string
	regctlEnv     []string
}

func main() {
	o, err := parseOptions(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench failed: %v\n", err)
		cancel()
		stop()
		os.Exit(1)
	}
}

// parseOptions parses the command line (main) or a smoke test's flags.
func parseOptions(fs *flag.FlagSet, args []string) (options, error) {
	var o options
	var scales, batches, concs string
	fs.IntVar(&o.pods, "pods", 5000, "pods at full scale")
	fs.IntVar(&o.deployments, "deployments", 1000, "Deployments the pods belong to")
	fs.IntVar(&o.namespaces, "namespaces", 50, "namespaces the Deployments are spread over")
	fs.IntVar(&o.images, "images", 500, "unique image references at full scale")
	fs.IntVar(&o.repos, "repos", 200, "repositories the images are spread over (tags v0, v1, ...)")
	fs.DurationVar(&o.delay, "delay", 50*time.Millisecond, "added to every registry response (a round trip to a remote registry)")
	fs.IntVar(&o.concurrency, "concurrency", 16, "regcheck --concurrency")
	fs.StringVar(&scales, "scales", "500", "comma-separated smaller pod counts also measured (images, deployments and namespaces in proportion); empty for none")
	fs.IntVar(&o.workers, "workers", 16, "goroutines writing objects and pushing images")
	fs.StringVar(&o.crane, "crane", "", "crane binary (default: build test/tools/crane into .cache/tools)")
	fs.StringVar(&o.regctl, "regctl", "", "regctl binary (default: the one scripts/build-tools.sh builds into the tools' bin)")
	fs.IntVar(&o.craneParallel, "crane-parallel", 16, "crane and regctl digests at a time in the parallel loops (as xargs -P N); 0 to leave them out")
	fs.IntVar(&o.craneSample, "crane-sample", 0, "run crane and regctl on at most this many images, evenly spaced, and scale their times to all of them (0: all); for scales where the loop would take hours")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "bound on the whole run")
	fs.IntVar(&o.pullFailing, "pull-failing", 5, "percent of pods in ImagePullBackOff (a tag never pushed, with the kubelet's Events); 0 for none")
	fs.BoolVar(&o.newer, "newer", true, "also time regcheck --newer (one tags list per repository) and count what it adds")
	fs.BoolVar(&o.plain, "plain", true, "after the TLS row, measure regcheck and crane again over plain HTTP/1.1, for comparison")
	fs.StringVar(&batches, "sweep-batches", "25,50,100,200,500", "at full scale, time regcheck's registry phase in process with at most this many repositories a token (comma-separated); empty for none")
	fs.StringVar(&concs, "sweep-concurrency", "8,16,32,64", "then with these concurrencies (comma-separated); empty for none")
	fs.IntVar(&o.sweepRepeat, "sweep-repeat", 3, "runs of each sweep point; the fastest counts")
	fs.IntVar(&o.runs, "runs", 5, "timed runs of regcheck after an untimed warm-up; the median counts")
	fs.IntVar(&o.peerRuns, "peer-runs", 3, "timed runs of each parallel peer loop (crane, regctl); the median counts (the sequential loops run once: each is already the sum of one run per image)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if o.scales, err = parseScales(scales, o.pods); err != nil {
		return o, err
	}
	if o.sweepBatches, err = parseInts("sweep-batches", batches); err != nil {
		return o, err
	}
	if o.sweepConcurrency, err = parseInts("sweep-concurrency", concs); err != nil {
		return o, err
	}
	return o, o.validate()
}

func parseScales(s string, full int) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-scales: %q is not a positive pod count", f)
		}
		if n < full {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (o options) validate() error {
	switch {
	case o.pods < 1 || o.deployments < 1 || o.namespaces < 1 || o.images < 1 || o.repos < 1:
		return fmt.Errorf("-pods, -deployments, -namespaces, -images and -repos must be positive")
	case o.deployments > o.pods:
		return fmt.Errorf("-deployments (%d) > -pods (%d): every deployment needs a pod", o.deployments, o.pods)
	case o.namespaces > o.deployments:
		return fmt.Errorf("-namespaces (%d) > -deployments (%d)", o.namespaces, o.deployments)
	case o.images > o.deployments:
		return fmt.Errorf("-images (%d) > -deployments (%d): each deployment runs one image", o.images, o.deployments)
	case o.repos > o.images:
		return fmt.Errorf("-repos (%d) > -images (%d)", o.repos, o.images)
	case o.concurrency < 1 || o.workers < 1:
		return fmt.Errorf("-concurrency and -workers must be positive")
	case o.runs < 1 || o.peerRuns < 1:
		return fmt.Errorf("-runs and -peer-runs must be positive")
	case o.craneSample < 0 || o.craneParallel < 0:
		return fmt.Errorf("-crane-sample and -crane-parallel must not be negative")
	case o.pullFailing < 0 || o.pullFailing > 25:
		return fmt.Errorf("-pull-failing must be a percent from 0 to 25")
	}
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// figures are what one scale measured.
type figures struct {
	transport                             string
	pods, deployments, namespaces, unique int
	craneImages                           int // images crane and regctl were run on (a sample, when fewer than unique)

	regcheck, listFloor, registryFloor, craneLoop time.Duration
	// The runs the medians above came from (regcheck, crane and regctl
	// in parallel), fastest first.
	regcheckRuns, craneParallelRuns, regctlParallelRuns []time.Duration
	listProtobuf, listClientJSON                        time.Duration
	craneParallel                                       time.Duration
	regctlLoop, regctlParallel                          time.Duration
	rc, rcP                                             proxyStats
	regcheckRSSKiB, listRSSKiB                          int64
	regcheckWithKubectlRSSKiB                           int64
	regcheckExit                                        int
	reg, crane, craneP                                  proxyStats
	reasons                                             map[string]int
	pullReasons                                         map[string]int

	// Pull failures: pods in ImagePullBackOff, the distinct images they
	// cannot pull, the namespaces they are in, and the Events LISTs and
	// registry requests regcheck made.
	failingPods, failingImages, failingNamespaces int
	eventLists                                    int

	// --newer: the same scan with workload.version, its registry requests
	// and its results by reason.
	regcheckNewer  time.Duration
	newer          proxyStats
	newerRepos     int
	versionReasons map[string]int
}

// run measures and prints the figures to w.
func run(ctx context.Context, o options, w io.Writer) (err error) {
	root, err := env.RepoRoot()
	if err != nil {
		return err
	}
	crane := o.crane
	if crane == "" {
		if crane, err = craneBinary(root); err != nil {
			return err
		}
	}

	logf("starting etcd, kube-apiserver, kube-controller-manager")
	cluster, err := env.StartCluster(ctx, env.ClusterOptions{})
	if err != nil {
		return err
	}
	defer func() {
		logf("tearing down")
		if err := cluster.Stop(); err != nil {
			logf("stopping the cluster: %v", err)
		}
	}()
	if err := silenceControllers(ctx, cluster.Admin); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "regcheck-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	reg, err := env.StartRegistry(env.RegistryOptions{
		Auth:  env.AuthToken,
		Users: map[string]env.User{user: {Password: password, Push: []string{"*"}}},
	})
	if err != nil {
		return err
	}
	defer reg.Close()
	// The proxy's TLS: a test CA of the bench's own, trusted by regcheck
	// through --ca-file and by crane through SSL_CERT_FILE.
	ca, err := env.NewCA("regcheck bench CA")
	if err != nil {
		return err
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		return err
	}
	caFile, err := ca.WriteCertFile(dir, "bench-ca.pem")
	if err != nil {
		return err
	}
	proxy, err := startProxy(reg.URL, o.delay, cert)
	if err != nil {
		return err
	}
	defer proxy.Close()
	logf("registry %s behind a %s proxy at %s (HTTPS with HTTP/2, and plain HTTP)", reg.Host, o.delay, proxy.Host)
	sandbox, err := env.NewSandbox(ctx, dir)
	if err != nil {
		return err
	}
	sandbox = sandbox.With("KUBECONFIG=" + cluster.Kubeconfig)
	// crane's credentials: a Docker config of its own, the same user.
	craneConfig := filepath.Join(dir, "crane-docker")
	if err := writeDockerConfig(craneConfig, proxy.Host, user, password); err != nil {
		return err
	}
	craneEnv := append(sandbox.Env(), "DOCKER_CONFIG="+craneConfig)
	// regctl's: a regctl configuration per row (the CA, or TLS disabled).
	regctl := o.regctl
	if regctl == "" {
		regctl = filepath.Join(sandbox.Tools.Dir, "regctl")
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	regctlTLS, regctlPlain := filepath.Join(dir, "regctl-tls.json"), filepath.Join(dir, "regctl-plain.json")
	if err := writeRegctlConfig(regctlTLS, proxy.Host, user, password, string(caPEM)); err != nil {
		return err
	}
	if err := writeRegctlConfig(regctlPlain, proxy.Host, user, password, ""); err != nil {
		return err
	}
	// crane takes a loopback registry for one that may be plain HTTP and
	// races https:// against http://, preferring https: trusting the CA
	// makes it use TLS, not trusting it (the plain row) makes it fall back.
	transports := []transport{{
		name:          "tls",
		regcheckFlags: []string{"--ca-file", caFile},
		craneEnv:      append(slices.Clone(craneEnv), "SSL_CERT_FILE="+caFile),
		regctlEnv:     append(sandbox.Env(), "REGCTL_CONFIG="+regctlTLS),
	}}
	if o.plain {
		transports = append(transports, transport{
			name:          "plain-http",
			regcheckFlags: []string{"--plain-http"},
			craneEnv:      craneEnv,
			regctlEnv:     append(sandbox.Env(), "REGCTL_CONFIG="+regctlPlain),
		})
	}

	start := time.Now()
	imgs, err := pushImages(reg, proxy.Host, user, o.images, o.repos, o.workers)
	if err != nil {
		return err
	}
	logf("pushed %d images twice to %d repositories in %s", len(imgs), o.repos, time.Since(start).Round(time.Millisecond))

	l := layout{pods: o.pods, deployments: o.deployments, namespaces: o.namespaces}
	pop, err := newPopulator(cluster, l, o.workers, proxy.Host, user, password, o.pullFailing)
	if err != nil {
		return err
	}
	var all [][]figures // by scale, a row per transport
	var fullRefs, fullWant []string
	written := 0
	for _, scale := range append(o.scales, o.pods) {
		to := l.deploymentsFor(scale)
		nimg := max(1, int(math.Round(float64(o.images)*float64(scale)/float64(o.pods))))
		start := time.Now()
		imageOf := func(d int) int { return d % nimg }
		if err := pop.create(ctx, written, to, imgs, imageOf); err != nil {
			return err
		}
		logf("wrote deployments %d..%d with their pods in %s", written, to-1, time.Since(start).Round(time.Millisecond))
		written = to

		f := figures{pods: l.firstPod(to), deployments: to, namespaces: len(pop.namespace)}
		total, running, err := pop.countPods(ctx)
		if err != nil {
			return err
		}
		failingRepos, failingNS := map[string]bool{}, map[string]bool{}
		for d := range to {
			if pop.failing(d) {
				f.failingPods += l.podsOf(d)
				failingRepos[imgs[pop.imageIndex[d]].Repo] = true
				failingNS[l.namespaceOf(d)] = true
			}
		}
		f.failingImages, f.failingNamespaces = len(failingRepos), len(failingNS)
		if total != f.pods || running != f.pods-f.failingPods {
			return fmt.Errorf("the cluster has %d pods (%d running), the bench wrote %d (%d failing to pull): did a controller interfere?", total, running, f.pods, f.failingPods)
		}
		seen := map[int]bool{}
		var refs, want []string
		// Every deployment written so far, whichever scale wrote it;
		// crane is asked only for images that were pushed.
		for d := range to {
			if pop.failing(d) {
				continue
			}
			i := pop.imageIndex[d]
			if !seen[i] {
				seen[i] = true
				refs, want = append(refs, imgs[i].Ref), append(want, imgs[i].Current)
			}
		}
		f.unique = len(refs)
		if err := measureList(ctx, sandbox, &f); err != nil {
			return err
		}
		if err := measureClientLists(ctx, cluster, &f); err != nil {
			return err
		}
		// The Events LISTs do not depend on the registry's transport.
		if err := countEventLists(ctx, cluster, sandbox, transports[0], &f); err != nil {
			return err
		}
		fullRefs, fullWant = refs, want
		refs, want = sample(refs, o.craneSample), sample(want, o.craneSample)
		f.craneImages = len(refs)
		var rows []figures
		for _, t := range transports {
			f := f
			f.transport = t.name
			if err := measure(ctx, o, sandbox, proxy, t, &f); err != nil {
				return err
			}
			logf("crane digest × %d of %d, one after the other (%s)", len(refs), f.unique, t.name)
			proxy.Reset()
			if f.craneLoop, err = craneLoop(ctx, crane, t.craneEnv, refs, want); err != nil {
				return err
			}
			// A sample's time, scaled to every image: the loop is sequential,
			// so its time is the sum of per-image times.
			scale := float64(f.unique) / float64(len(refs))
			f.craneLoop = time.Duration(float64(f.craneLoop) * scale)
			f.crane = proxy.Stats()
			if o.craneParallel > 0 {
				logf("crane digest × %d of %d, %d at a time (%s)", len(refs), f.unique, o.craneParallel, t.name)
				// Scaled like the loop: at o.craneParallel in flight, the
				// time grows with the number of images too.
				if f.craneParallel, f.craneParallelRuns, f.craneP, err = medianRun(o.peerRuns, scale, proxy, func() (time.Duration, error) {
					return craneParallel(ctx, crane, t.craneEnv, refs, want, o.craneParallel)
				}); err != nil {
					return err
				}
			}
			logf("regctl image digest × %d of %d, one after the other (%s)", len(refs), f.unique, t.name)
			proxy.Reset()
			if f.regctlLoop, err = regctlParallel(ctx, regctl, t.regctlEnv, refs, want, 1); err != nil {
				return err
			}
			f.regctlLoop = time.Duration(float64(f.regctlLoop) * scale)
			f.rc = proxy.Stats()
			if o.craneParallel > 0 {
				logf("regctl image digest × %d of %d, %d at a time (%s)", len(refs), f.unique, o.craneParallel, t.name)
				if f.regctlParallel, f.regctlParallelRuns, f.rcP, err = medianRun(o.peerRuns, scale, proxy, func() (time.Duration, error) {
					return regctlParallel(ctx, regctl, t.regctlEnv, refs, want, o.craneParallel)
				}); err != nil {
					return err
				}
			}
			rows = append(rows, f)
			logf("scale %d pods, %s: regcheck %.2fs, list floor %.2fs, crane loop %.2fs, crane parallel %.2fs, regctl loop %.2fs, regctl parallel %.2fs",
				f.pods, t.name, f.regcheck.Seconds(), f.listFloor.Seconds(), f.craneLoop.Seconds(), f.craneParallel.Seconds(), f.regctlLoop.Seconds(), f.regctlParallel.Seconds())
		}
		all = append(all, rows)
	}

	// The serve row (serve.go): the cluster holds the full scale now.
	sv, err := measureServe(ctx, sandbox, proxy, transports[0], all[len(all)-1][0].pods)
	if err != nil {
		return err
	}

	batches, concs, err := sweep(ctx, o, proxy, caFile, fullRefs, fullWant)
	if err != nil {
		return err
	}

	slices.Reverse(all) // full scale first, and in each scale the TLS row first
	first := true
	for _, rows := range all {
		for _, f := range rows {
			if !first {
				fmt.Fprintln(w)
			}
			first = false
			f.print(w, o)
		}
	}
	if len(batches)+len(concs) > 0 {
		fmt.Fprintf(w, "\nsweep: the registry phase in process over TLS at %d pods, %d images\n", o.pods, len(fullRefs))
		printSweep(w, batches, concs)
	}
	fmt.Fprintln(w)
	sv.print(w, transports[0].name)
	return nil
}

// measureList warms up and runs the list floor once.
func measureList(ctx context.Context, sandbox *env.Sandbox, f *figures) error {
	// Warm up: kubectl's discovery cache, the binaries in the page cache.
	if _, _, err := runTimed(ctx, sandbox, os.DevNull, "kubectl", "get", "namespaces"); err != nil {
		return err
	}
	if _, _, err := runTimed(ctx, sandbox, os.DevNull, "kubectl", "regcheck", "version"); err != nil {
		return err
	}

	logf("kubectl get pods -A -o json (%d pods)", f.pods)
	res, _, err := runTimed(ctx, sandbox, os.DevNull, "kubectl", "get", "pods", "-A", "-o", "json")
	if err != nil {
		return err
	}
	f.listFloor, f.listRSSKiB = res.wall, res.maxRSSKiB
	return nil
}

// measureClientLists times client-go's LIST of the pods as protobuf and as
// JSON, each after a warm-up of its own.
func measureClientLists(ctx context.Context, cluster *env.Cluster, f *figures) error {
	for _, c := range []struct {
		contentType string
		d           *time.Duration
	}{{"application/vnd.kubernetes.protobuf", &f.listProtobuf}, {"application/json", &f.listClientJSON}} {
		if _, _, err := listPods(ctx, cluster.AdminConfig, c.contentType); err != nil {
			return err
		}
		d, n, err := listPods(ctx, cluster.AdminConfig, c.contentType)
		if err != nil {
			return err
		}
		if n != f.pods {
			return fmt.Errorf("LIST as %s: %d pods, want %d", c.contentType, n, f.pods)
		}
		*c.d = d
	}
	return nil
}

// measure times regcheck over t: an untimed warm-up run, then o.runs runs
// of which the median counts (its time, registry requests and span; the
// highest peak RSS of all of them), then once with --newer.
func measure(ctx context.Context, o options, sandbox *env.Sandbox, proxy *latencyProxy, t transport, f *figures) error {
	args := append([]string{"regcheck", "-A", "-o", "json", "--concurrency", strconv.Itoa(o.concurrency)}, t.regcheckFlags...)
	logf("kubectl %s (a warm-up, then %d runs)", strings.Join(args, " "), o.runs)
	out := filepath.Join(sandbox.Dir, fmt.Sprintf("regcheck-%s-%d.json", t.name, f.pods))
	type run struct {
		code int
		reg  proxyStats
	}
	if _, code, err := runTimed(ctx, sandbox, out, "kubectl", args...); err != nil && code != 1 {
		return err // 1: something failed (the stale workloads)
	}
	med, runs, err := median(o.runs, func() (run, time.Duration, error) {
		proxy.Reset()
		res, code, err := runTimed(ctx, sandbox, out, "kubectl", args...)
		if err != nil && code != 1 {
			return run{}, 0, err
		}
		f.regcheckRSSKiB = max(f.regcheckRSSKiB, res.pluginHWMKiB)
		f.regcheckWithKubectlRSSKiB = max(f.regcheckWithKubectlRSSKiB, res.maxRSSKiB)
		return run{code, proxy.Stats()}, res.wall, nil
	})
	if err != nil {
		return err
	}
	f.regcheckRuns = runs
	f.regcheck, f.reg, f.regcheckExit = runs[len(runs)/2], med.reg, med.code
	f.registryFloor = registryFloor(f.unique+f.failingImages, o.concurrency, o.delay)
	if f.reasons, f.pullReasons, err = resultReasons(out); err != nil {
		return err
	}
	if !o.newer {
		return nil
	}
	args = append(args, "--newer")
	logf("kubectl %s", strings.Join(args, " "))
	out = filepath.Join(sandbox.Dir, fmt.Sprintf("regcheck-newer-%s-%d.json", t.name, f.pods))
	proxy.Reset()
	res, code, err := runTimed(ctx, sandbox, out, "kubectl", args...)
	f.newer = proxy.Stats()
	if err != nil && code != 1 {
		return err
	}
	f.regcheckNewer = res.wall
	f.versionReasons, f.newerRepos, err = versionReasons(out)
	return err
}

// registryFloor is the least time any client takes to resolve images
// references at concurrency c with every answer delay late: a ping and a
// token, then one request per reference, c at a time. The references are
// every one the workloads name, the -pull-failing pods' unpushed tags
// among them: resolving them is part of the scan (the peers are given
// only the pushed ones), and what regcheck asks beyond one request each
// (their GET and tags list, to tell a missing tag from a missing
// repository) stays in its span, not in the floor.
func registryFloor(images, c int, delay time.Duration) time.Duration {
	return time.Duration(2+(images+c-1)/c) * delay
}

// medianRun times a peer's loop n times and keeps the median run: its
// time, scaled by scale (from a -crane-sample to every image), and the
// registry requests it made; runs are all the times, fastest first.
func medianRun(n int, scale float64, proxy *latencyProxy, loop func() (time.Duration, error)) (time.Duration, []time.Duration, proxyStats, error) {
	reg, runs, err := median(n, func() (proxyStats, time.Duration, error) {
		proxy.Reset()
		d, err := loop()
		return proxy.Stats(), time.Duration(float64(d) * scale), err
	})
	if err != nil {
		return 0, nil, proxyStats{}, err
	}
	return runs[len(runs)/2], runs, reg, nil
}

// median calls run n times and returns what the run of median time gave,
// and every run's time, fastest first. One run of a tool sharing two cores
// with the API server, the registry and the proxy moves by 10-20% from the
// next; the median of a few is what the tool does, not its luck, and
// regcheck and the parallel peers are timed the same way.
func median[T any](n int, run func() (T, time.Duration, error)) (T, []time.Duration, error) {
	type timedRun struct {
		v T
		d time.Duration
	}
	all := make([]timedRun, 0, n)
	for range n {
		v, d, err := run()
		if err != nil {
			var zero T
			return zero, nil, err
		}
		all = append(all, timedRun{v, d})
	}
	slices.SortStableFunc(all, func(a, b timedRun) int { return cmp.Compare(a.d, b.d) })
	runs := make([]time.Duration, len(all))
	for i, r := range all {
		runs[i] = r.d
	}
	return all[len(all)/2].v, runs, nil
}

// versionReasons counts the workload.version results of a ScanReport by
// reason, and the repositories they name.
func versionReasons(path string) (map[string]int, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	var rep struct {
		Results []struct {
			Check      string `json:"check"`
			Reason     string `json:"reason"`
			Repository string `json:"repository"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, 0, fmt.Errorf("regcheck --newer -o json: %w", err)
	}
	reasons, repos := map[string]int{}, map[string]bool{}
	for _, r := range rep.Results {
		if r.Check == "workload.version" {
			reasons[r.Reason]++
			repos[r.Repository] = true
		}
	}
	return reasons, len(repos), nil
}

type timed struct {
	wall      time.Duration
	maxRSSKiB int64
	// pluginHWMKiB is the peak RSS of the process after kubectl exec'd
	// kubectl-regcheck in it (0 for anything else).
	pluginHWMKiB int64
}

// pollPluginHWM watches pid until stop and returns the last VmHWM seen
// while the process ran kubectl-regcheck. kubectl execs a plugin in its
// own process, so the kernel's rusage (and /usr/bin/time) report the
// larger of kubectl's own start-up peak and the plugin's; the new program
// gets a fresh memory map, whose high-water mark only grows, so the last
// sample (every 5ms) is the plugin's own peak, bar its final few ms.
func pollPluginHWM(pid int, stop <-chan struct{}) int64 {
	var hwm int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	proc := fmt.Sprintf("/proc/%d/", pid)
	for {
		if exe, err := os.Readlink(proc + "exe"); err == nil && strings.HasSuffix(exe, "kubectl-regcheck") {
			if b, err := os.ReadFile(proc + "status"); err == nil {
				for line := range strings.Lines(string(b)) {
					if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
						if kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
							hwm = max(hwm, kib)
						}
					}
				}
			}
		}
		select {
		case <-stop:
			return hwm
		case <-tick.C:
		}
	}
}

// runTimed runs a sandbox tool with stdout to the file out and returns
// its wall time and peak RSS: the kernel's rusage of the child (what
// /usr/bin/time -f %M prints) and, for a plugin, its own peak (see
// pollPluginHWM).
func runTimed(ctx context.Context, sandbox *env.Sandbox, out string, name string, args ...string) (timed, int, error) {
	path := name
	if name == "kubectl" {
		path = sandbox.Tools.Kubectl
	}
	f, err := os.Create(out)
	if err != nil {
		return timed{}, -1, err
	}
	defer f.Close()
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir, cmd.Env = sandbox.Dir, sandbox.Env()
	cmd.Stdout, cmd.Stderr = f, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return timed{}, -1, fmt.Errorf("%s: %w", name, err)
	}
	stopPoll := make(chan struct{})
	polled := make(chan int64, 1)
	go func() { polled <- pollPluginHWM(cmd.Process.Pid, stopPoll) }()
	err = cmd.Wait()
	t := timed{wall: time.Since(start)}
	close(stopPoll)
	t.pluginHWMKiB = <-polled
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			t.maxRSSKiB = ru.Maxrss // KiB on Linux
		}
	}
	code := 0
	if err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return t, code, fmt.Errorf("%s %s: exit %d: %s", name, strings.Join(args, " "), code, tail(stderr.String(), 20))
	}
	return t, 0, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// resultReasons counts the workload.digest and workload.pull results of
// a ScanReport by reason, to show the scan saw what was written.
func resultReasons(path string) (digest, pull map[string]int, _ error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var rep struct {
		Kind    string `json:"kind"`
		Results []struct {
			Check  string `json:"check"`
			Reason string `json:"reason"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, nil, fmt.Errorf("regcheck -o json: %w", err)
	}
	if rep.Kind != "ScanReport" {
		return nil, nil, fmt.Errorf("regcheck -o json: kind %q, want ScanReport", rep.Kind)
	}
	digest, pull = map[string]int{}, map[string]int{}
	for _, r := range rep.Results {
		switch r.Check {
		case "workload.digest":
			digest[r.Reason]++
		case "workload.pull":
			pull[r.Reason]++
		}
	}
	return digest, pull, nil
}

// countEventLists runs regcheck once more, untimed, through a loopback
// proxy to the API server that records requests, and counts its Events
// LISTs: one per namespace with a pod waiting on a pull is the design.
func countEventLists(ctx context.Context, cluster *env.Cluster, sandbox *env.Sandbox, t transport, f *figures) error {
	apiProxy, err := cluster.StartAPIProxy(cluster.AdminConfig, sandbox.Dir)
	if err != nil {
		return err
	}
	defer apiProxy.Close()
	_, code, err := runTimed(ctx, sandbox.With("KUBECONFIG="+apiProxy.Kubeconfig), os.DevNull,
		"kubectl", append([]string{"regcheck", "-A", "-o", "json"}, t.regcheckFlags...)...)
	if err != nil && code != 1 {
		return err
	}
	f.eventLists = 0
	for _, r := range apiProxy.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/events") {
			f.eventLists++
		}
	}
	return nil
}

func (f figures) print(w io.Writer, o options) {
	secs := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
	ratio := func(a, b float64) string {
		if b == 0 {
			return "n/a"
		}
		return strconv.FormatFloat(a/b, 'f', 2, 64)
	}
	mib := func(kib int64) string { return strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) }
	manifests := f.reg.ManifestHead + f.reg.ManifestGet
	counts := func(m map[string]int) string {
		out := make([]string, 0, len(m))
		for r, n := range m {
			out = append(out, fmt.Sprintf("%s=%d", r, n))
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}

	fmt.Fprintf(w, "transport: %s\n", f.transport)
	fmt.Fprintf(w, "pods: %d\n", f.pods)
	fmt.Fprintf(w, "unique_images: %d\n", f.unique)
	fmt.Fprintf(w, "regcheck_s: %s\n", secs(f.regcheck))
	fmt.Fprintf(w, "regcheck_runs_s: %s\n", spread(f.regcheckRuns))
	fmt.Fprintf(w, "list_floor_s: %s\n", secs(f.listFloor))
	fmt.Fprintf(w, "list_floor_protobuf_s: %s\n", secs(f.listProtobuf))
	fmt.Fprintf(w, "list_floor_clientgo_json_s: %s\n", secs(f.listClientJSON))
	fmt.Fprintf(w, "registry_floor_s: %s\n", secs(f.registryFloor))
	fmt.Fprintf(w, "registry_floor_images: %d (%d pushed, %d that the pull-failing pods name)\n", f.unique+f.failingImages, f.unique, f.failingImages)
	fmt.Fprintf(w, "ratio_to_floor: %s\n", ratio(f.regcheck.Seconds(), f.listFloor.Seconds()+f.registryFloor.Seconds()))
	// The same against the protobuf list regcheck itself asks for (it
	// reads the pods as protobuf, and overlaps the list with the registry).
	fmt.Fprintf(w, "ratio_to_protobuf_floor: %s\n", ratio(f.regcheck.Seconds(), f.listProtobuf.Seconds()+f.registryFloor.Seconds()))
	// regcheck's registry work alone against the registry floor at the same
	// concurrency: the list floor is slowed by kubectl printing JSON, so
	// ratio_to_floor flatters; this one does not.
	fmt.Fprintf(w, "registry_span_ratio: %s\n", ratio(f.reg.Span.Seconds(), f.registryFloor.Seconds()))
	fmt.Fprintf(w, "crane_loop_s: %s\n", secs(f.craneLoop))
	fmt.Fprintf(w, "speedup_vs_crane: %s\n", ratio(f.craneLoop.Seconds(), f.regcheck.Seconds()))
	if o.craneParallel > 0 {
		fmt.Fprintf(w, "crane_parallel_s: %s\n", secs(f.craneParallel))
		fmt.Fprintf(w, "crane_parallel_runs_s: %s\n", spread(f.craneParallelRuns))
		fmt.Fprintf(w, "speedup_vs_crane_parallel: %s\n", ratio(f.craneParallel.Seconds(), f.regcheck.Seconds()))
	}
	fmt.Fprintf(w, "regctl_loop_s: %s\n", secs(f.regctlLoop))
	fmt.Fprintf(w, "speedup_vs_regctl: %s\n", ratio(f.regctlLoop.Seconds(), f.regcheck.Seconds()))
	if o.craneParallel > 0 {
		fmt.Fprintf(w, "regctl_parallel_s: %s\n", secs(f.regctlParallel))
		fmt.Fprintf(w, "regctl_parallel_runs_s: %s\n", spread(f.regctlParallelRuns))
		fmt.Fprintf(w, "speedup_vs_regctl_parallel: %s\n", ratio(f.regctlParallel.Seconds(), f.regcheck.Seconds()))
	}
	fmt.Fprintf(w, "manifest_requests_per_image: %s\n", ratio(float64(manifests), float64(f.unique)))
	fmt.Fprintf(w, "token_requests: %d\n", f.reg.Token)
	fmt.Fprintf(w, "peak_rss_mib: %s\n", mib(f.regcheckRSSKiB))
	// Context for the figures above.
	fmt.Fprintf(w, "deployments: %d\n", f.deployments)
	fmt.Fprintf(w, "namespaces: %d\n", f.namespaces)
	fmt.Fprintf(w, "delay_ms: %d\n", o.delay.Milliseconds())
	fmt.Fprintf(w, "concurrency: %d\n", o.concurrency)
	fmt.Fprintf(w, "regcheck_exit: %d\n", f.regcheckExit)
	fmt.Fprintf(w, "regcheck_digest_reasons: %s\n", counts(f.reasons))
	// Pull failures: what the kubelet reports costs no registry request
	// beyond the image's own lookup, and one Events LIST per namespace
	// with a failing pod.
	fmt.Fprintf(w, "pull_failing_pods: %d of %d, %d images, %d namespaces\n", f.failingPods, f.pods, f.failingImages, f.failingNamespaces)
	fmt.Fprintf(w, "regcheck_pull_reasons: %s\n", counts(f.pullReasons))
	fmt.Fprintf(w, "regcheck_event_lists: %d\n", f.eventLists)
	fmt.Fprintf(w, "manifest_requests_per_image_incl_failing: %s\n", ratio(float64(manifests), float64(f.unique+f.failingImages)))
	// regcheck's registry phase alone, next to registry_floor_s.
	fmt.Fprintf(w, "regcheck_registry_span_s: %s\n", secs(f.reg.Span))
	// Where the span went: set-up before the first manifest request, the
	// manifests (in round trips of -delay; the floor's is
	// ceil(images/concurrency)) with the mean requests in flight, the tail.
	ph := f.reg.Phases
	fmt.Fprintf(w, "regcheck_span_phases: setup %s s (%s), manifests %s s (%s round trips, %.1f in flight, %.1f ms each), tail %s s\n",
		secs(ph.Setup), ph.SetupRequests, secs(ph.Manifests), ratio(ph.Manifests.Seconds(), o.delay.Seconds()), ph.InFlight,
		float64(ph.ManifestMean.Microseconds())/1000, secs(ph.Tail))
	fmt.Fprintf(w, "regcheck_requests: ping=%d (with credentials %d) token=%d manifest_head=%d manifest_get=%d tags_list=%d other=%d\n",
		f.reg.Ping, f.reg.PingAuth, f.reg.Token, f.reg.ManifestHead, f.reg.ManifestGet, f.reg.TagsList, f.reg.Other)
	fmt.Fprintf(w, "regcheck_connections: %d (tls %d), http2_requests %d\n", f.reg.Conns, f.reg.TLSConns, f.reg.HTTP2)
	fmt.Fprintf(w, "regcheck_token_scopes: %d asked, %d distinct\n", f.reg.TokenScopes, f.reg.DistinctScopes)
	fmt.Fprintf(w, "regcheck_manifest_urls: %d distinct, at most %d requests each\n", f.reg.DistinctManifests, f.reg.MaxPerManifest)
	fmt.Fprintf(w, "peak_rss_with_kubectl_mib: %s\n", mib(f.regcheckWithKubectlRSSKiB))
	fmt.Fprintf(w, "list_floor_rss_mib: %s\n", mib(f.listRSSKiB))
	fmt.Fprintf(w, "crane_loop_images: %d of %d (crane_loop_s is scaled from them when fewer)\n", f.craneImages, f.unique)
	fmt.Fprintf(w, "crane_requests_per_image: %s\n", ratio(float64(f.crane.total()), float64(f.craneImages)))
	fmt.Fprintf(w, "crane_requests: ping=%d token=%d manifest_head=%d manifest_get=%d other=%d\n",
		f.crane.Ping, f.crane.Token, f.crane.ManifestHead, f.crane.ManifestGet, f.crane.Other)
	fmt.Fprintf(w, "crane_connections: %d (tls %d), http2_requests %d\n", f.crane.Conns, f.crane.TLSConns, f.crane.HTTP2)
	if o.craneParallel > 0 {
		fmt.Fprintf(w, "crane_parallel: %d at a time, %d images (crane_parallel_s is scaled from them when fewer)\n", o.craneParallel, f.craneImages)
		fmt.Fprintf(w, "crane_parallel_requests_per_image: %s\n", ratio(float64(f.craneP.total()), float64(f.craneImages)))
		fmt.Fprintf(w, "crane_parallel_span_s: %s\n", secs(f.craneP.Span))
	}
	fmt.Fprintf(w, "regctl_requests_per_image: %s\n", ratio(float64(f.rc.total()), float64(f.craneImages)))
	fmt.Fprintf(w, "regctl_requests: ping=%d token=%d manifest_head=%d manifest_get=%d other=%d\n",
		f.rc.Ping, f.rc.Token, f.rc.ManifestHead, f.rc.ManifestGet, f.rc.Other)
	fmt.Fprintf(w, "regctl_connections: %d (tls %d), http2_requests %d\n", f.rc.Conns, f.rc.TLSConns, f.rc.HTTP2)
	if o.craneParallel > 0 {
		fmt.Fprintf(w, "regctl_parallel_requests_per_image: %s\n", ratio(float64(f.rcP.total()), float64(f.craneImages)))
		fmt.Fprintf(w, "regctl_parallel_span_s: %s\n", secs(f.rcP.Span))
	}
	if !o.newer {
		return
	}
	// --newer: what listing the tags adds to the same scan.
	fmt.Fprintf(w, "newer_s: %s\n", secs(f.regcheckNewer))
	fmt.Fprintf(w, "newer_added_s: %s\n", secs(f.regcheckNewer-f.regcheck))
	fmt.Fprintf(w, "newer_registry_span_s: %s\n", secs(f.newer.Span))
	// The scan without --newer already reads a first page of the tags list
	// of each repository whose tag is missing (to tell it from a missing
	// repository): the difference is what --newer lists.
	fmt.Fprintf(w, "newer_tags_list_requests: %d added (%d in all), %d repositories compared\n", f.newer.TagsList-f.reg.TagsList, f.newer.TagsList, f.newerRepos)
	fmt.Fprintf(w, "newer_requests_added: %d (%d in all, against %d)\n", f.newer.total()-f.reg.total(), f.newer.total(), f.reg.total())
	fmt.Fprintf(w, "newer_requests: ping=%d token=%d manifest_head=%d manifest_get=%d tags_list=%d other=%d\n",
		f.newer.Ping, f.newer.Token, f.newer.ManifestHead, f.newer.ManifestGet, f.newer.TagsList, f.newer.Other)
	fmt.Fprintf(w, "newer_version_reasons: %s\n", counts(f.versionReasons))
}

// spread is the runs a median came from, fastest first, e.g.
// "2.211 2.240 2.301 (median of 3)".
func spread(runs []time.Duration) string {
	var b strings.Builder
	for _, d := range runs {
		fmt.Fprintf(&b, "%.3f ", d.Seconds())
	}
	fmt.Fprintf(&b, "(median of %d)", len(runs))
	return b.String()
}

// writeDockerConfig writes DIR/config.json with one auths entry.
func writeDockerConfig(dir, host, user, password string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600)
}

// sample is at most n items of all, evenly spaced (all of them when n is
// zero or covers all).
func sample(all []string, n int) []string {
	if n <= 0 || n >= len(all) {
		return all
	}
	out := make([]string, n)
	for i := range out {
		out[i] = all[i*len(all)/n]
	}
	return out
}
