#!/usr/bin/env bash
# Builds devcluster (Kubernetes control plane from the Kubernetes Go modules),
# kwok and helm into a cache directory keyed on the inputs, and prints that
# bin directory on its last stdout line. A second call with the same inputs
# builds nothing.
#
#   deploy/devcluster/build.sh            -> .../devcluster/<key>/bin
#   URUMI_CACHE=/path deploy/devcluster/build.sh
#
# Progress goes to stderr; only the bin dir goes to stdout.
set -euo pipefail

# ---- version pins --------------------------------------------------------
KUBE_VERSION=v1.36.5          # k8s.io/kubernetes in go.mod (staging modules v0.36.5)
KWOK_VERSION=v0.8.0           # sigs.k8s.io/kwok/cmd/kwok
HELM_VERSION=v3.22.0          # helm.sh/helm/v3/cmd/helm
BUILD_PARALLELISM="${URUMI_BUILD_PARALLELISM:-2}"
# ---------------------------------------------------------------------------

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${URUMI_CACHE:-$HOME/.cache/urumi}/devcluster"
GO="${GO:-go}"

log() { printf 'build.sh: %s\n' "$*" >&2; }

command -v "$GO" >/dev/null || { log "go not found (need Go >= 1.26)"; exit 1; }

KUBE_MINOR="${KUBE_VERSION#v1.}"; KUBE_MINOR="${KUBE_MINOR%%.*}"

# Cache key: everything that changes the output.
key="$(
  cd "$HERE"
  {
    "$GO" version
    printf 'GOOS=%s GOARCH=%s\n' "$("$GO" env GOOS)" "$("$GO" env GOARCH)"
    for f in go.mod go.sum build.sh $(ls ./*.go | sort) $(ls stages/*.yaml | sort); do
      printf '== %s\n' "$f"; cat "$f"
    done
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$key"
BIN="$OUT/bin"

have_all() { [[ -x "$BIN/devcluster" && -x "$BIN/kwok" && -x "$BIN/helm" ]]; }

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

export CGO_ENABLED=0
start=$SECONDS
step() { log "$1 done in $((SECONDS - t0))s"; }

t0=$SECONDS
log "building devcluster (Kubernetes $KUBE_VERSION: etcd, kube-apiserver, kube-controller-manager, kube-scheduler) with -p $BUILD_PARALLELISM"
log "  cold build (all three binaries): ~7 min on an idle 2-core machine, ~16 min on a busy one; peak ~2.2 GiB RSS; warm Go cache: <1 min"
(
  cd "$HERE"
  "$GO" build -p "$BUILD_PARALLELISM" -trimpath \
    -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$KUBE_MINOR \
      -X k8s.io/component-base/version.gitTreeState=clean \
      -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/client-go/pkg/version.gitMajor=1 \
      -X k8s.io/client-go/pkg/version.gitMinor=$KUBE_MINOR" \
    -o "$TMP/bin/devcluster" .
)
step devcluster

t0=$SECONDS
log "building kwok $KWOK_VERSION (~1 min cold)"
GOBIN="$TMP/bin" "$GO" install -p "$BUILD_PARALLELISM" -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
step kwok

t0=$SECONDS
log "building helm $HELM_VERSION (~1 min cold)"
GOBIN="$TMP/bin" "$GO" install -p "$BUILD_PARALLELISM" -trimpath \
  -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$KUBE_MINOR \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$KUBE_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
step helm

"$TMP/bin/devcluster" version >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
mv "$TMP/bin" "$BIN"
cat > "$OUT/versions.txt" <<VERSIONS
key=$key
kubernetes=$KUBE_VERSION
kwok=$KWOK_VERSION
helm=$HELM_VERSION
go=$("$GO" env GOVERSION)
built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start))s
VERSIONS
# Drop builds for other inputs not rebuilt for two weeks (250 MB each).
find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name "$key" ! -name '.*' -mtime +14 \
  -exec rm -rf {} + 2>/dev/null || true
log "built in $((SECONDS - start))s: $BIN"
echo "$BIN"
