#!/usr/bin/env bash
# Urumi on kind: a cluster with ingress-nginx, the image built and loaded, the
# platform chart installed with values-local.yaml, then the URLs.
#
#   deploy/kind/up.sh                 # idempotent: re-run to rebuild and upgrade
#   CLUSTER=urumi IMAGE=urumi:dev NAMESPACE=urumi RELEASE=urumi deploy/kind/up.sh
#
# Needs docker, kind, kubectl and helm (or Go: the devcluster build makes a helm).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLUSTER="${CLUSTER:-urumi}"
IMAGE="${IMAGE:-urumi:dev}"
NAMESPACE="${NAMESPACE:-urumi}"
RELEASE="${RELEASE:-urumi}"
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-controller-v1.12.1}"
TIMEOUT="${TIMEOUT:-600s}"
CONTEXT="kind-$CLUSTER"

log() { printf 'up: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "$1 not found"; exit 2; }; }
need docker; need kind; need kubectl
HELM="${HELM:-$(command -v helm || true)}"
if [[ -z "$HELM" ]]; then
  log "helm not on PATH; building it beside the devcluster (needs Go)"
  HELM="$(bash "$ROOT/deploy/devcluster/build.sh" | tail -n1)/helm"
fi
k() { kubectl --context "$CONTEXT" "$@"; }

# -- 1. cluster --------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "cluster $CLUSTER exists"
else
  log "creating kind cluster $CLUSTER"
  kind create cluster --name "$CLUSTER" --config "$HERE/kind-config.yaml" --wait 120s
fi

# -- 2. ingress-nginx (kind flavour: hostPorts on the ingress-ready node) ------
log "installing ingress-nginx $INGRESS_NGINX_VERSION"
k apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml"
# Its admission webhook rejects Ingresses until the controller is ready.
k -n ingress-nginx wait --for=condition=ready pod \
  --selector=app.kubernetes.io/component=controller --timeout="$TIMEOUT"

# -- 3. image -----------------------------------------------------------------
log "building $IMAGE"
docker build -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT"
log "loading $IMAGE into $CLUSTER"
kind load docker-image "$IMAGE" --name "$CLUSTER"

# -- 4. the platform ------------------------------------------------------------
log "installing release $RELEASE in namespace $NAMESPACE"
"$HELM" upgrade --install "$RELEASE" "$ROOT/charts/platform" \
  --kube-context "$CONTEXT" --namespace "$NAMESPACE" --create-namespace \
  --values "$ROOT/charts/platform/values-local.yaml" \
  --set "image.repository=${IMAGE%:*}" --set "image.tag=${IMAGE##*:}" \
  --wait --timeout "$TIMEOUT"

# A new image under the same tag: restart so the pods run it.
k -n "$NAMESPACE" rollout restart deployment -l "app.kubernetes.io/instance=$RELEASE"
k -n "$NAMESPACE" rollout status deployment -l "app.kubernetes.io/instance=$RELEASE" \
  --timeout="$TIMEOUT"

# -- 5. where to go ---------------------------------------------------------------
HOST="$(k -n "$NAMESPACE" get ingress "$RELEASE" -o jsonpath='{.spec.rules[0].host}')"
TOKEN="$(k -n "$NAMESPACE" get secret "$RELEASE-secrets" -o jsonpath='{.data.admin-token}' | base64 -d)"
cat <<MSG

Urumi is up on kind ($CONTEXT).

  Dashboard   http://$HOST/
  API         http://$HOST/api/v1/stores
  OpenAPI     http://$HOST/schema
  Stores      http://<store-id>.127.0.0.1.nip.io
  Admin token $TOKEN

  Create a tenant:  curl -H "Authorization: Bearer $TOKEN" -d '{"id":"acme"}' http://$HOST/api/v1/tenants
  Smoke test:       URUMI_API=http://$HOST URUMI_TOKEN=<tenant token> deploy/kind/smoke.sh
  Tear down:        deploy/kind/down.sh
MSG
