#!/bin/bash
# Entrypoint of Urumi's postgres image (Debian's postgresql-17). It keeps the
# part of the official postgres image's contract that charts/medusa uses:
#   POSTGRES_PASSWORD (required), POSTGRES_USER (default postgres),
#   POSTGRES_DB (default: the user), PGDATA (may not exist yet; its parent
#   must be writable).
# On an empty PGDATA it runs initdb (scram-sha-256 over TCP, trust on the
# socket inside the container), creates POSTGRES_DB with a temporary server
# that listens on the socket only (so TCP probes stay false until the real
# server is up), then execs the real server on all addresses.
# The root filesystem may be read-only: it writes only to PGDATA and
# /var/run/postgresql.
set -Eeuo pipefail

log() { printf 'entrypoint: %s\n' "$*" >&2; }

# Started as root (a plain `ctr run`, not the chart): own the data and socket
# directories, then run as postgres, which initdb and postgres require.
drop_root() {
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
}

initialise() {
  if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
    log "PGDATA $PGDATA is empty and POSTGRES_PASSWORD is not set; refusing to create a database without a password"
    exit 1
  fi
  log "initialising $PGDATA for user $POSTGRES_USER"
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" \
    --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >&2
  # initdb's host lines cover loopback only; clients come from other pods.
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  pg_ctl --pgdata="$PGDATA" --wait --silent \
    --options="-c listen_addresses='' -c port=${PGPORT:-5432}" start >&2
  if [[ "$POSTGRES_DB" != postgres ]]; then
    log "creating database $POSTGRES_DB"
    psql --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --username="$POSTGRES_USER" \
      --dbname=postgres --set=db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >&2
  fi
  pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop >&2
  log "initialised; starting the server"
}

main() {
  # `docker run image -c x=y` style: options for postgres.
  if [[ "${1:-}" == -* ]]; then set -- postgres "$@"; fi
  if [[ "${1:-}" != postgres ]]; then exec "$@"; fi

  : "${PGDATA:=/var/lib/postgresql/data}"
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  export PGDATA POSTGRES_USER POSTGRES_DB

  if [[ "$(id -u)" == 0 ]]; then drop_root "$@"; fi
  # Group-owned by fsGroup (999) with setgid, the volume lets us create it.
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then initialise; fi
  exec "$@"
}

main "$@"
