#!/usr/bin/env bash
# govulncheck over the whole module, offline: govulncheck and the Go
# vulnerability database both come from the Go module proxy (pinned in
# test/tools/vuln), since vuln.go.dev is not reachable from where this is
# built. The database is built once from golang.org/x/vulndb's OSV files
# with its own indexdb command and cached next to the binaries.
#
# scripts/vulngate then fails on every vulnerability whose code regcheck
# (or its tests) can reach, unless scripts/vuln-accepted.txt lists it
# with a reason.
set -euo pipefail
export GOTOOLCHAIN=go1.27.3 # the project's Go, fetched by the go command from the module proxy
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

. "$root/scripts/toolcache.sh"
toolcache_init test/tools/vuln
toolcache_build test/tools/vuln govulncheck golang.org/x/vuln/cmd/govulncheck
toolcache_build test/tools/vuln indexdb golang.org/x/vulndb/cmd/indexdb

db="$bin/../vulndb"
if [ ! -f "$db/index/db.json" ]; then
  osv=$(cd test/tools/vuln && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' golang.org/x/vulndb)/data/osv
  echo "building the vulnerability database from $osv (once)" >&2
  rm -rf "$db.tmp.$$"
  "$bin/indexdb" -vulns "$osv" -out "$db.tmp.$$"
  mv "$db.tmp.$$" "$db"
fi

"$bin/govulncheck" -db "file://$(cd "$db" && pwd)" -format json ./... |
  go run ./scripts/vulngate -accept scripts/vuln-accepted.txt
