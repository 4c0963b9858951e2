#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the dev preset and runs every label but
# bench, then builds the unit tests under ASan+UBSan and runs them. Exit code 0 only when both
# runs pass. Tests start (and stop) every server they need on free loopback ports themselves.
set -uo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

packaging/dev/setup.sh || exit 1
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}" CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
if [ "${CI:-}" = "true" ]; then export MAMBOGO_WERROR=ON; else export MAMBOGO_WERROR="${MAMBOGO_WERROR:-OFF}"; fi
jobs=$(nproc)

run_preset() {  # $1 = preset
  echo "== [$1] configure + build"
  cmake --preset "$1" >/dev/null || return 1
  cmake --build --preset "$1" -j "$jobs" || return 1
  echo "== [$1] test"
  ctest --preset "$1" -j "$jobs"
}

status=0
run_preset dev || status=1
run_preset asan || status=1

echo "== test run took $(( $(date +%s) - started )) s"
exit $status
