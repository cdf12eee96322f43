#!/usr/bin/env bash
# Delete the kind cluster made by up.sh (stores, volumes and all).
#   CLUSTER=urumi deploy/kind/down.sh
set -euo pipefail
CLUSTER="${CLUSTER:-urumi}"
command -v kind >/dev/null || { echo "down: kind not found" >&2; exit 2; }
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind delete cluster --name "$CLUSTER"
else
  echo "down: no kind cluster named $CLUSTER" >&2
fi
