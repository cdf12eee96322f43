#!/usr/bin/env bash
# Start a devcluster in DIR, in the foreground. Builds first if needed.
# SIGTERM / Ctrl-C stops every component cleanly.
#
#   deploy/devcluster/run.sh DIR [devcluster up flags...]
#   e.g. deploy/devcluster/run.sh /tmp/dc --apiserver-port 6443
#
# When ready it prints "export KUBECONFIG=DIR/kubeconfig".
set -euo pipefail
if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 DIR [--apiserver-port N] [--nodes N] [--fresh] [--v N]" >&2
  exit 2
fi
DIR="$1"; shift
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BIN="$("$HERE/build.sh" | tail -n 1)"
mkdir -p "$DIR"
# exec: the supervisor receives the signals directly and stops its children.
exec "$BIN/devcluster" up --dir "$DIR" --kwok "$BIN/kwok" "$@"
