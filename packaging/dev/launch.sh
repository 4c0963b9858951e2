#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds, and opens the console with the local
# cluster: the Qt desktop app when a display is available, else the terminal UI. The console
# starts mambogo-cluster (profile full when Redis and PostgreSQL are installed, else embedded)
# and stops it when you quit. Extra arguments go to the console (`--tui`, `--kubeconfig F`).
#   MAMBOGO_HEADLESS=1: no console, just `mambogo-cluster up --foreground` (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/../.."
packaging/dev/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"

# As root the state lives in /var/lib (the full profile's PostgreSQL runs as the postgres user,
# which cannot reach anything under /root).
if [ "$(id -u)" = 0 ]; then default_state=/var/lib/mambogo; else default_state=$HOME/.local/share/mambogo; fi
state=${MAMBOGO_STATE_DIR:-$default_state}
mkdir -p "$state" && chmod 755 "$state"
if [ "${MAMBOGO_HEADLESS:-0}" = 1 ]; then
  exec build/dev/simulator/cluster/mambogo-cluster up --foreground --state-dir "$state/cluster"
fi
exec build/dev/app/gui/mambogo --launch-local --state-dir "$state/cluster" "$@"
