#!/usr/bin/env bash
# Runs every test: installs what is missing, builds the dev preset and runs every label but
# bench, then builds the unit tests under ASan+UBSan and runs them. Exit code 0 only when both
# runs pass. Tests start (and stop) every server they need on free loopback ports themselves.
set -uo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

packaging/dev/setup.sh || exit 1
# Artillery (npm), for the load engine's cross-check with an independent client: best effort —
# it needs Node >= 18.16.1 (Debian 12 ships 18.13) and the npm registry; without it that test skips.
tests/bench/artillery_crosscheck/install-artillery.sh >/dev/null 2>&1 ||
  echo "setup: artillery not installed; tst_artillery_crosscheck will skip"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}" CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-20G}"
if [ "${CI:-}" = "true" ]; then export MAMBOGO_WERROR=ON; else export MAMBOGO_WERROR="${MAMBOGO_WERROR:-OFF}"; fi
jobs=$(nproc)
passed=0 failed=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_preset() {  # $1 = preset
  echo "== [$1] configure + build"
  cmake --preset "$1" >/dev/null || return 1
  cmake --build --preset "$1" -j "$jobs" || return 1
  echo "== [$1] test"
  ctest --preset "$1" -j "$jobs" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 12"
  local summary total bad
  summary=$(grep -E '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
  passed=$((passed + ${total:-0} - ${bad:-0})) failed=$((failed + ${bad:-0}))
  return "$rc"
}

run_preset dev || status=1
run_preset asan || status=1

echo "== test run took $(( $(date +%s) - started )) s"
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1  # a build failure is a failure too
echo "all presets: $passed passed, $failed failed"
exit $status
