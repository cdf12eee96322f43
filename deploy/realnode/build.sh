#!/usr/bin/env bash
# Builds the host binaries of the devcluster's real node -- kubelet and
# kube-proxy (from the same Kubernetes module set as deploy/devcluster/go.mod),
# crictl, CoreDNS and Traefik -- into a cache directory keyed on the inputs,
# and prints that bin directory on its last stdout line. A second call with
# the same inputs builds nothing.
#
#   deploy/realnode/build.sh            -> .../realnode/<key>/bin
#   URUMI_CACHE=/path deploy/realnode/build.sh
#
# Progress goes to stderr; only the bin dir goes to stdout.
set -euo pipefail

# ---- version pins --------------------------------------------------------
KUBE_VERSION=v1.36.5          # k8s.io/kubernetes in ../devcluster/go.mod (kubelet, kube-proxy)
CRICTL_VERSION=v1.37.0        # sigs.k8s.io/cri-tools/cmd/crictl
COREDNS_VERSION=v1.15.0       # github.com/coredns/coredns (default plugin.cfg)
KUBE_ROUTER_VERSION=v2.10.0  # github.com/cloudnativelabs/kube-router/v2, via the wrapper module networkpolicy/kube-router/go.mod
LOCAL_PATH_VERSION=v0.0.37  # github.com/rancher/local-path-provisioner (storage/build-provisioner.sh)
TRAEFIK_VERSION=v3.7.12       # github.com/traefik/traefik/v3, via the wrapper module traefik/go.mod
BUILD_PARALLELISM="${URUMI_BUILD_PARALLELISM:-2}"
# ---------------------------------------------------------------------------

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY="$(cd "$HERE/.." && pwd)"
DEVCLUSTER="$DEPLOY/devcluster"
CACHE_ROOT="${URUMI_CACHE:-$HOME/.cache/urumi}/realnode"
GO="${GO:-go}"
BINARIES=(kubelet kube-proxy crictl coredns traefik local-path-provisioner kube-router)

log() { printf 'realnode/build.sh: %s\n' "$*" >&2; }

command -v "$GO" >/dev/null || { log "go not found (need Go >= 1.26)"; exit 1; }

# require_pin DIR MODULE VERSION: a wrapper module (DIR/go.mod) must require
# MODULE at the pinned VERSION (go mod tidy may list it as "// indirect", as
# it only provides a `tool`).
require_pin() {
  local dir=$1 module=$2 version=$3
  grep -qE "^[[:space:]]*(require[[:space:]]+)?${module//./\\.} ${version//./\\.}( |\$)" "$HERE/$dir/go.mod" || {
    log "$dir/go.mod does not require $module $version (edit both, then go mod tidy there)"
    exit 1
  }
}
require_pin traefik github.com/traefik/traefik/v3 "$TRAEFIK_VERSION"
require_pin networkpolicy/kube-router github.com/cloudnativelabs/kube-router/v2 "$KUBE_ROUTER_VERSION"

KUBE_MINOR="${KUBE_VERSION#v1.}"; KUBE_MINOR="${KUBE_MINOR%%.*}"

# Cache key: everything that changes the output.
key="$(
  {
    "$GO" version
    printf 'GOOS=%s GOARCH=%s\n' "$("$GO" env GOOS)" "$("$GO" env GOARCH)"
    for f in "$DEVCLUSTER/go.mod" "$DEVCLUSTER/go.sum" "$HERE/build.sh" \
             "$HERE/traefik/go.mod" "$HERE/traefik/go.sum" \
             "$HERE/traefik/ext/go.mod" "$HERE/traefik/ext/ext.go" \
             "$HERE/storage/build-provisioner.sh" \
             "$HERE/networkpolicy/kube-router/go.mod" "$HERE/networkpolicy/kube-router/go.sum"; do
      printf '== %s\n' "${f#"$DEPLOY/"}"; cat "$f"
    done
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$key"
BIN="$OUT/bin"

have_all() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN/$b" ]] || return 1; done
}

if have_all; then
  log "up to date: $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# One build at a time per cache (parallel test runs wait for each other).
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it"
  flock 9
fi
if have_all; then
  log "up to date: $BIN"
  echo "$BIN"
  exit 0
fi

TMP="$(mktemp -d "$CACHE_ROOT/.build-$key.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bin"

# Static, pure-Go binaries. The kubelet and kube-proxy import no cgo package
# besides the standard library's optional ones (net, os/user: pure-Go
# fallbacks); upstream ships kube-proxy static too.
export CGO_ENABLED=0
start=$SECONDS
step() { log "$1 done in $((SECONDS - t0))s"; }

t0=$SECONDS
log "building kubelet, kube-proxy $KUBE_VERSION from ../devcluster/go.mod with -p $BUILD_PARALLELISM"
log "  measured on a busy 2-core machine: 84 s with the devcluster already built (shared packages in the Go build cache)"
log "  whole script cold: ~15 min, peak ~3 GiB RSS (Traefik link); warm Go cache: ~25 s"
(
  cd "$DEVCLUSTER"
  "$GO" build -p "$BUILD_PARALLELISM" -trimpath \
    -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$KUBE_MINOR \
      -X k8s.io/component-base/version.gitTreeState=clean \
      -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/client-go/pkg/version.gitMajor=1 \
      -X k8s.io/client-go/pkg/version.gitMinor=$KUBE_MINOR" \
    -o "$TMP/bin/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
)
step "kubelet, kube-proxy"

t0=$SECONDS
log "building crictl $CRICTL_VERSION (~1.5 min cold)"
GOBIN="$TMP/bin" "$GO" install -p "$BUILD_PARALLELISM" -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION#v}" \
  "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
step crictl

t0=$SECONDS
log "building coredns $COREDNS_VERSION (default plugin set; ~4 min cold)"
GOBIN="$TMP/bin" "$GO" install -p "$BUILD_PARALLELISM" -trimpath \
  -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
  "github.com/coredns/coredns@$COREDNS_VERSION"
step coredns

t0=$SECONDS
log "building traefik $TRAEFIK_VERSION (wrapper module traefik/; ~8 min cold)"
(
  cd "$HERE/traefik"
  "$GO" build -mod=readonly -p "$BUILD_PARALLELISM" -trimpath \
    -ldflags "-s -w \
      -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION \
      -X github.com/traefik/traefik/v3/pkg/version.BuildDate=unknown" \
    -o "$TMP/bin/traefik" github.com/traefik/traefik/v3/cmd/traefik
)
step traefik

t0=$SECONDS
log "building local-path-provisioner $LOCAL_PATH_VERSION (health server on loopback)"
LPP_VERSION="$LOCAL_PATH_VERSION" GOFLAGS_P="-p $BUILD_PARALLELISM" \
  sh "$HERE/storage/build-provisioner.sh" "$TMP/bin" >/dev/null
step local-path-provisioner

t0=$SECONDS
log "building kube-router $KUBE_ROUTER_VERSION (its firewall enforces NetworkPolicies; ~5 min cold)"
(
  cd "$HERE/networkpolicy/kube-router"
  "$GO" build -mod=readonly -p "$BUILD_PARALLELISM" -trimpath \
    -ldflags "-s -w \
      -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION \
      -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=unknown" \
    -o "$TMP/bin/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
)
step kube-router

# Smoke test: each reports its version.
"$TMP/bin/kubelet" --version >/dev/null
"$TMP/bin/kube-proxy" --version >/dev/null
"$TMP/bin/crictl" --version >/dev/null
"$TMP/bin/coredns" -version >/dev/null
"$TMP/bin/traefik" version >/dev/null
"$TMP/bin/local-path-provisioner" --version >/dev/null
"$TMP/bin/kube-router" --version >/dev/null

rm -rf "$OUT"
mkdir -p "$OUT"
mv "$TMP/bin" "$BIN"
cat > "$OUT/versions.txt" <<VERSIONS
key=$key
kubernetes=$KUBE_VERSION
crictl=$CRICTL_VERSION
coredns=$COREDNS_VERSION
traefik=$TRAEFIK_VERSION
local-path-provisioner=$LOCAL_PATH_VERSION
kube-router=$KUBE_ROUTER_VERSION
go=$("$GO" env GOVERSION)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start))s
VERSIONS
# Drop builds for other inputs not rebuilt for two weeks.
find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name '.*' -mtime +14 \
  -exec rm -rf {} + 2>/dev/null || true
log "built in $((SECONDS - start))s: $BIN"
echo "$BIN"
