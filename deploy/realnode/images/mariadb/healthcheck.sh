#!/bin/bash
# healthcheck.sh of Urumi's mariadb image: the official image's tests that
# charts/woocommerce's probes use, with its semantics.
#
#   healthcheck.sh [--datadir=DIR] [--defaults-extra-file=F] TEST...   TEST:
#   --connect                    the server accepts connections: on the socket it
#                                answers @@skip_networking = 0, or a TCP connection
#                                to localhost gets an answer, even "access denied"
#   --innodb_initialized         InnoDB is available (crash recovery done)
#   --innodb_buffer_pool_loaded  the buffer pool load has completed
#
# Tests run in order; the first failing one fails the check. Without a passed
# --connect, a connect test runs last (as in the official script). Credentials:
# DATADIR/.my-healthcheck.cnf, written by the entrypoint at initialisation
# (user `healthcheck`, USAGE only).
set -uo pipefail

datadir=/var/lib/mysql
extra_file=
connected=

client() {  # client ARG...: the mariadb client with the healthcheck credentials
  local defaults=()
  if [[ -n "$extra_file" ]]; then defaults=(--defaults-extra-file="$extra_file")
  elif [[ -f "$datadir/.my-healthcheck.cnf" ]]; then defaults=(--defaults-extra-file="$datadir/.my-healthcheck.cnf")
  fi
  mariadb "${defaults[@]}" --skip-ssl --skip-ssl-verify-server-cert --batch --skip-column-names "$@"
}
socket_query() { client --protocol=socket -e "$1" 2>/dev/null; }

connect() {
  local out
  out="$(socket_query 'select @@skip_networking')"
  case "$out" in
    0) connected=1; return 0 ;;
    1) return 1 ;;  # the entrypoint's temporary server: no TCP yet
  esac
  out="$(client --protocol=tcp -h localhost -e 'select @@skip_networking' 2>&1)"
  case "$out" in
    0 | "ERROR 1820 (HY000)"* | "ERROR 4151 (HY000)"* | "ERROR 1226 (42000)"* | ERROR\ 1[0-9][0-9][0-9]\ \(28000\)*)
      connected=1; return 0 ;;  # answered (denied, locked, expired or over a limit)
  esac
  [[ "$out" == 1 || "$out" == "ERROR 2002 (HY000)"* ]] || echo "healthcheck: $out" >&2
  return 1
}

innodb_initialized() {
  [[ "$(socket_query "select 1 from information_schema.ENGINES where engine = 'innodb' and support in ('YES', 'DEFAULT', 'ENABLED')")" == 1 ]]
}

innodb_buffer_pool_loaded() {
  [[ "$(socket_query "select VARIABLE_VALUE from information_schema.GLOBAL_STATUS where VARIABLE_NAME = 'Innodb_buffer_pool_load_status'")" == *'load completed'* ]]
}

[[ $# -gt 0 ]] || { echo "healthcheck: at least one test required" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --datadir=*) datadir=${1#*=} ;;
    --defaults-extra-file=*) extra_file=${1#*=} ;;
    --connect | --innodb_initialized | --innodb_buffer_pool_loaded)
      test=${1#--}
      "$test" || { echo "healthcheck $test failed" >&2; exit 1; } ;;
    *) echo "healthcheck: unknown option or test '$1'" >&2; exit 1 ;;
  esac
  shift
done
[[ -n "$connected" ]] || connect
