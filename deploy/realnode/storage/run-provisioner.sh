#!/bin/sh
# Runs local-path-provisioner as a host process for the real node.
# Usage: run-provisioner.sh BINARY KUBECONFIG VOLUME_DIR STATE_DIR
#   BINARY      built by build-provisioner.sh
#   KUBECONFIG  client cert CN=urumi:local-path-provisioner (RBAC in manifests.yaml,
#               which must be applied first)
#   VOLUME_DIR  absolute host dir; volumes are VOLUME_DIR/pvc-<uid>_<ns>_<claim>
#   STATE_DIR   where the rendered config.json and helper-pod.yaml go
# Env: NODE_NAME (urumi-node-0), HEALTH_PORT (0 = any free port; the patched
# build listens on 127.0.0.1 only), LPP_DEBUG=1 for debug logs.
# Runs in the foreground (exec); SIGTERM/SIGINT stop it.
set -eu
[ $# -eq 4 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
BIN=$1 KCFG=$2 VOLUME_DIR=$3 STATE_DIR=$4
HERE=$(cd "$(dirname "$0")" && pwd)
NODE_NAME=${NODE_NAME:-urumi-node-0}
case "$VOLUME_DIR" in /?*) ;; *) echo "VOLUME_DIR must be absolute and not /: $VOLUME_DIR" >&2; exit 2;; esac
mkdir -p "$STATE_DIR" "$VOLUME_DIR"
# The file name must end in .json: otherwise --config's VALUE is parsed as JSON.
sed -e "s|@NODE_NAME@|$NODE_NAME|g" -e "s|@VOLUME_DIR@|$VOLUME_DIR|g" \
  "$HERE/config.json.in" > "$STATE_DIR/config.json.tmp"
mv "$STATE_DIR/config.json.tmp" "$STATE_DIR/config.json"
cp "$HERE/helper-pod.yaml" "$STATE_DIR/helper-pod.yaml"
DEBUG=
[ "${LPP_DEBUG:-}" = 1 ] && DEBUG=--debug
exec "$BIN" $DEBUG start \
  --kubeconfig "$KCFG" \
  --config "$STATE_DIR/config.json" \
  --helper-pod-file "$STATE_DIR/helper-pod.yaml" \
  --provisioner-name urumi.dev/local-path \
  --namespace urumi-system \
  --configmap-name urumi-local-path \
  --service-account-name local-path-helper \
  --helper-image docker.io/urumi/busybox:1.0 \
  --health-port "${HEALTH_PORT:-0}"
