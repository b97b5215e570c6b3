#!/usr/bin/env bash
# Builds the real tools the e2e environment and the demo run: etcd,
# kube-apiserver, kube-controller-manager, kubectl, helm and the node's
# kubelet, and regctl for the benchmark, from the Go module proxy at the
# versions pinned in test/tools/*/go.mod.

# kubelet and containerd 2.x, from the Go module proxy at the versions pinned in
# test/tools/*/go.mod.
#
# Binaries are cached under .cache/tools/<key>/bin, where <key> hashes the
# pinned module files and the Go version, so a second run takes seconds.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

. "$root/scripts/toolcache.sh"
toolcache_init test/tools/kube test/tools/etcd test/tools/helm

kver=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' test/tools/kube/go.mod)
kflags="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

toolcache_build test/tools/etcd etcd go.etcd.io/etcd/server/v3
toolcache_build test/tools/kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kflags"
toolcache_build test/tools/kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kflags"
toolcache_build test/tools/kube kubectl k8s.io/kubernetes/cmd/kubectl "$kflags"
toolcache_build test/tools/helm helm helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=v3.22.0"

# The kubelet has a module of its own (test/tools/kubelet: go.sum needs
# entries the control plane does not) and a cache key of its own, so pinning
# it never rebuilds the tools above. The node's containerd and runc come from
# Debian's packages instead (scripts/node-runtime.sh).
kubelet_bin=$(toolcache_init test/tools/kubelet; toolcache_build test/tools/kubelet kubelet k8s.io/kubernetes/cmd/kubelet "$kflags"; echo "$bin")
# A relative link: the cache is shared by checkouts that come and go.
ln -sfn "../../$(basename "$(dirname "$kubelet_bin")")/bin/kubelet" "$bin/kubelet"

# regclient's regctl, the benchmark's second peer (test/bench), the same
# way: a module and a cache key of its own, linked into the shared bin.
regctl_bin=$(toolcache_init test/tools/regctl; toolcache_build test/tools/regctl regctl github.com/regclient/regclient/cmd/regctl; echo "$bin")
ln -sfn "../../$(basename "$(dirname "$regctl_bin")")/bin/regctl" "$bin/regctl"

# containerd 2.x, the node's second runtime (test/tools/containerd2): the
# daemon and its runc shim, with a module and a cache key of their own like
# the kubelet. runc stays Debian's (scripts/node-runtime.sh).
c2ver=$(awk '$1=="require" && $2=="github.com/containerd/containerd/v2" {print $3}' test/tools/containerd2/go.mod)
c2flags="-X github.com/containerd/containerd/v2/version.Version=$c2ver"
ctrd2_bin=$(toolcache_init test/tools/containerd2
  toolcache_build test/tools/containerd2 containerd github.com/containerd/containerd/v2/cmd/containerd "$c2flags"
  toolcache_build test/tools/containerd2 containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 "$c2flags"
  echo "$bin")
# A directory link: the binaries keep containerd's own names (the daemon finds
# its shim by name), so they cannot sit beside other tools.
ln -sfn "../../$(basename "$(dirname "$ctrd2_bin")")/bin" "$bin/containerd2"

# Prometheus and promtool: the real server that scrapes `regcheck serve` in
# e2e, and the rules checker and unit tester for the chart's alerts. A module
# and a cache key of their own, like the kubelet. remove_all_sd leaves out
# every cloud service discovery and its SDK (static targets are all e2e
# uses); the web UI's assets are not built in either (the tests query the
# HTTP API).
prom_bin=$(toolcache_init test/tools/prometheus
  toolcache_build test/tools/prometheus prometheus github.com/prometheus/prometheus/cmd/prometheus "" remove_all_sd
  toolcache_build test/tools/prometheus promtool github.com/prometheus/prometheus/cmd/promtool "" remove_all_sd
  echo "$bin")
ln -sfn "../../$(basename "$(dirname "$prom_bin")")/bin/prometheus" "$bin/prometheus"
ln -sfn "../../$(basename "$(dirname "$prom_bin")")/bin/promtool" "$bin/promtool"

echo "$bin"
