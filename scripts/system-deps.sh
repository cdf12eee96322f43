#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python, Go and Node.js: Chromium
# for the dashboard's end-to-end tests, and what the devcluster's real node runs
# (containerd, runc, the CNI plugins, iptables) and builds its images with
# (mmdebstrap, umoci, jq, busybox-static, a C compiler for the pause binary),
# plus dig for its DNS checks, and the PostgreSQL server the gateway's tests start
# as a child process (tests/fixtures/postgres.py), and rclone, the S3 client the
# backup tests upload with (tests/fixtures/s3.py). Installs only what is missing.
set -euo pipefail
PACKAGES=(
  chromium
  containerd runc containernetworking-plugins iptables ipset conntrack iproute2 util-linux
  mmdebstrap debootstrap umoci jq busybox-static gcc libc6-dev
  bind9-dnsutils
  postgresql
  rclone
)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: missing ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
# The tests run their own PostgreSQL in a temporary directory: no system cluster
# (postgresql-common would otherwise create and start "main" on port 5432).
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/urumi-no-main.conf
echo "system-deps: installing ${missing[*]} (apt)…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
