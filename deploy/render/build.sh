#!/usr/bin/env bash
# Builds urumi-render (this directory: Helm's own chart rendering as a
# long-running process, see main.go) into a cache directory keyed on its
# sources and the Go toolchain, and prints that bin directory on its last
# stdout line. Same inputs: nothing is built. The Go modules are those of
# helm v3.22.0, the devcluster's helm (deploy/devcluster/build.sh).
#
#   deploy/render/build.sh            -> ~/.cache/urumi/render/<key>/bin
#   URUMI_CACHE=/path deploy/render/build.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${URUMI_CACHE:-$HOME/.cache/urumi}/render"
GO="${GO:-go}"
log() { printf 'render/build.sh: %s\n' "$*" >&2; }
command -v "$GO" >/dev/null || { log "go not found (need Go >= 1.26)"; exit 1; }

key="$(
  { "$GO" version; "$GO" env GOOS GOARCH; cat "$HERE"/build.sh "$HERE"/go.mod "$HERE"/go.sum "$HERE"/*.go; } \
    | sha256sum | cut -c1-16
)"
BIN="$CACHE_ROOT/$key/bin"
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
flock 9  # one build at a time; a waiting caller finds the binary built
if [[ ! -x "$BIN/urumi-render" ]]; then
  log "building urumi-render (~1 min cold)"
  mkdir -p "$BIN"
  (cd "$HERE" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" \
    -o "$BIN/urumi-render.part" .)
  mv "$BIN/urumi-render.part" "$BIN/urumi-render"
fi
echo "$BIN"
