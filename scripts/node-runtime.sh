#!/usr/bin/env bash
# Makes sure the e2e node's container runtime is installed: containerd and
# runc from Debian's packages (containerd 1.6.20, runc 1.1.5 on bookworm).
# Idempotent: with both on PATH it does nothing. Installing needs root and
# apt-get; without them it says why on stderr and exits 2, and the real-node
# tests skip with that reason (never a silent pass).
#
# Only the binaries are used: the Debian package's own service is never
# started (there is no systemd here) and its /etc/containerd/config.toml is
# ignored; the tests start a private containerd with a config of their own.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

if have containerd && have runc; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "node-runtime: containerd/runc missing and not root: cannot install them (a real node needs root anyway)" >&2
  exit 2
fi
if ! have apt-get; then
  echo "node-runtime: containerd/runc missing and no apt-get to install them" >&2
  exit 2
fi
# Several engineers may run this at once: one apt at a time.
exec 9>/var/lock/regcheck-node-runtime.lock
flock 9
if have containerd && have runc; then
  exit 0
fi
echo "node-runtime: installing containerd and runc from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends containerd runc >&2; then
  apt-get update -q >&2
  apt-get install -y -q --no-install-recommends containerd runc >&2
fi
# Debian's postinst may start nothing without systemd; make sure no shared
# containerd is left running from the package.
have containerd && have runc
