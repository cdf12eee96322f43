#!/usr/bin/env bash
# Builds versitygw (an S3-compatible server, Apache-2.0, posix backend) from
# the Go module proxy into a cache directory keyed on its version and the Go
# toolchain, and prints that bin directory on its last stdout line. A second
# call with the same inputs builds nothing. The tests start it on loopback
# (tests/fixtures/s3.py) as the object storage backups are written to.
#
#   deploy/s3/build.sh            -> ~/.cache/urumi/s3/<key>/bin
#   URUMI_CACHE=/path deploy/s3/build.sh
#
# Progress goes to stderr; only the bin dir goes to stdout.
set -euo pipefail

VERSITYGW_VERSION=v1.8.0      # github.com/versity/versitygw/cmd/versitygw

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${URUMI_CACHE:-$HOME/.cache/urumi}/s3"
GO="${GO:-go}"

log() { printf 's3/build.sh: %s\n' "$*" >&2; }

command -v "$GO" >/dev/null || { log "go not found (need Go >= 1.26)"; exit 1; }

key="$(
  {
    "$GO" version
    printf 'GOOS=%s GOARCH=%s\n' "$("$GO" env GOOS)" "$("$GO" env GOARCH)"
    cat "$HERE/build.sh"
  } | sha256sum | cut -c1-16
)"
BIN="$CACHE_ROOT/$key/bin"

if [[ -x "$BIN/versitygw" ]]; then
  log "up to date: $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if [[ -x "$BIN/versitygw" ]]; then
  echo "$BIN"
  exit 0
fi

TMP="$(mktemp -d "$CACHE_ROOT/.build-$key.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
t0=$SECONDS
log "building versitygw $VERSITYGW_VERSION (a few minutes cold)"
CGO_ENABLED=0 GOBIN="$TMP/bin" "$GO" install -trimpath -ldflags "-s -w" \
  "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
mkdir -p "$CACHE_ROOT/$key"
mv "$TMP/bin" "$BIN"
log "built in $((SECONDS - t0))s: $BIN"
echo "$BIN"
