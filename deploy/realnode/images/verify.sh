#!/usr/bin/env bash
# Checks the images build.sh makes, the way the charts run them, in a throwaway
# containerd (own root, state and socket under a temp dir; no CRI, no kubelet):
# import under the exact refs, then run each image with a read-only root
# filesystem and only the chart's writable mounts.
#   medusa: on the host network bound to 127.0.0.1, place a Medusa order
#     through the Store API (deploy/kind/smoke.sh's calls).
#   woocommerce: mariadb and wordpress as charts/woocommerce runs them (their
#     uids, no capabilities, the default seccomp profile) in a network
#     namespace of their own with only a loopback and the pod sysctl
#     net.ipv4.ip_unprivileged_port_start=0 (Apache binds port 80 as uid 33):
#     mariadb initialises, its healthcheck.sh probes pass, its user logs in over
#     TCP (a wrong password does not) and a restart keeps the data; wordpress
#     copies itself into the empty web root, writes wp-config.php, serves its
#     installer, installs the site into mariadb and serves the front page.
# Everything it starts it stops and removes.
#
#   deploy/realnode/images/verify.sh [medusa|woocommerce]...   (root; none: both;
#                                         builds the images it needs first, cached)
#
# medusa's ports on 127.0.0.1: postgres 5442, redis 6390, medusa 9100 (server)
# and 9101 (worker); override with VERIFY_PG_PORT, VERIFY_REDIS_PORT,
# VERIFY_HTTP_PORT. woocommerce uses 3306 and 80 inside its own namespace.
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
DB_ROOT_PASSWORD="verify-root-'pass"   # a quote, as a generated one may have
DB_PASSWORD="verify-wp-pass\\"   # and a backslash
declare -A REF

log() { printf 'verify.sh: %s\n' "$*" >&2; }
SHOW_LOG=   # a container log whose end a failure shows
fail() {
  log "FAIL: $*"
  if [[ -n "$SHOW_LOG" && -f "$SHOW_LOG" ]]; then log "end of $SHOW_LOG:"; tail -n 25 "$SHOW_LOG" >&2; fi
  exit 1
}

WORK="$(mktemp -d /tmp/urumi-images-verify.XXXXXX)"
SOCK="$WORK/containerd.sock"
CTR=(ctr -a "$SOCK" -n k8s.io)
CONTAINERD_PID=
NETNS=
# What the charts' `capabilities: {drop: [ALL]}` drops: containerd's defaults.
NO_CAPS=()
for cap in CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP \
  NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE; do NO_CAPS+=(--cap-drop "CAP_$cap"); done

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
  if [[ -n "$NETNS" ]]; then ip netns delete "$NETNS" 2>/dev/null || true; fi
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

import_images() {  # import_images IMAGE...
  local ref tar name
  while read -r ref tar; do
    "${CTR[@]}" images import "$tar" >&2
    "${CTR[@]}" images ls -q | grep -qxF "$ref" || fail "$tar did not import as $ref"
    name="${ref##*/}"; REF[${name%%:*}]="$ref"
  done < <("$HERE/build.sh" "$@")
  log "imported: ${REF[*]}"
}

# dir NAME UID: a writable directory for a mount, owned like the chart's fsGroup.
dir() { install -d -o "$2" -g "$2" "$WORK/vol/$1"; echo "$WORK/vol/$1"; }
# fsdir NAME GID: a volume as the kubelet hands it to a pod with fsGroup GID.
fsdir() { install -d -o 0 -g "$2" -m 2775 "$WORK/vol/$1"; echo "$WORK/vol/$1"; }
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
  medusa admin worker env "ADMIN_EMAIL=$ADMIN_EMAIL" "ADMIN_PASSWORD=$ADMIN_PASSWORD" RESTORED=false \
    npx --no medusa exec ./src/scripts/admin.js >"$WORK/admin.log" 2>&1 \
    || fail "admin script: $(tail -3 "$WORK/admin.log")"
  log "ok: medusa db:migrate, seed, admin (read-only /app)"
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

# ---- woocommerce: mariadb and wordpress ----------------------------------------

# A network namespace with a loopback only, as a pod's: nothing else reaches it.
make_netns() {
  NETNS="urumi-verify-$$"
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  ip netns exec "$NETNS" sysctl -qw net.ipv4.ip_unprivileged_port_start=0
}
in_netns() { ip netns exec "$NETNS" "$@"; }

wc_run() {  # wc_run NAME IMAGE MOUNT... [-- ENV...]: the chart's pod security, in NETNS
  local name=$1 image=$2 opts=(); shift 2
  while [[ $# -gt 0 && "$1" != -- ]]; do opts+=("$1"); shift; done
  [[ $# -eq 0 ]] || shift
  local env; for env in "$@"; do opts+=(--env "$env"); done
  "${CTR[@]}" run -d --read-only --seccomp "${NO_CAPS[@]}" \
    --with-ns "network:/var/run/netns/$NETNS" --log-uri "file://$WORK/$name.log" \
    "${opts[@]}" "$image" "$name" >/dev/null
}

stop_container() {  # stop_container NAME: SIGTERM, wait, remove
  "${CTR[@]}" task kill -s SIGTERM "$1"
  wait_for 60 "$1 stopping on SIGTERM" sh -c "${CTR[*]} task ls | grep -E '^$1 +[0-9]+ +STOPPED'"
  "${CTR[@]}" task rm "$1" >/dev/null
  "${CTR[@]}" containers rm "$1"
}

db_exec() { "${CTR[@]}" task exec --exec-id "db$RANDOM" mariadb "$@"; }
db_tcp() {  # db_tcp PASSWORD SQL: as the chart's user over TCP, to its database
  db_exec mariadb -h 127.0.0.1 -P 3306 -u wordpress "-p$1" wordpress -BN -e "$2"
}

start_mariadb() {  # start_mariadb NAME: the chart's env and mounts (data survives)
  wc_run "$1" "${REF[mariadb]}" \
    "$(mnt "$WORK/vol/mysql" /var/lib/mysql)" "$(mnt "$(fsdir "run-$1" 999)" /run/mysqld)" \
    "$(mnt "$(fsdir "tmp-$1" 999)" /tmp)" -- \
    "MARIADB_ROOT_PASSWORD=$DB_ROOT_PASSWORD" "MARIADB_PASSWORD=$DB_PASSWORD" \
    MARIADB_DATABASE=wordpress MARIADB_USER=wordpress MARIADB_AUTO_UPGRADE=1
}

wait_mariadb() {  # the chart's readiness probe, then its liveness probe
  wait_for 120 "mariadb (healthcheck.sh --connect --innodb_initialized)" \
    db_exec healthcheck.sh --connect --innodb_initialized
  db_exec healthcheck.sh --connect || fail "mariadb: healthcheck.sh --connect fails"
}

check_mariadb() {
  fsdir mysql 999 >/dev/null
  SHOW_LOG=$WORK/mariadb.log
  start_mariadb mariadb
  wait_mariadb
  grep -q 'initialising /var/lib/mysql' "$WORK/mariadb.log" || fail "mariadb: no initialisation in its log"
  [[ -f "$WORK/vol/mysql/.my-healthcheck.cnf" && "$(stat -c %u "$WORK/vol/mysql/mysql")" == 999 ]] \
    || fail "mariadb: no .my-healthcheck.cnf, or the datadir is not mysql's"
  [[ "$(db_tcp "$DB_PASSWORD" 'select current_user()')" == 'wordpress@%' ]] \
    || fail "mariadb: the user cannot log in over TCP"
  if db_tcp wrong 'select 1' >/dev/null 2>&1; then fail "mariadb accepts a wrong password"; fi
  [[ "$(db_exec mariadb -h 127.0.0.1 -u root "-p$DB_ROOT_PASSWORD" -BN -e 'select 1')" == 1 ]] \
    || fail "mariadb: root cannot log in over TCP with MARIADB_ROOT_PASSWORD"
  db_tcp "$DB_PASSWORD" 'create table verify (v varchar(20)); insert into verify values ("kept")'
  log "ok: mariadb (initialised, healthcheck.sh, TCP login as the user and root, wrong password refused)"
  stop_container mariadb
  mv "$WORK/mariadb.log" "$WORK/mariadb-first.log"
  start_mariadb mariadb
  wait_mariadb
  [[ "$(db_tcp "$DB_PASSWORD" 'select v from verify')" == kept ]] || fail "mariadb: data lost on restart"
  ! grep -qE 'initialising|upgrading' "$WORK/mariadb.log" || fail "mariadb: initialised or upgraded again on restart"
  log "ok: mariadb restarted on its datadir (data kept, no new initialisation)"
  # A datadir of an older MariaDB without healthcheck credentials (MARIADB_AUTO_UPGRADE=1).
  stop_container mariadb
  mv "$WORK/mariadb.log" "$WORK/mariadb-second.log"
  echo 11.4.0-MariaDB >"$WORK/vol/mysql/mariadb_upgrade_info"
  rm "$WORK/vol/mysql/.my-healthcheck.cnf"
  start_mariadb mariadb
  wait_mariadb
  { grep -q 'upgraded' "$WORK/mariadb.log" && grep -q '^11\.8\.' "$WORK/vol/mysql/mariadb_upgrade_info"; } \
    || fail "mariadb: no mariadb-upgrade of an 11.4 datadir"
  [[ "$(db_tcp "$DB_PASSWORD" 'select v from verify')" == kept ]] || fail "mariadb: data lost in the upgrade"
  log "ok: mariadb upgraded an older datadir (mariadb-upgrade, new healthcheck credentials, data kept)"
}

http() {  # http PATH [curl option...]: the HTTP status of a request to Apache in NETNS
  local path=$1; shift
  in_netns curl -s -o "$WORK/page.html" -w '%{http_code}' "$@" "http://127.0.0.1$path"
}

check_wordpress() {
  local html status
  html="$(fsdir html 33)"
  SHOW_LOG=$WORK/wordpress.log
  wc_run wordpress "${REF[wordpress]}" \
    "$(mnt "$html" /var/www/html)" "$(mnt "$(fsdir wptmp 33)" /tmp)" \
    "$(mnt "$(fsdir apache-run 33)" /var/run/apache2)" "$(mnt "$(fsdir apache-lock 33)" /var/lock/apache2)" -- \
    WORDPRESS_DB_HOST=127.0.0.1:3306 WORDPRESS_DB_NAME=wordpress WORDPRESS_DB_USER=wordpress \
    "WORDPRESS_DB_PASSWORD=$DB_PASSWORD"
  wait_for 60 "wordpress (port 80)" in_netns curl -s -o /dev/null http://127.0.0.1/
  [[ -f "$html/wp-includes/version.php" && -f "$html/wp-config.php" && -f "$html/.htaccess" ]] \
    || fail "wordpress: not copied into the empty web root, or no wp-config.php"
  [[ "$(stat -c %u "$html/wp-config.php")" == 33 ]] || fail "wordpress: wp-config.php is not www-data's"
  ! grep -q 'put your unique phrase here' "$html/wp-config.php" || fail "wordpress: placeholder keys left in wp-config.php"
  status="$(http /wp-admin/install.php)"
  { [[ "$status" == 200 ]] && grep -q 'name="weblog_title"' "$WORK/page.html"; } \
    || fail "wordpress: /wp-admin/install.php answered $status without the installer form: $(head -c 300 "$WORK/page.html")"
  # The chart's readiness probe: before the install, WordPress redirects to it.
  status="$(http /wp-login.php)"
  [[ "$status" == 302 ]] || fail "wordpress: /wp-login.php answered $status, not 302"
  log "ok: wordpress (copied into the empty volume, wp-config.php from WORDPRESS_*, installer page 200)"
  status="$(http '/wp-admin/install.php?step=2' --data-urlencode weblog_title=Verify \
    --data-urlencode user_name=admin --data-urlencode "admin_password=$ADMIN_PASSWORD" \
    --data-urlencode "admin_password2=$ADMIN_PASSWORD" --data-urlencode pw_weak=1 \
    --data-urlencode admin_email=admin@example.com --data-urlencode blog_public=0)"
  { [[ "$status" == 200 ]] && grep -q 'wp-login.php' "$WORK/page.html"; } || fail "wordpress: the install answered $status"
  [[ "$(db_tcp "$DB_PASSWORD" "select option_value from wp_options where option_name = 'blogname'")" == Verify ]] \
    || fail "wordpress: the install wrote no site to mariadb"
  status="$(http /)"
  { [[ "$status" == 200 ]] && grep -qi '<title>Verify' "$WORK/page.html"; } || fail "wordpress: the front page answered $status"
  grep -q '"GET / HTTP/1.1" 200' "$WORK/wordpress.log" || fail "wordpress: Apache's access log is not on stdout"
  log "ok: wordpress installed into mariadb (the installer's form), front page 200, access log on stdout"
}

check_woocommerce() {
  command -v ip >/dev/null || fail "ip (iproute2) not found"
  make_netns
  check_mariadb
  check_wordpress
}

main() {
  [[ "$(id -u)" == 0 ]] || fail "run as root (containerd, runc)"
  local tool what=("$@") images=()
  [[ $# -gt 0 ]] || what=(medusa woocommerce)
  for tool in containerd ctr curl jq; do command -v "$tool" >/dev/null || fail "$tool not found"; done
  for tool in "${what[@]}"; do
    case "$tool" in
      medusa) images+=(pause busybox postgres redis medusa) ;;
      woocommerce) images+=(mariadb wordpress) ;;
      *) fail "unknown check '$tool' (known: medusa woocommerce)" ;;
    esac
  done
  start_containerd
  import_images "${images[@]}"
  if [[ " ${what[*]} " == *" medusa "* ]]; then
    check_pause
    check_busybox
    start_redis
    start_postgres
    setup_medusa
    place_order
  fi
  if [[ " ${what[*]} " == *" woocommerce "* ]]; then check_woocommerce; fi
  log "all images verified: ${what[*]}"
}

main "$@"
