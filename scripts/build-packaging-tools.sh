#!/usr/bin/env bash
# Builds the tools the packaging e2e test runs besides those of
# scripts/build-tools.sh: krew (as kubectl-krew, the name kubectl finds it
# by), krew's validate-krew-manifest, and Helm 4 (as helm4, so it can sit
# next to Helm 3's helm), at the versions pinned in test/tools/krew and
# test/tools/helm4.
#
# Same cache scheme as scripts/build-tools.sh: .cache/tools/<key>/bin, with
# <key> hashing these two modules and the Go version, so a second run takes
# well under a second. Prints the bin directory on stdout; progress goes to
# stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mods=(test/tools/krew test/tools/helm4)
key=$( (go version; for m in "${mods[@]}"; do cat "$m/go.mod" "$m/go.sum"; done) | sha256sum | cut -c1-16)
bin="$root/.cache/tools/$key/bin"
mkdir -p "$bin"

# build MODULE_DIR OUTPUT PACKAGE [LDFLAGS]
build() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-}
  if [ -x "$bin/$out" ]; then return; fi
  echo "building $out (once; cached in $bin)" >&2
  local start=$SECONDS
  # Write to a temporary name and rename, so an interrupted build never
  # leaves a binary the cache check above would trust.
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"
  echo "built $out in $((SECONDS - start))s" >&2
}

# The versions the binaries report come from the pinned requirements, so
# they cannot drift from what is built.
modver() { awk -v m="$2" '($1=="require" && $2==m) || $1==m {print ($1=="require" ? $3 : $2); exit}' "$1/go.mod"; }
krewver=$(modver test/tools/krew sigs.k8s.io/krew)
helm4ver=$(modver test/tools/helm4 helm.sh/helm/v4)

build test/tools/krew kubectl-krew sigs.k8s.io/krew/cmd/krew "-X sigs.k8s.io/krew/internal/version.gitTag=$krewver"
build test/tools/krew validate-krew-manifest sigs.k8s.io/krew/cmd/validate-krew-manifest
build test/tools/helm4 helm4 helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=$helm4ver"

echo "$bin"
