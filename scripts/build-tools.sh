#!/usr/bin/env bash
# Builds the real tools the e2e environment and the demo run: etcd,
# kube-apiserver, kube-controller-manager, kubectl and helm, from the Go
# module proxy at the versions pinned in test/tools/*/go.mod.
#
# Binaries are cached under .cache/tools/<key>/bin, where <key> hashes the
# pinned module files and the Go version, so a second run takes seconds.
# Prints the bin directory on stdout; progress goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

key=$( (go version; cat test/tools/{kube,etcd,helm}/go.{mod,sum}) | sha256sum | cut -c1-16)
bin="$root/.cache/tools/$key/bin"
mkdir -p "$bin"

# build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]
build() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-}
  if [ -x "$bin/$out" ]; then return; fi
  echo "building $out (once; cached in $bin)" >&2
  local start=$SECONDS
  # One build at a time: the machine has 2 cores and the Kubernetes links
  # are memory hungry.
  (cd "test/tools/$dir" && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w $ldflags" -o "$bin/$out.tmp.$$" "$pkg")
  mv "$bin/$out.tmp.$$" "$bin/$out"
  echo "built $out in $((SECONDS - start))s" >&2
}

kver=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' test/tools/kube/go.mod)
kflags="-X k8s.io/component-base/version.gitVersion=$kver -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"

build etcd etcd go.etcd.io/etcd/server/v3
build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kflags"
build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$kflags"
build kube kubectl k8s.io/kubernetes/cmd/kubectl "$kflags"
build helm helm helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=v3.22.0"

echo "$bin"
