#!/usr/bin/env bash
# bench_cluster_up: how long `mambogo-cluster up` takes until every pod is Ready, and how that
# compares with starting the same five service binaries by hand and polling /health/ready
# (the least any launcher can do). Goals (issue 5): embedded under 3 s, full under 10 s.
#   run.sh <mambogo-cluster> <bin dir with mambogo-*>
set -uo pipefail
cluster=$1 bin=$2
rounds=${ROUNDS:-3}
command -v curl >/dev/null || { echo "curl missing: skipped"; exit 77; }
source "$(dirname "$0")/../lib.sh"
work=$(mktemp -d) && chmod 755 "$work"  # the full profile's postgres user must reach it
trap '"$cluster" down --state-dir "$work/state" >/dev/null 2>&1; pkill -P $$ 2>/dev/null; rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Reference: the services started directly (SQLite, no Redis), each polled until ready.
direct_start() {
  local pids=() ports=() start end svc port
  start=$(now_ms)
  for svc in product cart order payment gateway; do
    port=$(free_port)
    mkdir -p "$work/direct/$svc"
    SERVER_ADDRESS=127.0.0.1 SERVER_PORT=$port DATA_DIR="$work/direct/$svc" ACCESS_LOG=false \
      AUTH_HS256_SECRET=bench-secret-0123456789abcdef0123456789 GATEWAY_RATELIMIT_ENABLED=false \
      "$bin/mambogo-$svc" >/dev/null 2>&1 &
    pids+=($!) ports+=("$port")
  done
  for port in "${ports[@]}"; do
    until curl -fs -o /dev/null "http://127.0.0.1:$port/health/live"; do sleep 0.01; done
  done
  end=$(now_ms)
  kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
  rm -rf "$work/direct"
  echo $((end - start))
}

# `up` in the background mode returns when every pod is Ready.
cluster_up() {  # $1 profile, $2 cold|warm
  local start end
  [ "$2" = cold ] && rm -rf "$work/state"
  start=$(now_ms)
  if ! "$cluster" up --profile "$1" --state-dir "$work/state" --api-port 0 --ip-prefix 127.77 >"$work/up.log" 2>&1; then
    echo "up failed:" >&2; tail -5 "$work/up.log" >&2; echo -1; return
  fi
  end=$(now_ms)
  "$cluster" down --state-dir "$work/state" >/dev/null
  echo $((end - start))
}

direct=$(for ((i = 0; i < rounds; i++)); do direct_start; done | median)
printf '%-28s %8s ms\n' "direct start (reference)" "$direct"
for profile in embedded full; do
  if [ "$profile" = full ] && ! command -v redis-server >/dev/null; then echo "full: redis-server missing, skipped"; continue; fi
  for state in cold warm; do
    "$cluster" up --profile "$profile" --state-dir "$work/state" --api-port 0 --ip-prefix 127.77 >/dev/null 2>&1 &&
      "$cluster" down --state-dir "$work/state" >/dev/null  # warm-up round: page cache, first initdb
    ms=$(for ((i = 0; i < rounds; i++)); do cluster_up "$profile" "$state"; done | median)
    printf '%-28s %8s ms   ratio to direct start %s\n' "up, $profile, $state state" "$ms" \
      "$(awk -v a="$ms" -v b="$direct" 'BEGIN {printf "%.2fx", a / b}')"
  done
done
echo "goals: embedded < 3000 ms, full < 10000 ms (cold state: the primary's first start, initdb or the"
echo "  template it left in the cache dir after the warm-up round, its init scripts, and the replica's base backup)"
