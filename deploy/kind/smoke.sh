#!/usr/bin/env bash
# End-to-end smoke test of a real cluster (kind or k3s with an ingress
# controller and Urumi deployed). Not run in CI: it needs container images,
# DNS for <id>.<base_domain> and the internet (WooCommerce comes from wordpress.org).
#
#   URUMI_API=http://127.0.0.1:8080 URUMI_TOKEN=... deploy/kind/smoke.sh [--engine medusa]
#
# Creates a store through the API, waits for `ready`, places an order as a
# shopper and confirms it as admin, deletes the store and checks its namespace
# is gone. Prints how long each stage took. Needs curl, jq and kubectl.
#   woocommerce (default): a Cash-on-Delivery order through the WooCommerce
#     Store API, confirmed through the WooCommerce REST API.
#   medusa: cart → line item → addresses → shipping method → payment session
#     (system provider) → complete, through the Medusa Store API; the order is
#     then read back through the admin API. Needs the Medusa image that
#     deploy/kind/up.sh builds and loads (its MEDUSA_IMAGE).
set -euo pipefail

ENGINE="${STORE_ENGINE:-woocommerce}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --engine) ENGINE="${2:?--engine needs a value}"; shift 2 ;;
    --engine=*) ENGINE="${1#--engine=}"; shift ;;
    *) echo "usage: $0 [--engine woocommerce|medusa]" >&2; exit 2 ;;
  esac
done
[[ "$ENGINE" == woocommerce || "$ENGINE" == medusa ]] || { echo "smoke: unknown engine $ENGINE" >&2; exit 2; }

API="${URUMI_API:-http://127.0.0.1:8080}"
TOKEN="${URUMI_TOKEN:?set URUMI_TOKEN to a tenant or admin bearer token}"
STORE="${STORE_ID:-smoke-$(date +%s)}"
PLAN="${STORE_PLAN:-small}"
READY_TIMEOUT="${READY_TIMEOUT:-900}"
DELETE_TIMEOUT="${DELETE_TIMEOUT:-300}"
KUBECTL="${KUBECTL:-kubectl}"

for tool in curl jq "$KUBECTL"; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool not found" >&2; exit 2; }
done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
JAR="$WORK/cookies"

T0=$SECONDS
STAGE_START=$SECONDS
stage() { printf 'smoke: %-34s %4ds\n' "$1" "$((SECONDS - STAGE_START))"; STAGE_START=$SECONDS; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

api() {  # api METHOD PATH [JSON]
  local args=(-sS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json')
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data "$3")
  curl "${args[@]}" -w '\n%{http_code}' "$API$2"
}
body() { sed '$d' <<<"$1"; }
code() { tail -n1 <<<"$1"; }

# -- 1. create ---------------------------------------------------------------
resp="$(api POST /api/v1/stores "{\"id\":\"$STORE\",\"engine\":\"$ENGINE\",\"plan\":\"$PLAN\",\"display_name\":\"Smoke $STORE\"}")"
[[ "$(code "$resp")" =~ ^20[01]$ ]] || fail "create: HTTP $(code "$resp"): $(body "$resp")"
stage "create accepted ($STORE, $ENGINE)"

# -- 2. wait for ready ---------------------------------------------------------
deadline=$((SECONDS + READY_TIMEOUT))
phase=""
while (( SECONDS < deadline )); do
  view="$(body "$(api GET "/api/v1/stores/$STORE")")"
  phase="$(jq -r '.phase // empty' <<<"$view")"
  [[ "$phase" == ready ]] && break
  [[ "$phase" == failed ]] && fail "store failed: $(jq -r '.reason + ": " + .message' <<<"$view")"
  sleep 5
done
[[ "$phase" == ready ]] || fail "not ready after ${READY_TIMEOUT}s (phase $phase)"
URL="$(jq -r '.url // empty' <<<"$view")"
[[ -n "$URL" ]] || fail "ready store has no url"
stage "ready at $URL"

# -- 3+4 (Medusa). order through the Store API, confirm through the admin API -----
medusa_order() {
  local creds admin password token key regions region country variant cart
  local options option collection done_ order confirmed
  creds="$(body "$(api GET "/api/v1/stores/$STORE/credentials")")"
  admin="$(jq -r .username <<<"$creds")"
  password="$(jq -r .password <<<"$creds")"
  [[ -n "$admin" && "$admin" != null ]] || fail "no credentials: $creds"
  # The admin API with a bearer token: works over plain HTTP (the dashboard's
  # session cookie is Secure in production and needs TLS).
  token="$(curl -sSf -H 'Content-Type: application/json' \
    --data "$(jq -n --arg e "$admin" --arg p "$password" '{email: $e, password: $p}')" \
    "$URL/auth/user/emailpass" | jq -r '.token // empty')"
  [[ -n "$token" ]] || fail "admin login to $URL/auth/user/emailpass returned no token"
  admin_api() { curl -sSf -H "Authorization: Bearer $token" "$URL/admin$1"; }
  # Every Store API call names a publishable key (the seed created one).
  key="$(admin_api '/api-keys?type=publishable&limit=1' | jq -r '.api_keys[0].token // empty')"
  [[ -n "$key" ]] || fail "the store has no publishable API key"
  store_get() { curl -sSf -H "x-publishable-api-key: $key" "$URL/store$1"; }
  store_post() {  # store_post PATH JSON
    curl -sSf -X POST -H "x-publishable-api-key: $key" -H 'Content-Type: application/json' \
      --data "$2" "$URL/store$1"
  }
  stage "admin login, publishable key"

  regions="$(store_get /regions)"
  region="$(jq -r '.regions[0].id // empty' <<<"$regions")"
  country="$(jq -r '.regions[0].countries[0].iso_2 // empty' <<<"$regions")"
  [[ -n "$region" && -n "$country" ]] || fail "the store has no region with a country: $regions"
  variant="$(store_get "/products?region_id=$region&limit=1" | jq -r '.products[0].variants[0].id // empty')"
  [[ -n "$variant" ]] || fail "the store lists no products"
  cart="$(store_post /carts "{\"region_id\":\"$region\",\"email\":\"smoke@example.com\"}" | jq -r .cart.id)"
  store_post "/carts/$cart/line-items" "{\"variant_id\":\"$variant\",\"quantity\":1}" >/dev/null
  local address="{\"first_name\":\"Smoke\",\"last_name\":\"Test\",\"address_1\":\"1 Test Street\",\"city\":\"Berlin\",\"postal_code\":\"10115\",\"country_code\":\"$country\",\"phone\":\"5550100\"}"
  store_post "/carts/$cart" "{\"shipping_address\":$address,\"billing_address\":$address}" >/dev/null
  options="$(store_get "/shipping-options?cart_id=$cart")"
  option="$(jq -r '.shipping_options[0].id // empty' <<<"$options")"
  [[ -n "$option" ]] || fail "no shipping option for cart $cart: $options"
  store_post "/carts/$cart/shipping-methods" "{\"option_id\":\"$option\"}" >/dev/null
  collection="$(store_post /payment-collections "{\"cart_id\":\"$cart\"}" | jq -r .payment_collection.id)"
  store_post "/payment-collections/$collection/payment-sessions" '{"provider_id":"pp_system_default"}' >/dev/null
  done_="$(store_post "/carts/$cart/complete" '{}')"
  [[ "$(jq -r .type <<<"$done_")" == order ]] || fail "checkout returned no order: $done_"
  order="$(jq -r .order.id <<<"$done_")"
  stage "order $order placed (cart $cart)"

  # `email` is not among the admin API's default order fields.
  confirmed="$(admin_api "/orders/$order?fields=%2Bemail")"
  [[ "$(jq -r .order.id <<<"$confirmed")" == "$order" ]] || fail "order not found as admin: $confirmed"
  [[ "$(jq -r .order.email <<<"$confirmed")" == smoke@example.com ]] || fail "wrong order as admin: $confirmed"
  stage "order confirmed as admin ($(jq -r .order.status <<<"$confirmed"))"
}

if [[ "$ENGINE" == medusa ]]; then
  medusa_order
else
# -- 3. order through the Store API (as a shopper) --------------------------------
products="$(curl -sSf "$URL/wp-json/wc/store/v1/products")"
PRODUCT="$(jq -r '.[0].id // empty' <<<"$products")"
[[ -n "$PRODUCT" ]] || fail "the store lists no products"
curl -sSf -D "$WORK/cart.h" -o /dev/null "$URL/wp-json/wc/store/v1/cart"
CART_TOKEN="$(awk -F': ' 'tolower($1)=="cart-token"{print $2}' "$WORK/cart.h" | tr -d '\r')"
NONCE="$(awk -F': ' 'tolower($1)=="nonce"{print $2}' "$WORK/cart.h" | tr -d '\r')"
store_api() {  # store_api PATH JSON
  curl -sSf -X POST -H 'Content-Type: application/json' \
    -H "Cart-Token: $CART_TOKEN" -H "Nonce: $NONCE" --data "$2" "$URL/wp-json/wc/store/v1$1"
}
store_api /cart/add-item "{\"id\":$PRODUCT,\"quantity\":1}" >/dev/null
address='{"first_name":"Smoke","last_name":"Test","address_1":"1 Test Street","city":"San Francisco","state":"CA","postcode":"94103","country":"US","email":"smoke@example.com","phone":"5550100"}'
order="$(store_api /checkout "{\"billing_address\":$address,\"shipping_address\":$(jq 'del(.email)' <<<"$address"),\"payment_method\":\"cod\"}")"
ORDER_ID="$(jq -r '.order_id // empty' <<<"$order")"
[[ -n "$ORDER_ID" ]] || fail "checkout returned no order: $order"
stage "order $ORDER_ID placed (COD)"

# -- 4. confirm through the REST API (as admin) ----------------------------------
creds="$(body "$(api GET "/api/v1/stores/$STORE/credentials")")"
ADMIN="$(jq -r .username <<<"$creds")"
PASSWORD="$(jq -r .password <<<"$creds")"
[[ -n "$ADMIN" && "$ADMIN" != null ]] || fail "no credentials: $creds"
# Cookie login plus a REST nonce: works over plain HTTP, unlike application
# passwords or consumer keys.
curl -sS -o /dev/null -c "$JAR" --data-urlencode "log=$ADMIN" \
  --data-urlencode "pwd=$PASSWORD" -d 'testcookie=1' -b 'wordpress_test_cookie=WP+Cookie+check' \
  "$URL/wp-login.php"
REST_NONCE="$(curl -sSf -b "$JAR" "$URL/wp-admin/admin-ajax.php?action=rest-nonce")"
confirmed="$(curl -sSf -b "$JAR" -H "X-WP-Nonce: $REST_NONCE" "$URL/wp-json/wc/v3/orders/$ORDER_ID")"
[[ "$(jq -r .payment_method <<<"$confirmed")" == cod ]] || fail "order not found as admin: $confirmed"
stage "order confirmed as admin ($(jq -r .status <<<"$confirmed"))"
fi

# -- 5. delete and confirm the namespace is gone ----------------------------------
resp="$(api DELETE "/api/v1/stores/$STORE")"
[[ "$(code "$resp")" == 202 ]] || fail "delete: HTTP $(code "$resp"): $(body "$resp")"
deadline=$((SECONDS + DELETE_TIMEOUT))
while "$KUBECTL" get namespace "store-$STORE" >/dev/null 2>&1; do
  (( SECONDS < deadline )) || fail "namespace store-$STORE still exists after ${DELETE_TIMEOUT}s"
  sleep 3
done
stage "deleted, namespace gone"

printf 'smoke: %-34s %4ds\n' "total" "$((SECONDS - T0))"
