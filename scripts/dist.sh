#!/usr/bin/env bash
# Builds the release archives into dist/: one kubectl-regcheck binary per
# OS/arch with the LICENSE and a Helm plugin.yaml, as
#   kubectl-regcheck_${RELEASE_VERSION}_${os}_${arch}.tar.gz
# (the name scripts/helm-plugin-install.sh downloads and the krew manifest
# points at; krew takes the binary and LICENSE from it, Helm the whole
# archive: `helm plugin install URL`), plus dist/checksums.txt in sha256sum's format ("HASH  FILENAME").
#
# Reproducible: two runs on the same tree give identical bytes. The binary is
# built with -trimpath and no VCS stamp (version and commit come from
# -ldflags only); the archive fixes mtimes, owners, modes and entry order,
# and gzip -n leaves out the name and time it would otherwise record.
#
# Environment (make passes the Makefile's values):
#   VERSION, COMMIT      linked into the binary (default: git describe / HEAD)
#   GO_LDFLAGS           the whole -ldflags string (default: built from the two)
#   RELEASE_VERSION      the version in archive names (default: plugin.yaml's)
#   PLATFORMS            space-separated os/arch list (default: all six)
#   SOURCE_DATE_EPOCH    the archive mtime (default: HEAD's commit time)
#   DIST_DIR             where the archives go (default: dist)
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
ldflags=${GO_LDFLAGS:-"-s -w -X github.com/regcheck/regcheck/pkg/version.Version=$version -X github.com/regcheck/regcheck/pkg/version.Commit=$commit"}
release=${RELEASE_VERSION:-$(sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' plugin.yaml)}
release=${release#v}
platforms=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}

if [ -z "$release" ]; then
  echo "dist: no version in plugin.yaml and RELEASE_VERSION unset" >&2
  exit 1
fi
# A build from a release tag must agree with plugin.yaml: the Helm install
# hook downloads the archive named after plugin.yaml's version.
if [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] && [ "${version#v}" != "$release" ]; then
  echo "dist: tag $version but plugin.yaml says $release; bump plugin.yaml" >&2
  exit 1
fi

# Binaries are staged under .cache/ so they survive between runs: go build
# skips the link when the existing output already has the right build ID,
# which makes a repeated `make dist` take seconds instead of six links.
stage="$root/.cache/dist"
out=${DIST_DIR:-$root/dist}
mkdir -p "$out" "$stage"
# One run at a time per output directory (make e2e starts one in the
# background while the tests run, and a test may ask for another): the
# second waits, then finds every binary staged and links nothing.
# The lock lives in the stage, not in dist/, which holds release assets only.
exec 7>"$stage/.out-$(cd "$out" && pwd | sha256sum | cut -c1-12).lock"
flock 7
# Only this run's archives may be listed in checksums.txt.
rm -f "$out"/kubectl-regcheck_*.tar.gz "$out/checksums.txt"

for p in $platforms; do
  os=${p%/*} arch=${p#*/}
  exe=kubectl-regcheck
  if [ "$os" = windows ]; then exe=kubectl-regcheck.exe; fi
  dir="$stage/${os}_${arch}"
  mkdir -p "$dir"
  # One build of a platform's binary at a time, across output directories
  # too (scripts/image.sh stages the linux ones into another).
  exec 8>"$stage/.${os}_${arch}.lock"
  flock 8
  start=$SECONDS
  # -buildvcs=false: with VCS stamping a dirty tree changes the bytes
  # even when the code built does not.
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "$ldflags" -o "$dir/$exe" ./cmd/kubectl-regcheck
  cp LICENSE "$dir/LICENSE"
  scripts/archive-plugin-yaml.sh "$os" "$arch" "$exe" >"$dir/plugin.yaml"
  # Modes fixed here, not left to the umask of whoever runs the build.
  chmod 0755 "$dir/$exe"
  chmod 0644 "$dir/LICENSE" "$dir/plugin.yaml"

  archive="kubectl-regcheck_${release}_${os}_${arch}.tar.gz"
  # ustar: no PAX headers, which would carry atime/ctime.
  tar --create --format=ustar --sort=name --mtime="@$epoch" \
    --owner=0 --group=0 --numeric-owner -C "$dir" LICENSE "$exe" plugin.yaml |
    gzip -9 -n >"$out/$archive.tmp"
  mv "$out/$archive.tmp" "$out/$archive"
  exec 8>&-
  echo "dist: $archive ($((SECONDS - start))s)" >&2
done

# Written whole or not at all: a reader that finds checksums.txt finds
# every line of it.
(cd "$out" && sha256sum kubectl-regcheck_*.tar.gz >checksums.txt.tmp && mv checksums.txt.tmp checksums.txt)
echo "dist: $out/checksums.txt" >&2
