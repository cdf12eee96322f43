#!/usr/bin/env bash
# Checks the images build.sh makes, the way the chart runs them, in a throwaway
# containerd (own root, state and socket under a temp dir; no CRI, no kubelet):
# import under the exact refs, then run each image with a read-only root
# filesystem and only the chart's writable mounts, on the host network bound to
# 127.0.0.1, and place a Medusa order through the Store API
# (deploy/kind/smoke.sh's calls). Everything it starts it stops and removes.
#
#   deploy/realnode/images/verify.sh        (root; builds the images first, cached)
#
# Ports on 127.0.0.1: postgres 5442, redis 6390, medusa 9100 (server) and 9101
# (worker); override with VERIFY_PG_PORT, VERIFY_REDIS_PORT, VERIFY_HTTP_PORT.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PG_PORT="${VERIFY_PG_PORT:-5442}"
REDIS_PORT="${VERIFY_REDIS_PORT:-6390}"
HTTP_PORT="${VERIFY_HTTP_PORT:-9100}"
URL="http://127.0.0.1:$HTTP_PORT"
PG_PASSWORD=verify-pg-pass
REDIS_PASSWORD=verify-redis-pass
ADMIN_EMAIL=admin@example.com
ADMIN_PASSWORD=-verify-Adm1n   # leading "-", like a generated one may have
declare -A REF

log() { printf 'verify.sh: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

WORK="$(mktemp -d /tmp/urumi-images-verify.XXXXXX)"
SOCK="$WORK/containerd.sock"
CTR=(ctr -a "$SOCK" -n k8s.io)
CONTAINERD_PID=

cleanup() {
  local id
  if [[ -n "$CONTAINERD_PID" ]]; then
    for id in $("${CTR[@]}" containers ls -q 2>/dev/null); do
      "${CTR[@]}" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 1
    for id in $("${CTR[@]}" containers ls -q 2>/dev/null); do
      "${CTR[@]}" task rm -f "$id" >/dev/null 2>&1 || true
      "${CTR[@]}" containers rm "$id" >/dev/null 2>&1 || true
    done
    kill "$CONTAINERD_PID" 2>/dev/null || true
    wait "$CONTAINERD_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_containerd() {
  containerd config default | sed \
    -e 's#^disabled_plugins = \[\]#disabled_plugins = ["io.containerd.grpc.v1.cri"]#' \
    -e "s#^root = .*#root = \"$WORK/root\"#" -e "s#^state = .*#state = \"$WORK/state\"#" \
    -e "s#^  address = \"/run/containerd/containerd.sock\"#  address = \"$SOCK\"#" >"$WORK/config.toml"
  grep -q "$SOCK" "$WORK/config.toml" || fail "could not point the containerd config at $SOCK"
  containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
  CONTAINERD_PID=$!
  local _
  for _ in $(seq 50); do "${CTR[@]}" version >/dev/null 2>&1 && return; sleep 0.2; done
  fail "containerd did not start: $(tail -5 "$WORK/containerd.log")"
}

import_images() {
  local ref tar name
  while read -r ref tar; do
    "${CTR[@]}" images import "$tar" >&2
    "${CTR[@]}" images ls -q | grep -qxF "$ref" || fail "$tar did not import as $ref"
    name="${ref##*/}"; REF[${name%%:*}]="$ref"
  done < <("$HERE/build.sh")
  log "imported: ${REF[*]}"
}

# dir NAME UID: a writable directory for a mount, owned like the chart's fsGroup.
dir() { install -d -o "$2" -g "$2" "$WORK/vol/$1"; echo "$WORK/vol/$1"; }
mnt() { echo "--mount=type=bind,src=$1,dst=$2,options=rbind:rw"; }
wait_for() {  # wait_for SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what not ready after ${deadline}s"
    sleep 1
  done
}

check_pause() {
  "${CTR[@]}" run -d "${REF[pause]}" pause >/dev/null
  sleep 1
  "${CTR[@]}" task kill -s SIGTERM pause
  wait_for 10 "pause stopping on SIGTERM" sh -c "${CTR[*]} task ls | grep -E '^pause +[0-9]+ +STOPPED'"
  log "ok: pause runs and stops on SIGTERM"
}

check_busybox() {
  [[ -n "${REF[busybox]:-}" ]] || return 0
  "${CTR[@]}" run --rm "${REF[busybox]}" busybox sh -c 'mkdir -p /tmp/v && chmod 0777 /tmp/v && rm -r /tmp/v' \
    || fail "busybox: mkdir/chmod/rm"
  log "ok: busybox sh, mkdir, chmod, rm"
}

start_redis() {
  # The chart's command, with the port and address changed.
  "${CTR[@]}" run -d --read-only --net-host --env "REDIS_PASSWORD=$REDIS_PASSWORD" \
    --env "REDISCLI_AUTH=$REDIS_PASSWORD" "$(mnt "$(dir redis 999)" /data)" \
    --log-uri "file://$WORK/redis.log" "${REF[redis]}" redis /bin/sh -c \
    "exec redis-server - --save '' --appendonly no --dir /data --bind 127.0.0.1 --port $REDIS_PORT <<EOF
requirepass \$REDIS_PASSWORD
EOF" >/dev/null
  wait_for 20 redis "${CTR[@]}" task exec --exec-id ping redis /bin/sh -c "redis-cli -p $REDIS_PORT ping | grep -q PONG"
  "${CTR[@]}" task exec --exec-id noauth redis /bin/sh -c "env -u REDISCLI_AUTH redis-cli -p $REDIS_PORT ping" \
    | grep -q NOAUTH || fail "redis answers without its password"
  log "ok: redis (read-only root, password required)"
}

start_postgres() {
  local data
  data="$(dir pgdata 0)"; chgrp 999 "$data"; chmod 2775 "$data"   # fsGroup 999
  "${CTR[@]}" run -d --read-only --net-host --log-uri "file://$WORK/postgres.log" \
    --env "POSTGRES_PASSWORD=$PG_PASSWORD" --env POSTGRES_USER=medusa --env POSTGRES_DB=medusa \
    --env PGDATA=/var/lib/postgresql/data/pgdata \
    "$(mnt "$data" /var/lib/postgresql/data)" "$(mnt "$(dir pgrun 999)" /var/run/postgresql)" \
    "$(mnt "$(dir pgtmp 999)" /tmp)" \
    "${REF[postgres]}" postgres docker-entrypoint.sh postgres -c listen_addresses=127.0.0.1 -c "port=$PG_PORT" >/dev/null
  wait_for 60 postgres "${CTR[@]}" task exec --exec-id ready postgres \
    pg_isready -h 127.0.0.1 -p "$PG_PORT" -U medusa -d medusa
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U medusa -d medusa -tAc 'select current_database()')
  "${CTR[@]}" task exec --exec-id good postgres env "PGPASSWORD=$PG_PASSWORD" "${psql[@]}" | grep -qx medusa \
    || fail "postgres: no database medusa over TCP with the password"
  if "${CTR[@]}" task exec --exec-id bad postgres env PGPASSWORD=wrong "${psql[@]}" >/dev/null 2>&1; then
    fail "postgres accepts a wrong password over TCP"
  fi
  log "ok: postgres (initdb on an empty PGDATA, database medusa, scram-sha-256 over TCP)"
}

medusa() {  # medusa NAME MODE [-d] COMMAND...: the chart's environment and mounts
  local name=$1 mode=$2 opts=(--rm) port=$HTTP_PORT; shift 2
  if [[ "$1" == -d ]]; then opts=(-d --log-uri "file://$WORK/$name.log"); shift; fi
  [[ "$mode" == server ]] || port=$((HTTP_PORT + 1))
  "${CTR[@]}" run "${opts[@]}" --read-only --net-host \
    "$(mnt "$(dir "tmp-$name" 1000)" /tmp)" "$(mnt "$(dir static 1000)" /app/static)" \
    --env "DATABASE_URL=postgres://medusa:$PG_PASSWORD@127.0.0.1:$PG_PORT/medusa?sslmode=disable" \
    --env "REDIS_URL=redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT" \
    --env JWT_SECRET=verify-jwt --env COOKIE_SECRET=verify-cookie \
    --env "STORE_CORS=$URL" --env "ADMIN_CORS=$URL" --env "AUTH_CORS=$URL" \
    --env "MEDUSA_WORKER_MODE=$mode" --env "DISABLE_MEDUSA_ADMIN=$([[ $mode == server ]] && echo false || echo true)" \
    --env "PORT=$port" "${REF[urumi-medusa]}" "$name" "$@"
}

setup_medusa() {  # what the chart's setup Job runs
  medusa migrate worker npx --no medusa db:migrate >"$WORK/migrate.log" 2>&1 \
    || fail "medusa db:migrate: $(grep -m3 '"error"' "$WORK/migrate.log")"
  medusa seed worker npx --no medusa exec ./src/scripts/seed.js >"$WORK/seed.log" 2>&1 \
    || fail "seed: $(tail -5 "$WORK/seed.log")"
  grep -q 'seed: done' "$WORK/seed.log" || fail "seed did not finish"
  medusa user worker npx --no medusa user --email="$ADMIN_EMAIL" --password="$ADMIN_PASSWORD" >"$WORK/user.log" 2>&1 \
    || fail "medusa user: $(tail -3 "$WORK/user.log")"
  log "ok: medusa db:migrate, seed, user (read-only /app)"
  medusa server server -d npx --no medusa start >/dev/null
  medusa worker worker -d npx --no medusa start >/dev/null
  wait_for 180 "medusa server" curl -sf "$URL/health"
  wait_for 120 "medusa worker" curl -sf "http://127.0.0.1:$((HTTP_PORT + 1))/health"
  log "ok: medusa server and worker /health"
}

# The calls of deploy/kind/smoke.sh's medusa_order.
place_order() {
  local token key region country variant cart address option collection done_ order
  token="$(curl -sSf -H 'Content-Type: application/json' \
    --data "$(jq -n --arg e "$ADMIN_EMAIL" --arg p "$ADMIN_PASSWORD" '{email: $e, password: $p}')" \
    "$URL/auth/user/emailpass" | jq -r '.token // empty')"
  [[ -n "$token" ]] || fail "admin login returned no token"
  admin_api() { curl -sSf -H "Authorization: Bearer $token" "$URL/admin$1"; }
  key="$(admin_api '/api-keys?type=publishable&limit=1' | jq -r '.api_keys[0].token // empty')"
  [[ -n "$key" ]] || fail "no publishable API key"
  store_get() { curl -sSf -H "x-publishable-api-key: $key" "$URL/store$1"; }
  store_post() { curl -sSf -X POST -H "x-publishable-api-key: $key" -H 'Content-Type: application/json' --data "$2" "$URL/store$1"; }
  region="$(store_get /regions | jq -r '.regions[0].id // empty')"
  country="$(store_get /regions | jq -r '.regions[0].countries[0].iso_2 // empty')"
  variant="$(store_get "/products?region_id=$region&limit=1" | jq -r '.products[0].variants[0].id // empty')"
  [[ -n "$region" && -n "$country" && -n "$variant" ]] || fail "no region, country or product"
  cart="$(store_post /carts "{\"region_id\":\"$region\",\"email\":\"verify@example.com\"}" | jq -r .cart.id)"
  store_post "/carts/$cart/line-items" "{\"variant_id\":\"$variant\",\"quantity\":1}" >/dev/null
  address="{\"first_name\":\"Verify\",\"last_name\":\"Test\",\"address_1\":\"1 Test Street\",\"city\":\"Berlin\",\"postal_code\":\"10115\",\"country_code\":\"$country\",\"phone\":\"5550100\"}"
  store_post "/carts/$cart" "{\"shipping_address\":$address,\"billing_address\":$address}" >/dev/null
  option="$(store_get "/shipping-options?cart_id=$cart" | jq -r '.shipping_options[0].id // empty')"
  [[ -n "$option" ]] || fail "no shipping option for the cart"
  store_post "/carts/$cart/shipping-methods" "{\"option_id\":\"$option\"}" >/dev/null
  collection="$(store_post /payment-collections "{\"cart_id\":\"$cart\"}" | jq -r .payment_collection.id)"
  store_post "/payment-collections/$collection/payment-sessions" '{"provider_id":"pp_system_default"}' >/dev/null
  done_="$(store_post "/carts/$cart/complete" '{}')"
  [[ "$(jq -r .type <<<"$done_")" == order ]] || fail "checkout returned no order: $done_"
  order="$(jq -r .order.id <<<"$done_")"
  # Medusa 2.21's admin order has no email unless asked for.
  [[ "$(admin_api "/orders/$order?fields=%2Bemail" | jq -r .order.email)" == verify@example.com ]] \
    || fail "order $order not found as admin"
  log "ok: order $order placed through the Store API and found as admin"
}

main() {
  [[ "$(id -u)" == 0 ]] || fail "run as root (containerd, runc)"
  local tool
  for tool in containerd ctr curl jq; do command -v "$tool" >/dev/null || fail "$tool not found"; done
  start_containerd
  import_images
  check_pause
  check_busybox
  start_redis
  start_postgres
  setup_medusa
  place_order
  log "all images verified"
}

main "$@"
