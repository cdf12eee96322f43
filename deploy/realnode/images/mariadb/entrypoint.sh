#!/bin/bash
# Entrypoint of Urumi's mariadb image (Debian's mariadb-server). It keeps the
# part of the official mariadb image's contract that charts/woocommerce uses:
#   MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD), MARIADB_DATABASE,
#   MARIADB_USER + MARIADB_PASSWORD (the user gets ALL on the database, from any
#   host), MARIADB_AUTO_UPGRADE; the MYSQL_* spellings are accepted too.
# On an empty datadir it runs mariadb-install-db, starts a temporary server on
# the socket only (so TCP and healthcheck.sh --connect stay false until the
# real server is up), secures root (root@localhost and root@'%' with the
# password), creates the database, the user and a `healthcheck` user whose
# credentials go to DATADIR/.my-healthcheck.cnf (healthcheck.sh reads them),
# stops it and execs the server.
# On a datadir of an older MariaDB (or without .my-healthcheck.cnf) and
# MARIADB_AUTO_UPGRADE set, it runs mariadb-upgrade with a temporary server
# first (no backup of the system tables, unlike the official image).
# The root filesystem may be read-only: it writes only to the datadir, the
# socket's directory (/run/mysqld) and /tmp.
set -Eeuo pipefail

log() { printf '%s [Note] [Entrypoint]: %s\n' "$(date '+%F %T')" "$*" >&2; }
die() { printf '%s [ERROR] [Entrypoint]: %s\n' "$(date '+%F %T')" "$*" >&2; exit 1; }

# config NAME SERVER_COMMAND...: NAME's value as the server would use it.
config() {
  local name=$1; shift
  "$@" --verbose --help 2>/dev/null | awk -v n="$name" '$1 == n && /^[^ \t]/ { sub(/^[^ \t]+[ \t]+/, ""); print; exit }'
}

# A SQL string literal's content: backslashes and single quotes escaped.
sql_string() { local s=${1//\\/\\\\}; printf '%s' "${s//\'/\\\'}"; }
# A quoted identifier's content: backticks doubled.
sql_ident() { printf '%s' "${1//\`/\`\`}"; }

random_password() { head -c 48 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c1-32; }

sql() {  # sql [client option...] < statements: as root (no password yet, or
        # --skip-grant-tables) on the socket
  mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot --skip-ssl "$@"
}

temp_server_start() {
  "$@" --skip-networking --socket="$SOCKET" --default-time-zone=SYSTEM --wsrep_on=OFF \
    --expire-logs-days=0 --skip-slave-start --loose-innodb_buffer_pool_load_at_startup=0 \
    --skip-ssl --ssl-cert='' --ssl-key='' --ssl-ca='' &
  TEMP_PID=$!
  local _
  for _ in $(seq 60); do
    if sql --database=mysql <<<'SELECT 1' >/dev/null 2>&1; then return; fi
    kill -0 "$TEMP_PID" 2>/dev/null || die "the temporary server exited"
    sleep 1
  done
  die "the temporary server did not start in 60 s"
}

temp_server_stop() { kill "$TEMP_PID"; wait "$TEMP_PID" || true; }

# SQL that (re)creates the healthcheck users with a new password, and writes
# that password to DATADIR/.my-healthcheck.cnf for healthcheck.sh.
healthcheck_users() {
  local password host
  password="$(random_password)"
  for host in 127.0.0.1 ::1 localhost; do
    printf "CREATE USER IF NOT EXISTS healthcheck@'%s' IDENTIFIED BY '%s';\n" "$host" "$password"
    printf "SET PASSWORD FOR healthcheck@'%s' = PASSWORD('%s');\n" "$host" "$password"
    printf "GRANT USAGE ON *.* TO healthcheck@'%s';\n" "$host"
  done
  (umask 077; printf '[mariadb-client]\nport=%s\nsocket=%s\nuser=healthcheck\npassword=%s\n' \
    "$PORT" "$SOCKET" "$password" >"$DATADIR/.my-healthcheck.cnf")
}

initialise() {
  if [[ -z "$MARIADB_ROOT_PASSWORD" && -z "$MARIADB_ALLOW_EMPTY_ROOT_PASSWORD" ]]; then
    die "the datadir $DATADIR is empty and neither MARIADB_ROOT_PASSWORD nor MARIADB_ALLOW_EMPTY_ROOT_PASSWORD is set"
  fi
  log "initialising $DATADIR"
  mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
    --cross-bootstrap --skip-test-db --old-mode=UTF8_IS_UTF8MB3 --default-time-zone=SYSTEM \
    --enforce-storage-engine= --skip-log-bin --expire-logs-days=0 \
    --loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 \
    "${@:2}" >&2
  temp_server_start "$@"
  if [[ -z "${MARIADB_INITDB_SKIP_TZINFO:-}" && -d /usr/share/zoneinfo ]]; then
    mariadb-tzinfo-to-sql --skip-write-binlog /usr/share/zoneinfo 2>/dev/null | sql --database=mysql
  fi
  local root_pw user_pw db user root_host
  root_pw="$(sql_string "$MARIADB_ROOT_PASSWORD")"
  root_host="$(sql_string "$MARIADB_ROOT_HOST")"
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');"
    echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
    printf '%s\n' "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');"
    echo "SET PASSWORD FOR root@localhost = PASSWORD('$root_pw');"
    if [[ -n "$MARIADB_ROOT_HOST" && "$MARIADB_ROOT_HOST" != localhost ]]; then
      echo "CREATE USER root@'$root_host' IDENTIFIED BY '$root_pw';"
      echo "GRANT ALL ON *.* TO root@'$root_host' WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO root@'$root_host' WITH GRANT OPTION;"
    fi
    healthcheck_users
    if [[ -n "$MARIADB_DATABASE" ]]; then
      db="$(sql_ident "$MARIADB_DATABASE")"
      log "creating database $MARIADB_DATABASE"
      echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
    fi
    if [[ -n "$MARIADB_USER" && -n "$MARIADB_PASSWORD" ]]; then
      user="$(sql_string "$MARIADB_USER")"; user_pw="$(sql_string "$MARIADB_PASSWORD")"
      log "creating user $MARIADB_USER"
      echo "CREATE USER '$user'@'%' IDENTIFIED BY '$user_pw';"
      # `_` is a wildcard in a GRANT's database name.
      [[ -z "$MARIADB_DATABASE" ]] || echo "GRANT ALL ON \`${db//_/\\_}\`.* TO '$user'@'%';"
    fi
  } | sql --database=mysql --binary-mode
  temp_server_stop
  log "initialised; starting the server"
}

# Whether the datadir was made by an older major.minor (or lacks the
# healthcheck credentials).
upgrade_needed() {
  local info=$DATADIR/mariadb_upgrade_info old new
  [[ -f "$DATADIR/.my-healthcheck.cnf" && -r "$info" ]] || return 0
  old="$(grep -oE '^[0-9]+\.[0-9]+' "$info" || true)"
  new="$("$1" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"; new=${new%.*}
  [[ -n "$old" ]] || return 0
  [[ "$old" != "$new" && "$(printf '%s\n' "$old" "$new" | sort -V | head -1)" == "$old" ]]
}

upgrade() {
  case "${MARIADB_AUTO_UPGRADE:-}" in
    '' | 0) log "mariadb-upgrade (or healthcheck users) needed, skipped: MARIADB_AUTO_UPGRADE is not set"; return ;;
  esac
  log "upgrading $DATADIR"
  local temp=("$@" --skip-grant-tables --loose-innodb_buffer_pool_dump_at_shutdown=0)
  temp_server_start "${temp[@]}"
  if [[ ! -f "$DATADIR/.my-healthcheck.cnf" ]]; then
    # CREATE USER needs the grant tables loaded; FLUSH PRIVILEGES loads them
    # for good, so mariadb-upgrade (root, no password) needs a new server.
    { echo "SET @@SESSION.SQL_LOG_BIN=0; FLUSH PRIVILEGES;"; healthcheck_users; } | sql --binary-mode
    temp_server_stop
    temp_server_start "${temp[@]}"
  fi
  mariadb-upgrade --no-defaults --socket="$SOCKET" -uroot --upgrade-system-tables >&2
  temp_server_stop
  log "upgraded"
}

main() {
  if [[ "${1:-}" == -* ]]; then set -- mariadbd "$@"; fi
  local arg
  for arg in "$@"; do
    case "$arg" in -'?' | --help | --print-defaults | -V | --version) exec "$@" ;; esac
  done
  if [[ "${1:-}" != mariadbd && "${1:-}" != mysqld ]]; then exec "$@"; fi

  DATADIR="$(config datadir "$@")"; DATADIR=${DATADIR%/}
  SOCKET="$(config socket "$@")"
  PORT="$(config port "$@")"
  [[ -n "$DATADIR" && -n "$SOCKET" ]] || die "could not read datadir and socket from '$* --verbose --help'"

  # Started as root (a plain `ctr run`, not the chart): own the datadir and
  # the socket's directory, then run as mysql.
  if [[ "$(id -u)" == 0 ]]; then
    mkdir -p "$DATADIR" "${SOCKET%/*}"
    chown mysql:mysql "$DATADIR" "${SOCKET%/*}"
    exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
  fi

  local v
  for v in ROOT_PASSWORD ALLOW_EMPTY_ROOT_PASSWORD ROOT_HOST DATABASE USER PASSWORD INITDB_SKIP_TZINFO; do
    local m=MARIADB_$v y=MYSQL_$v
    [[ -n "${!m:-}" ]] || printf -v "$m" '%s' "${!y:-}"
  done
  : "${MARIADB_ROOT_HOST:=%}"

  if [[ ! -d "$DATADIR/mysql" ]]; then
    initialise "$@"
  elif upgrade_needed "$1"; then
    upgrade "$@"
  fi
  unset MARIADB_ROOT_PASSWORD MARIADB_PASSWORD MYSQL_ROOT_PASSWORD MYSQL_PASSWORD
  exec "$@"
}

main "$@"
