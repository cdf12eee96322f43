#!/usr/bin/env bash
# System packages the test suite needs beyond Python and Go: Debian's Chromium
# for the dashboard's end-to-end tests. Installs only what is missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "system-deps: chromium is missing; run: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "system-deps: installing chromium (apt)…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
