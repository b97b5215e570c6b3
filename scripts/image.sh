#!/usr/bin/env bash
# Builds regcheck's container image without a Docker daemon: an OCI image
# index for linux/amd64 and linux/arm64 holding the release binaries of
# scripts/dist.sh (the same bytes as the archives), a CA bundle and the
# non-root user 65532; nothing else. scripts/image/main.go does the work
# with go-containerregistry.
#
#   scripts/image.sh --oci-layout DIR     write an OCI image layout
#   scripts/image.sh --push REF           push (credentials: the docker
#                                         config, as docker login wrote it)
#   (--insecure pushes over plain HTTP.)
#
# Environment:
#   DIST_DIR            where scripts/dist.sh writes the linux archives the
#                       images take (default: .cache/image-dist)
#   VERSION, COMMIT     as for scripts/dist.sh
#   IMAGE_PLATFORMS     default "linux/amd64 linux/arm64"
#   CA_BUNDLE           default /etc/ssl/certs/ca-certificates.crt (Debian's
#                       ca-certificates package on the build host)
#   SOURCE_DATE_EPOCH   the images' creation time (default: HEAD's commit time)
# Prints REPOSITORY@DIGEST (or DIR@DIGEST) on stdout.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

platforms=${IMAGE_PLATFORMS:-linux/amd64 linux/arm64}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
dist=${DIST_DIR:-$root/.cache/image-dist}
# The archives a release ships, built as dist.sh builds them (it stages the
# binaries under .cache/dist, so a second run links nothing).
PLATFORMS="$platforms" DIST_DIR="$dist" SOURCE_DATE_EPOCH="$epoch" scripts/dist.sh >&2
exec go run ./scripts/image -dist "$dist" -platforms "${platforms// /,}" \
  -ca-bundle "${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" -epoch "$epoch" "$@"
