#!/usr/bin/env bash
# Builds the OCI images the real node runs, with no registry and no docker:
# root filesystems from Debian packages (mmdebstrap), the Medusa app from npm,
# packed by umoci as OCI image-layout tars that `ctr -n k8s.io images import`
# loads under their full reference.
#
#   deploy/realnode/images/build.sh [pause|busybox|postgres|redis|medusa|mariadb|wordpress|rclone]...   (none: all)
#
# stdout: one line per image, `<full image ref> <absolute path of image.tar>`.
# Progress goes to stderr. Each image is cached under
#   ${URUMI_CACHE:-$HOME/.cache/urumi}/images/<name>/<key>/image.tar
# with key = sha256 of its inputs (this script, its files, the pins, the
# Debian suite, the host's Node.js for medusa); a second call with the same
# inputs builds nothing. Concurrent calls wait for each other per image.
set -euo pipefail

# ---- version pins ----------------------------------------------------------
DEBIAN_SUITE=trixie
DEBIAN_MIRROR=http://deb.debian.org/debian
DEBIAN_SECURITY_MIRROR=http://deb.debian.org/debian-security
PAUSE_VERSION=1.0          # our own deploy/realnode/images/pause/pause.c
BUSYBOX_VERSION=1.0        # the host's Debian busybox-static, for volume helper pods
POSTGRES_MAJOR=17
POSTGRES_VERSION=17.12     # upstream part of Debian's postgresql-17
REDIS_VERSION=8.0.2        # upstream part of Debian's redis-server (epoch 5)
NODEJS_VERSION=20.19.2     # Debian's nodejs; Medusa 2.21.2 needs ^20.19.0
MEDUSA_VERSION=2.21.2      # every @medusajs/* in deploy/medusa/app/package.json
MARIADB_VERSION=11.8.9     # upstream part of Debian's mariadb-server (epoch 1)
WORDPRESS_VERSION=6.8.13   # upstream part of Debian's wordpress (+dfsg1 repack)
PHP_VERSION=8.4            # Debian's php8.4-* packages (the tag names only the minor)
RCLONE_VERSION=1.60.1      # upstream part of Debian's rclone (+dfsg repack)
# -----------------------------------------------------------------------------

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
APP="$(cd "$HERE/../../medusa/app" && pwd)"
CACHE_ROOT="${URUMI_CACHE:-$HOME/.cache/urumi}/images"
ALL_IMAGES=(pause busybox postgres redis medusa mariadb wordpress rclone)
# Paths the images leave out: documentation and translations nobody reads in a
# container (copyright files stay).
DPKG_EXCLUDES=(
  'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*'
  'path-exclude=/usr/share/locale/*' 'path-exclude=/usr/share/lintian/*'
)
PATH_DEFAULT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'images/build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ref_of() {
  case "$1" in
    pause) echo "docker.io/urumi/pause:$PAUSE_VERSION" ;;
    busybox) echo "docker.io/urumi/busybox:$BUSYBOX_VERSION" ;;
    postgres) echo "docker.io/library/postgres:$POSTGRES_VERSION" ;;
    redis) echo "docker.io/library/redis:$REDIS_VERSION" ;;
    medusa) echo "docker.io/library/urumi-medusa:$MEDUSA_VERSION" ;;
    mariadb) echo "docker.io/library/mariadb:$MARIADB_VERSION" ;;
    # The official image never published 6.8.13 (its 6.8 line ended at 6.8.3,
    # then 6.9.0): its minor tag names our WordPress truly, and kind pulls it.
    wordpress) echo "docker.io/library/wordpress:${WORDPRESS_VERSION%.*}-php$PHP_VERSION-apache" ;;
    # The official image's name and tag, which the charts' backup Jobs name.
    rclone) echo "docker.io/rclone/rclone:$RCLONE_VERSION" ;;
    *) die "unknown image '$1' (known: ${ALL_IMAGES[*]})" ;;
  esac
}

# ---- cache key ---------------------------------------------------------------

# Prints every file under DIR as `== path` + content, in a stable order.
dump_files() {
  local dir=$1 f
  while IFS= read -r f; do
    printf '== %s\n' "$f"; cat "$dir/$f"
  done < <(cd "$dir" && find . -type f ! -path './node_modules/*' ! -path './.medusa/*' | LC_ALL=C sort)
}

key_inputs() {
  local name=$1
  printf '== build.sh\n'; cat "$SELF"
  printf 'suite=%s mirror=%s security=%s\n' "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR"
  printf 'pins=%s %s %s %s %s %s %s %s %s %s\n' "$PAUSE_VERSION" "$BUSYBOX_VERSION" "$POSTGRES_VERSION" "$REDIS_VERSION" \
    "$NODEJS_VERSION" "$MEDUSA_VERSION" "$MARIADB_VERSION" "$WORDPRESS_VERSION" "$PHP_VERSION" "$RCLONE_VERSION"
  printf 'umoci=%s mmdebstrap=%s\n' "$(umoci --version)" "$(mmdebstrap --version)"
  [[ ! -d "$HERE/$name" ]] || dump_files "$HERE/$name"
  case "$name" in
    pause) gcc --version | head -1; dpkg-query -W -f '${Version}\n' libc6-dev ;;
    busybox) dpkg-query -W -f '${Version}\n' busybox-static ;;
    medusa) printf 'node=%s npm=%s\n' "$(node --version)" "$(npm --version)"; dump_files "$APP" ;;
  esac
}

key_of() { key_inputs "$1" | sha256sum | cut -c1-16; }

# ---- root filesystems ----------------------------------------------------------

# An --essential-hook that adds a system user and its group with fixed IDs
# before any package's maintainer scripts look for them (postgresql-common
# and redis-server would otherwise create them with whatever ID is free).
user_hook() {
  local user=$1 id=$2 home=$3 shell=$4
  printf '%s\n' \
    "echo '$user:x:$id:$id::$home:$shell' >>\"\$1/etc/passwd\"" \
    "echo '$user:x:$id:' >>\"\$1/etc/group\"" \
    "if [ -e \"\$1/etc/shadow\" ]; then echo '$user:*:20000:0:99999:7:::' >>\"\$1/etc/shadow\"; fi" \
    "if [ -e \"\$1/etc/gshadow\" ]; then echo '$user:!::' >>\"\$1/etc/gshadow\"; fi"
}

# debootstrap DIR [mmdebstrap option...]: a Debian root filesystem in DIR with
# only the Essential:yes packages plus --include=...; no apt inside.
debootstrap() {
  local dir=$1 opt; shift
  local dpkgopts=()
  for opt in "${DPKG_EXCLUDES[@]}"; do dpkgopts+=(--dpkgopt="$opt"); done
  mmdebstrap --mode=root --variant=essential --format=directory --quiet \
    --aptopt='APT::Install-Recommends "false"' "${dpkgopts[@]}" "$@" \
    "$DEBIAN_SUITE" "$dir" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE main" \
    "deb $DEBIAN_MIRROR $DEBIAN_SUITE-updates main" \
    "deb $DEBIAN_SECURITY_MIRROR $DEBIAN_SUITE-security main" >&2
}

# require_upstream DIR PACKAGE VERSION: fails unless Debian gave us VERSION
# (the epoch, the Debian revision and a +dfsg/~ds repack suffix aside).
require_upstream() {
  local dir=$1 pkg=$2 want=$3 got upstream
  got="$(dpkg-query --admindir="$dir/var/lib/dpkg" -W -f '${Version}' "$pkg")"
  upstream="${got#*:}"; upstream="${upstream%-*}"; upstream="${upstream%%[+~]*}"
  [[ "$upstream" == "$want" ]] || die "Debian $DEBIAN_SUITE now serves $pkg $got, not the pinned $want: \
update the pin (and the image tag) in $SELF"
  log "  $pkg $got"
}

# Drops what a container never uses: apt and debconf caches, logs.
slim() {
  local dir=$1
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/cache/debconf/*-old \
    "$dir"/var/cache/ldconfig/aux-cache "$dir"/var/log/* "$dir"/tmp/* "$dir"/root/.cache
  chmod 1777 "$dir/tmp"
}

# A runtime gives each container its /etc/hosts and /etc/resolv.conf (the
# kubelet mounts both); without one (a plain `ctr run`), localhost resolves
# and no name server is asked. mmdebstrap leaves the build host's resolv.conf.
loopback_names() {
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$1/etc/hosts"
  rm -f "$1/etc/resolv.conf"; : >"$1/etc/resolv.conf"
}

packages_of() {
  dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${Package}=${Version}\n' | LC_ALL=C sort | paste -sd' '
}

# ---- OCI packing -----------------------------------------------------------------

# pack NAME ROOTFS OUT_TAR [umoci config option...]: ROOTFS as the single layer
# of an OCI image layout, tarred to OUT_TAR. ctr 1.6 names an imported image
# after the manifest's io.containerd.image.name annotation (else it takes
# org.opencontainers.image.ref.name as is), so both are set: the full ref and
# the tag.
pack() {
  local name=$1 rootfs=$2 out=$3; shift 3
  local ref work tag layout
  ref="$(ref_of "$name")"; tag="${ref##*:}"
  work="$(dirname "$out")"; layout="$work/oci"
  tar -C "$rootfs" --numeric-owner --xattrs --sort=name -cf "$work/layer.tar" .
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci raw add-layer --image "$layout:$tag" --history.created_by "images/build.sh $name" "$work/layer.tar"
  rm -f "$work/layer.tar"
  umoci config --image "$layout:$tag" --no-history --os linux --architecture amd64 \
    --author "Urumi (deploy/realnode/images/build.sh)" \
    --config.label "org.opencontainers.image.title=$name" \
    --config.label "org.opencontainers.image.version=$tag" \
    --config.label "org.opencontainers.image.source=deploy/realnode/images/build.sh" \
    "$@"
  umoci gc --layout "$layout"
  jq --arg ref "$ref" --arg tag "$tag" \
    '.manifests |= map(.annotations = {"io.containerd.image.name": $ref, "org.opencontainers.image.ref.name": $tag})' \
    "$layout/index.json" >"$layout/index.json.new"
  mv "$layout/index.json.new" "$layout/index.json"
  tar -C "$layout" --numeric-owner --owner=0 --group=0 --sort=name -cf "$out" oci-layout index.json blobs
  rm -rf "$layout"
}

# debian_labels ROOTFS: umoci options recording the packages. containerd
# refuses a container label over 4096 bytes (key and value), and both ctr and
# the CRI copy the image's labels to its containers: a longer list goes on in
# dev.urumi.debian.packages.2, .3, ...
debian_labels() {
  local pkgs pkg chunk='' key=dev.urumi.debian.packages n=1
  read -ra pkgs <<<"$(packages_of "$1")"
  printf '%s\n' --config.label "dev.urumi.debian.suite=$DEBIAN_SUITE"
  for pkg in "${pkgs[@]}"; do
    if ((${#chunk} + ${#pkg} > 4000)); then
      printf '%s\n' --config.label "$key=${chunk% }"
      n=$((n + 1)); key=dev.urumi.debian.packages.$n; chunk=''
    fi
    chunk+="$pkg "
  done
  printf '%s\n' --config.label "$key=${chunk% }"
}

# ---- the images ----------------------------------------------------------------------

# Each build_NAME WORK OUT_TAR builds in WORK (removed afterwards) and writes
# OUT_TAR.

build_pause() {
  local work=$1 out=$2
  mkdir -p "$work/rootfs"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$work/rootfs/pause" "$HERE/pause/pause.c"
  pack pause "$work/rootfs" "$out" --config.entrypoint /pause --config.user 65535:65535 \
    --config.label "dev.urumi.pause.compiler=$(gcc --version | head -1)"
}

# What local-path-provisioner's helper pods run (mkdir, chmod, rm in a shell):
# Debian's static busybox alone.
build_busybox() {
  local work=$1 out=$2 root=$1/rootfs tool
  install -D -m 0755 /bin/busybox "$root/bin/busybox"
  for tool in sh mkdir chmod rm ls cat; do ln -s busybox "$root/bin/$tool"; done
  pack busybox "$root" "$out" --config.env PATH=/bin --config.cmd /bin/sh \
    --config.label "dev.urumi.busybox=$(dpkg-query -W -f '${Version}' busybox-static)"
}

build_postgres() {
  local work=$1 out=$2 root=$1/rootfs bin=/usr/lib/postgresql/$POSTGRES_MAJOR/bin
  local hook labels
  # postgresql-common creates a "main" cluster on install unless told not to.
  hook="$(user_hook postgres 999 /var/lib/postgresql /bin/bash)
mkdir -p \"\$1/etc/postgresql-common/createcluster.d\"
echo 'create_main_cluster = false' >\"\$1/etc/postgresql-common/createcluster.d/urumi.conf\""
  debootstrap "$root" --include="postgresql-$POSTGRES_MAJOR" --essential-hook="$hook"
  require_upstream "$root" "postgresql-$POSTGRES_MAJOR" "$POSTGRES_VERSION"
  [[ ! -d "$root/var/lib/postgresql/$POSTGRES_MAJOR" ]] || die "postgresql-common created a cluster despite createcluster.d"
  # LLVM (~130 MB) only serves JIT compilation, which small stores never
  # benefit from; without llvmjit.so the server runs with JIT unavailable.
  chroot "$root" dpkg --purge --force-depends "libllvm19" >&2
  rm -rf "$root/usr/lib/postgresql/$POSTGRES_MAJOR/lib/llvmjit"* "$root/usr/lib/postgresql/$POSTGRES_MAJOR/lib/bitcode"
  install -m 0755 "$HERE/postgres/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  install -d -o 999 -g 999 -m 0700 "$root/var/lib/postgresql/data"
  install -d -o 999 -g 999 -m 2775 "$root/var/run/postgresql"
  slim "$root"
  [[ -x "$root$bin/pg_isready" && -x "$root$bin/postgres" ]] || die "postgres binaries missing in $bin"
  mapfile -t labels < <(debian_labels "$root")
  pack postgres "$root" "$out" "${labels[@]}" \
    --config.user 999:999 --config.workingdir / --config.stopsignal SIGINT \
    --config.env "PATH=$bin:$PATH_DEFAULT" --config.env PGDATA=/var/lib/postgresql/data \
    --config.env LANG=C.UTF-8 \
    --config.entrypoint /usr/local/bin/docker-entrypoint.sh --config.cmd postgres \
    --config.exposedports 5432/tcp --config.volume /var/lib/postgresql/data
}

build_redis() {
  local work=$1 out=$2 root=$1/rootfs labels
  debootstrap "$root" --include=redis-server,redis-tools \
    --essential-hook="$(user_hook redis 999 /var/lib/redis /usr/sbin/nologin)"
  require_upstream "$root" redis-server "$REDIS_VERSION"
  install -d -o 999 -g 999 -m 0755 "$root/data"
  slim "$root"
  mapfile -t labels < <(debian_labels "$root")
  pack redis "$root" "$out" "${labels[@]}" \
    --config.user 999:999 --config.workingdir /data --config.env "PATH=$PATH_DEFAULT" \
    --config.cmd redis-server --config.exposedports 6379/tcp --config.volume /data
}

# The app: deploy/medusa/app built as deploy/medusa/Dockerfile does, with the
# host's Node.js (same major as the image's) and npm against the npm registry.
build_medusa_app() {
  local work=$1 src=$1/src
  mkdir -p "$src"
  (cd "$APP" && cp -a package.json package-lock.json tsconfig.json medusa-config.ts .npmrc src "$src/")
  (
    cd "$src"
    export npm_config_cache="$CACHE_ROOT/.npm" MEDUSA_DISABLE_TELEMETRY=true NODE_ENV=development
    log "  npm ci (~2 min cold)"
    npm ci --no-audit --no-fund --loglevel=error >&2
    log "  medusa build (server and admin dashboard, ~4 min)"
    NODE_ENV=production npx --no medusa build >&2
    cd .medusa/server
    [[ -f package-lock.json ]] || cp ../../package-lock.json .
    log "  npm ci --omit=dev in .medusa/server"
    npm ci --omit=dev --no-audit --no-fund --loglevel=error >&2
    # `medusa db:migrate` creates every module's (often empty) migrations
    # directory beside its code, which fails on the read-only /app (ENOENT).
    local dist
    for dist in node_modules/@medusajs/*/dist; do mkdir -p "$dist/migrations"; done
  )
  [[ -x "$src/.medusa/server/node_modules/.bin/medusa" ]] || die "medusa build left no node_modules/.bin/medusa"
  [[ -f "$src/.medusa/server/src/scripts/seed.js" ]] || die "medusa build left no src/scripts/seed.js"
}

build_medusa() {
  local work=$1 out=$2 root=$1/rootfs labels
  build_medusa_app "$work"
  debootstrap "$root" --include=nodejs,ca-certificates \
    --essential-hook="$(user_hook node 1000 /tmp /bin/sh)"
  require_upstream "$root" nodejs "$NODEJS_VERSION"
  # Root-owned, so read-only to the app; only uploads (a volume) are written.
  cp -a "$work/src/.medusa/server" "$root/app"
  chown -R 0:0 "$root/app"
  install -d -o 1000 -g 1000 -m 0755 "$root/app/static"
  install -m 0755 "$HERE/medusa/npx" "$root/usr/local/bin/npx"
  slim "$root"
  mapfile -t labels < <(debian_labels "$root")
  pack medusa "$root" "$out" "${labels[@]}" \
    --config.label "dev.urumi.medusa.version=$MEDUSA_VERSION" \
    --config.label "dev.urumi.medusa.built-with=node $(node --version), npm $(npm --version)" \
    --config.user 1000:1000 --config.workingdir /app \
    --config.env "PATH=$PATH_DEFAULT" --config.env NODE_ENV=production \
    --config.env MEDUSA_DISABLE_TELEMETRY=true --config.env HOME=/tmp \
    --config.env npm_config_cache=/tmp/.npm --config.env npm_config_update_notifier=false \
    --config.cmd npx --config.cmd --no --config.cmd medusa --config.cmd start \
    --config.exposedports 9000/tcp
}

# The official mariadb image's contract (env, first-start initialisation,
# healthcheck.sh) on Debian's mariadb-server, by our own mariadb/entrypoint.sh
# and mariadb/healthcheck.sh; user mysql 999:999; writes only /var/lib/mysql,
# /run/mysqld and /tmp.
build_mariadb() {
  local work=$1 out=$2 root=$1/rootfs labels
  debootstrap "$root" --include=mariadb-server \
    --essential-hook="$(user_hook mysql 999 /var/lib/mysql /usr/sbin/nologin)"
  require_upstream "$root" mariadb-server "$MARIADB_VERSION"
  # mariadb-server's postinst initialised a datadir: the image's stays empty.
  rm -rf "$root/var/lib/mysql"
  install -d -o 999 -g 999 -m 0755 "$root/var/lib/mysql" "$root/run/mysqld"
  install -m 0644 "$HERE/mariadb/urumi.cnf" "$root/etc/mysql/mariadb.conf.d/99-urumi.cnf"
  install -m 0755 "$HERE/mariadb/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  install -m 0755 "$HERE/mariadb/healthcheck.sh" "$root/usr/local/bin/healthcheck.sh"
  slim "$root"
  loopback_names "$root"
  mapfile -t labels < <(debian_labels "$root")
  pack mariadb "$root" "$out" "${labels[@]}" \
    --config.user 999:999 --config.workingdir / \
    --config.env "PATH=$PATH_DEFAULT" --config.env LANG=C.UTF-8 \
    --config.entrypoint docker-entrypoint.sh --config.cmd mariadbd \
    --config.exposedports 3306/tcp --config.volume /var/lib/mysql
}

# The official wordpress:*-apache image's contract on Debian's wordpress,
# apache2 and libapache2-mod-php: /usr/src/wordpress copied into the (empty)
# /var/www/html volume and wp-config.php from WORDPRESS_* by our own
# wordpress/entrypoint.sh; Apache in the foreground on port 80 as www-data
# (33:33), logging to stdout/stderr, writing only /var/www/html, /tmp,
# /var/run/apache2 and /var/lock/apache2.
build_wordpress() {
  local work=$1 out=$2 root=$1/rootfs php=php$PHP_VERSION src labels ext pkgs
  pkgs="apache2,libapache2-mod-$php,wordpress,wordpress-theme-twentytwentyfive"
  for ext in mysql curl gd intl mbstring xml zip bcmath opcache; do pkgs+=",$php-$ext"; done
  debootstrap "$root" --include="$pkgs"
  require_upstream "$root" wordpress "$WORDPRESS_VERSION"
  # /usr/src/wordpress: Debian's WordPress with its symlinks into Debian's
  # libraries resolved (the volume must stand alone: the setup Job's wp-cli
  # image has none of them), without Debian's wp-config.php (a loader of
  # /etc/wordpress/config-HOST.php). /usr/share/wordpress goes (-73 MB): the
  # image serves only the copy in the volume.
  src=$root/usr/src/wordpress
  chroot "$root" cp -rL /usr/share/wordpress /usr/src/wordpress
  rm -rf "$root/usr/share/wordpress"
  rm -f "$src/wp-config.php" "$src/.htaccess"
  install -m 0644 "$HERE/wordpress/htaccess" "$src/.htaccess"
  install -m 0644 "$HERE/wordpress/wp-config-docker.php" "$src/wp-config-docker.php"
  [[ -z "$(find "$src" -type l)" ]] || die "symlinks left in /usr/src/wordpress: $(find "$src" -type l | head -3)"
  [[ -d "$src/wp-content/themes/twentytwentyfive" ]] || die "no theme twentytwentyfive in /usr/src/wordpress"
  rm -rf "$root/var/www/html"; install -d -o 33 -g 33 "$root/var/www/html"
  chroot "$root" a2enmod -q rewrite expires remoteip >&2
  install -m 0644 "$HERE/wordpress/apache.conf" "$root/etc/apache2/conf-available/urumi-wordpress.conf"
  chroot "$root" a2enconf -q urumi-wordpress >&2
  sed -i '/^[[:space:]]*LogFormat/s/%h/%a/g' "$root/etc/apache2/apache2.conf"
  # Never run here (-130 MB): the MariaDB client that wordpress depends on
  # (the setup Job's wp-cli image has its own), and Perl, which only a2enmod
  # and debconf use, at build time.
  chroot "$root" dpkg --purge --force-depends default-mysql-client mariadb-client-compat \
    mariadb-client mariadb-client-core libconfig-inifiles-perl perl perl-modules-5.40 libperl5.40 >&2
  install -m 0644 "$HERE/wordpress/php.ini" "$root/etc/php/$PHP_VERSION/apache2/conf.d/90-urumi.ini"
  install -m 0644 "$HERE/wordpress/php.ini" "$root/etc/php/$PHP_VERSION/cli/conf.d/90-urumi.ini"
  install -m 0755 "$HERE/wordpress/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
  install -m 0755 "$HERE/wordpress/apache2-foreground" "$root/usr/local/bin/apache2-foreground"
  slim "$root"
  loopback_names "$root"
  install -d -o 33 -g 33 "$root/run/apache2" "$root/run/lock/apache2"
  install -d "$root/var/log/apache2"
  ln -s /dev/stderr "$root/var/log/apache2/error.log"
  ln -s /dev/stdout "$root/var/log/apache2/access.log"
  ln -s /dev/stdout "$root/var/log/apache2/other_vhosts_access.log"
  mapfile -t labels < <(debian_labels "$root")
  pack wordpress "$root" "$out" "${labels[@]}" \
    --config.label "dev.urumi.wordpress.version=$WORDPRESS_VERSION" \
    --config.user 33:33 --config.workingdir /var/www/html \
    --config.env "PATH=$PATH_DEFAULT" --config.env LANG=C.UTF-8 \
    --config.entrypoint docker-entrypoint.sh --config.cmd apache2-foreground \
    --config.stopsignal SIGWINCH --config.exposedports 80/tcp --config.volume /var/www/html
}

# The client of the charts' backup and restore steps (the official image's
# contract as they use it): rclone and a POSIX shell with sed, run as the
# store's user, HOME and rclone's config in /tmp, the remote from RCLONE_CONFIG_*.
build_rclone() {
  local work=$1 out=$2 root=$1/rootfs labels
  debootstrap "$root" --include=rclone,ca-certificates
  require_upstream "$root" rclone "$RCLONE_VERSION"
  slim "$root"
  mapfile -t labels < <(debian_labels "$root")
  pack rclone "$root" "$out" "${labels[@]}" \
    --config.workingdir / --config.env "PATH=$PATH_DEFAULT" \
    --config.entrypoint rclone
}

# ---- cache and locking ----------------------------------------------------------------

WORKDIRS=()
cleanup() { local d; for d in "${WORKDIRS[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT

# image NAME: prints `<ref> <tar>`, building the tar unless the cache has it.
image() {
  local name=$1 ref key dir tar work start
  ref="$(ref_of "$name")"
  key="$(key_of "$name")"
  dir="$CACHE_ROOT/$name/$key"; tar="$dir/image.tar"
  if [[ ! -f "$tar" ]]; then
    mkdir -p "$CACHE_ROOT/$name"
    # One build per image at a time; a waiting call then finds the result.
    exec {lock}>"$CACHE_ROOT/$name/.lock"
    flock -n "$lock" || { log "$name: another build is running; waiting for it"; flock "$lock"; }
    if [[ ! -f "$tar" ]]; then
      start=$SECONDS
      log "$name: building $ref (key $key)"
      # Left by a build that was killed; no build can be running (we hold the lock).
      rm -rf "$CACHE_ROOT/$name"/.build-*
      work="$(mktemp -d "$CACHE_ROOT/$name/.build-$key.XXXXXX")"
      WORKDIRS+=("$work")
      "build_$name" "$work" "$work/image.tar"
      rm -rf "$dir"; mkdir -p "$dir"
      printf '%s\n' "$ref" >"$dir/ref"
      mv "$work/image.tar" "$tar"
      rm -rf "$work"
      log "$name: built in $((SECONDS - start))s, $(du -h "$tar" | cut -f1): $tar"
      prune "$name" "$key"
    fi
    exec {lock}>&-
  else
    log "$name: up to date: $tar"
  fi
  printf '%s %s\n' "$ref" "$tar"
}

# Drops builds of NAME for other inputs not rebuilt for two weeks.
prune() {
  find "$CACHE_ROOT/$1" -mindepth 1 -maxdepth 1 -type d ! -name "$2" ! -name '.*' -mtime +14 \
    -exec rm -rf {} + 2>/dev/null || true
}

preflight() {
  local tool
  for tool in "$@"; do command -v "$tool" >/dev/null || die "$tool not found"; done
}

main() {
  local names=("$@") name
  [[ $# -gt 0 ]] || names=("${ALL_IMAGES[@]}")
  for name in "${names[@]}"; do ref_of "$name" >/dev/null; done
  preflight umoci jq flock tar sha256sum
  for name in "${names[@]}"; do
    case "$name" in
      pause) preflight gcc ;;
      busybox) [[ -x /bin/busybox ]] || die "/bin/busybox not found: apt-get install busybox-static" ;;
      medusa) preflight mmdebstrap node npm ;;
      *) preflight mmdebstrap ;;
    esac
  done
  for name in "${names[@]}"; do image "$name"; done
}

main "$@"
