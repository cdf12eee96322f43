#!/bin/bash
# Entrypoint of Urumi's wordpress image (Debian's wordpress, apache2 and
# libapache2-mod-php). It keeps the part of the official image's contract that
# charts/woocommerce uses, for a command starting with `apache2`:
#   - the working directory (/var/www/html, a volume) without WordPress in it
#     (no index.php, no wp-includes/version.php) gets a copy of
#     /usr/src/wordpress; plugins or themes already there are left alone;
#   - no wp-config.php there and some WORDPRESS_* variable set: it gets
#     /usr/src/wordpress/wp-config-docker.php (settings from WORDPRESS_DB_HOST,
#     _DB_USER, _DB_PASSWORD, _DB_NAME, _TABLE_PREFIX, _CONFIG_EXTRA, ... at run
#     time), each placeholder key and salt replaced by a random string.
# Run as www-data (the chart) it writes only to the working directory; as
# root, what it copies is owned by www-data.
set -Eeuo pipefail

SRC=/usr/src/wordpress
log() { printf 'entrypoint: %s\n' "$*" >&2; }

copy_wordpress() {
  local excludes=() path
  log "WordPress not found in $PWD - copying now..."
  if [[ -n "$(find . -mindepth 1 -maxdepth 1 ! -name wp-content -print -quit)" ]]; then
    log "WARNING: $PWD is not empty (copying anyway)"
  fi
  # Keep what is there: .htaccess and each plugin or theme (a newer one may
  # have been installed into the volume).
  for path in "$SRC/.htaccess" "$SRC"/wp-content/*/*/; do
    path=${path%/}; path=${path#"$SRC/"}
    if [[ -e "$path" ]]; then
      log "WARNING: $PWD/$path exists (not copying the image's)"
      excludes+=(--exclude "$path")
    fi
  done
  # The top-level entries, not ".": the volume's root keeps its owner and mode
  # (root, group fsGroup, setgid), which www-data could not set anyway.
  local create=(tar -C "$SRC" -c -f - "${excludes[@]}" --null -T -) extract=(tar -x -f -)
  if [[ "$(id -u)" == 0 ]]; then
    create+=(--owner=www-data --group=www-data)
  else
    extract+=(--no-overwrite-dir --no-same-owner)
  fi
  find "$SRC" -mindepth 1 -maxdepth 1 -printf '%P\0' | "${create[@]}" | "${extract[@]}"
  log "Complete! WordPress has been successfully copied to $PWD"
}

write_config() {
  local line
  log "no wp-config.php in $PWD, but WORDPRESS_* variables ($*): writing it from $SRC/wp-config-docker.php"
  while IFS= read -r line; do
    while [[ "$line" == *'put your unique phrase here'* ]]; do
      line=${line/put your unique phrase here/$(head -c 64 /dev/urandom | sha1sum | cut -d' ' -f1)}
    done
    printf '%s\n' "$line"
  done <"$SRC/wp-config-docker.php" >wp-config.php.new
  if [[ "$(id -u)" == 0 ]]; then chown www-data:www-data wp-config.php.new || true; fi
  mv wp-config.php.new wp-config.php
}

main() {
  if [[ "${1:-}" == apache2* ]]; then
    if [[ ! -e index.php && ! -e wp-includes/version.php ]]; then copy_wordpress; fi
    local vars
    vars="$(compgen -v WORDPRESS_ | paste -sd' ' || true)"
    if [[ ! -s wp-config.php && -n "$vars" ]]; then write_config "$vars"; fi
  fi
  exec "$@"
}

main "$@"
