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
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

. "$root/scripts/toolcache.sh"
toolcache_init test/tools/krew test/tools/helm4

# The versions the binaries report come from the pinned requirements, so
# they cannot drift from what is built.
modver() { awk -v m="$2" '($1=="require" && $2==m) || $1==m {print ($1=="require" ? $3 : $2); exit}' "$1/go.mod"; }
krewver=$(modver test/tools/krew sigs.k8s.io/krew)
helm4ver=$(modver test/tools/helm4 helm.sh/helm/v4)

toolcache_build test/tools/krew kubectl-krew sigs.k8s.io/krew/cmd/krew "-X sigs.k8s.io/krew/internal/version.gitTag=$krewver"
toolcache_build test/tools/krew validate-krew-manifest sigs.k8s.io/krew/cmd/validate-krew-manifest
toolcache_build test/tools/helm4 helm4 helm.sh/helm/v4/cmd/helm "-X helm.sh/helm/v4/internal/version.version=$helm4ver"

echo "$bin"
