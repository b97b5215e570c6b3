#!/usr/bin/env bash
# Prints the plugin.yaml of one release archive (scripts/dist.sh), for
#   archive-plugin-yaml.sh OS ARCH EXE
# the repository's name, version, usage and description, and a command for
# the binary next to it. No hooks: the binary is already there, so every
# Helm installs it from the archive URL, including the releases before 3.18
# that refuse the repository plugin.yaml's platformHooks. The e2e tests
# install Helm v3.14.4's plugin from this file too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
os=$1 arch=$2 exe=$3
sep=/
if [ "$os" = windows ]; then sep='\\'; fi
sed '/^platformCommand:/,$d' "$root/plugin.yaml"
printf 'platformCommand:\n  - os: %s\n    arch: %s\n    command: "$HELM_PLUGIN_DIR%s%s"\n' "$os" "$arch" "$sep" "$exe"
