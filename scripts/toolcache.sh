# Sourced by the scripts that build pinned tools from the Go module proxy.
#
#   toolcache_init MODULE_DIR...  sets $bin to .cache/tools/<key>/bin, <key>
#                                 hashing the Go version and the modules'
#                                 go.mod and go.sum, so a pin change or a
#                                 new Go rebuilds and nothing else does.
#   toolcache_build MODULE_DIR OUTPUT PACKAGE [LDFLAGS [TAGS]]
#                                 builds PACKAGE of MODULE_DIR into $bin
#                                 once (with the build TAGS, if any);
#                                 later calls take no time.
#
export GOTOOLCHAIN=go1.27.3 # the project's Go (also exported by every script that sources this)

# One build at a time, across checkouts too (a lock per tool): the machine has 2 cores and the Kubernetes links are
# memory hungry. A build writes a temporary name and renames it, so an
# interrupted build never leaves a binary the cache would trust.

toolcache_init() {
  local key
  key=$( (go version; for m in "$@"; do cat "$root/$m/go.mod" "$root/$m/go.sum"; done) | sha256sum | cut -c1-16)
  bin="$root/.cache/tools/$key/bin"
  mkdir -p "$bin"
}

toolcache_build() {
  local dir=$1 out=$2 pkg=$3 ldflags=${4:-} tags=${5:-}
  if [ -x "$bin/$out" ]; then return; fi
  # Several checkouts (git worktrees) may share one cache: the first to
  # want a tool builds it, the others wait for it instead of building the
  # same Kubernetes binary side by side on a 2-core machine.
  exec 9>"$bin/.$out.lock"
  flock 9
  if [ -x "$bin/$out" ]; then exec 9>&-; return; fi
  echo "building $out (once; cached in $bin)" >&2
  local start=$SECONDS
  (cd "$root/$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags "$tags" \
      -ldflags "-s -w $ldflags" -o "$bin/$out.tmp.$$" "$pkg")
  mv "$bin/$out.tmp.$$" "$bin/$out"
  exec 9>&-
  echo "built $out in $((SECONDS - start))s" >&2
}
