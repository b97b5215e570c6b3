#!/usr/bin/env bash
# Builds Helm v3.14.4 (as helm314), pinned in test/tools/helm314: a release
# from the range with the known anonymous-push bug (after v3.13.1, before
# v3.15.0), so the helm.version e2e test can prove the KnownHelmBug warning
# under a real Helm and see what that Helm does against a registry that
# refuses anonymous pushes.
#
# Same cache scheme as scripts/build-tools.sh: .cache/tools/<key>/bin, <key>
# hashing the module and the Go version; a second run takes well under a
# second. Prints the bin directory on stdout; progress goes to stderr. Not
# part of make tools: the e2e test skips when the binary is absent.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

. "$root/scripts/toolcache.sh"
toolcache_init test/tools/helm314

ver=$(awk '$1=="require" && $2=="helm.sh/helm/v3" {print $3}' test/tools/helm314/go.mod)
toolcache_build test/tools/helm314 helm314 helm.sh/helm/v3/cmd/helm "-X helm.sh/helm/v3/internal/version.version=$ver"

echo "$bin"
