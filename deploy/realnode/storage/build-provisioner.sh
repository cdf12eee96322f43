#!/bin/sh
# Builds local-path-provisioner into OUT_DIR (default: ./bin) from the Go
# module proxy, with ONE change: its health server listens on 127.0.0.1
# instead of all interfaces (upstream hard-codes ":<health-port>").
# Usage: build-provisioner.sh [OUT_DIR]      Env: LPP_VERSION, GOFLAGS_P (-p N)
set -eu
LPP_VERSION=${LPP_VERSION:-v0.0.37}
OUT_DIR=${1:-bin}
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
MOD=github.com/rancher/local-path-provisioner

# The module cache is read-only and `go build -overlay` refuses files under
# GOMODCACHE, so build a copy of the (flat, package main) module.
SRC=$(go mod download -json "$MOD@$LPP_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -f "$SRC/main.go" ] || { echo "build-provisioner.sh: no module source for $MOD@$LPP_VERSION" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cp "$SRC/go.mod" "$SRC/go.sum" "$WORK/"
for f in "$SRC"/*.go; do case "$f" in *_test.go) ;; *) cp "$f" "$WORK/";; esac; done
chmod -R u+w "$WORK"
grep -q 'fmt.Sprintf(":%d", port)' "$WORK/main.go" || {
  echo "build-provisioner.sh: health-server address line not found in $LPP_VERSION main.go; update the patch" >&2
  exit 1
}
sed -i 's/fmt.Sprintf(":%d", port)/fmt.Sprintf("127.0.0.1:%d", port)/' "$WORK/main.go"
cd "$WORK"
CGO_ENABLED=0 go build ${GOFLAGS_P:--p 1} -trimpath \
  -ldflags "-s -w -X main.VERSION=$LPP_VERSION" \
  -o "$OUT_DIR/local-path-provisioner" .
echo "$OUT_DIR/local-path-provisioner"
