#!/usr/bin/env bash
# Urumi on kind: a cluster with ingress-nginx, the platform and Medusa images
# built and loaded, the platform chart installed with values-local.yaml, then
# the URLs.
#
#   deploy/kind/up.sh                 # idempotent: re-run to rebuild and upgrade
#   CLUSTER=urumi IMAGE=urumi:dev NAMESPACE=urumi RELEASE=urumi deploy/kind/up.sh
#   MEDUSA_IMAGE=registry.example.com/urumi-medusa:2.21.2 MEDUSA_BUILD=false deploy/kind/up.sh
#
# MEDUSA_IMAGE (repository:tag) is what every Medusa store runs; it is built
# from deploy/medusa and loaded unless MEDUSA_BUILD=false (then the nodes pull
# it). See deploy/kind/README.md.
#
# Needs docker, kind, kubectl and helm (or Go: the devcluster build makes a helm).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLUSTER="${CLUSTER:-urumi}"
IMAGE="${IMAGE:-urumi:dev}"
# The default is charts/medusa's own images.medusa (a unit test keeps them equal).
MEDUSA_IMAGE="${MEDUSA_IMAGE:-urumi-medusa:2.21.2}"
MEDUSA_BUILD="${MEDUSA_BUILD:-true}"
NAMESPACE="${NAMESPACE:-urumi}"
RELEASE="${RELEASE:-urumi}"
INGRESS_NGINX_VERSION="${INGRESS_NGINX_VERSION:-controller-v1.12.1}"
TIMEOUT="${TIMEOUT:-600s}"
CONTEXT="kind-$CLUSTER"

log() { printf 'up: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null || { log "$1 not found"; exit 2; }; }
# repository:tag, split at the last colon: a tag never holds a "/", a
# registry's port is followed by one.
tagged() { [[ "$1" == *:* && "${1##*:}" != */* ]] || { log "$2 must be repository:tag, not $1"; exit 2; }; }
tagged "$IMAGE" IMAGE; tagged "$MEDUSA_IMAGE" MEDUSA_IMAGE
[[ "$MEDUSA_BUILD" == true || "$MEDUSA_BUILD" == false ]] || { log "MEDUSA_BUILD must be true or false"; exit 2; }
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
# Its admission webhook rejects Ingresses until the controller is ready. The
# Deployment exists as soon as apply returns, its pod may not yet: `wait pod
# --selector` would fail on "no matching resources found".
k -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout="$TIMEOUT"

# -- 3. images ----------------------------------------------------------------
log "building $IMAGE"
docker build -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT"
log "loading $IMAGE into $CLUSTER"
kind load docker-image "$IMAGE" --name "$CLUSTER"
# Medusa has no official image: without this every Medusa store would sit in
# ImagePullBackOff (charts/medusa pulls IfNotPresent, so a loaded one is used).
if [[ "$MEDUSA_BUILD" == true ]]; then
  log "building $MEDUSA_IMAGE (npm ci and medusa build: minutes the first time)"
  docker build -t "$MEDUSA_IMAGE" "$ROOT/deploy/medusa"
  log "loading $MEDUSA_IMAGE into $CLUSTER"
  kind load docker-image "$MEDUSA_IMAGE" --name "$CLUSTER"
else
  log "not building $MEDUSA_IMAGE: the nodes pull it"
fi

# -- 4. the platform ------------------------------------------------------------
log "installing release $RELEASE in namespace $NAMESPACE"
"$HELM" upgrade --install "$RELEASE" "$ROOT/charts/platform" \
  --kube-context "$CONTEXT" --namespace "$NAMESPACE" --create-namespace \
  --values "$ROOT/charts/platform/values-local.yaml" \
  --set "image.repository=${IMAGE%:*}" --set-string "image.tag=${IMAGE##*:}" \
  --set "stores.engineValues.medusa.images.medusa.repository=${MEDUSA_IMAGE%:*}" \
  --set-string "stores.engineValues.medusa.images.medusa.tag=${MEDUSA_IMAGE##*:}" \
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
  Medusa      $MEDUSA_IMAGE
  Admin token $TOKEN

  Create a tenant:  curl -H "Authorization: Bearer $TOKEN" -d '{"id":"acme"}' http://$HOST/api/v1/tenants
  Smoke test:       URUMI_API=http://$HOST URUMI_TOKEN=<tenant token> deploy/kind/smoke.sh [--engine medusa]
  Tear down:        deploy/kind/down.sh
MSG
