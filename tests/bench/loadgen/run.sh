#!/usr/bin/env bash
# Load-generator benchmark: mambogo-load against wrk, both driving the same nginx page
# (GET /hello -> 2-byte body) on 127.0.0.1 in the same run.
#
#   bash tests/bench/loadgen/run.sh build/dev/app/load/mambogo-load
#
# 1. Maximum throughput: `wrk -t1 -c32 -d5s` and `mambogo-load bench -t1 -c32 -d5s` (closed
#    model, full corrected + uncorrected histograms on), in ALTERNATING rounds; reported: the
#    median requests/s of each and the ratio mambogo-load/wrk (goal >= 1.0).
# 2. Rate accuracy: `mambogo-load bench -R <rate>` (open model) at BENCH_RATES; reported: the
#    achieved rate over the target (goal: within 1 %) and the corrected p99.
# Timing never fails this script. Exit codes: 0 ran, 77 skipped (nginx missing; wrk missing
# only skips part 1), 1 something could not run.
#
# Knobs: BENCH_ROUNDS (3), BENCH_DURATION (5s), BENCH_CONNECTIONS (32), BENCH_RATES
# ("1000 5000"), BENCH_KEEP_TMP=1 keeps the temporary directory.
set -u -o pipefail

readonly SKIP=77
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RATES=${BENCH_RATES:-"1000 5000"}

log() { printf '[loadgen] %s\n' "$*"; }
die() { printf '[loadgen] ERROR: %s\n' "$*" >&2; exit 1; }

LOAD=${1:-}
[[ -x "$LOAD" ]] || die "usage: $0 <path to mambogo-load> (build it first)"
NGINX=$(command -v nginx || true)
[[ -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n "$NGINX" ]] || { log "SKIPPED: nginx is not installed"; exit $SKIP; }
WRK=$(command -v wrk || true)
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mambogo-bench-loadgen.XXXXXX") || die "cannot create a temp dir"
NGINX_PID=""
CHILD_PID=""
cleanup() {
  [[ -n "$CHILD_PID" ]] && { kill -TERM "$CHILD_PID" 2>/dev/null; wait "$CHILD_PID" 2>/dev/null; }
  if [[ -n "$NGINX_PID" ]]; then
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
  fi
  if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Shared helpers: free_port.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

start_nginx() {
  local prefix="$TMP/nginx" user_line="" attempt i
  mkdir -p "$prefix/logs" "$prefix/tmp"
  [[ $(id -u) == 0 ]] && user_line="user root;"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    PORT=$(free_port) || die "no free loopback port"
    cat >"$prefix/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/client_body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$PORT;
    location = /hello { default_type "text/plain; charset=utf-8"; return 200 "ok"; }
  }
}
CONF
    "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" >"$prefix/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    for ((i = 0; i < 50; i++)); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
      sleep 0.1
    done
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
    grep -q "Address already in use" "$prefix/logs/error.log" 2>/dev/null && continue
    cat "$prefix/logs/error.log" >&2
    die "nginx did not start"
  done
  die "nginx could not bind a free port"
}

# run_bg <output> <command...>: runs in the background so an interrupt is handled at once.
run_bg() {
  local out=$1; shift
  "$@" >"$out" 2>&1 &
  CHILD_PID=$!
  wait "$CHILD_PID" || { CHILD_PID=""; cat "$out" >&2; return 1; }
  CHILD_PID=""
}

rps_of() { awk '/^Requests\/sec:/ { print $2; found = 1 } END { exit !found }' "$1"; }
p99_of() { awk '/^ *99\.000%/ { print $2; exit }' "$1"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_nginx
URL="http://127.0.0.1:$PORT/hello"
log "nginx on $URL; $(nproc) CPUs; mambogo-load: $LOAD"

echo
echo "== 1. maximum throughput (closed model, $CONNECTIONS connections, 1 thread, $DURATION, median of $ROUNDS alternating rounds)"
if [[ -z "$WRK" ]]; then
  log "wrk is not installed (apt-get install wrk): throughput comparison skipped"
else
  run_bg "$TMP/warm.txt" "$LOAD" bench "$URL" -t1 -c"$CONNECTIONS" -d1s -q || die "mambogo-load failed"
  run_bg "$TMP/warm-wrk.txt" "$WRK" -t1 -c"$CONNECTIONS" -d1s "$URL" || die "wrk failed"
  ours="" theirs=""
  for ((r = 1; r <= ROUNDS; r++)); do
    run_bg "$TMP/load-$r.txt" "$LOAD" bench "$URL" -t1 -c"$CONNECTIONS" -d"$DURATION" -q || die "mambogo-load failed"
    run_bg "$TMP/wrk-$r.txt" "$WRK" -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$URL" || die "wrk failed"
    a=$(rps_of "$TMP/load-$r.txt") || die "cannot parse mambogo-load output"
    b=$(rps_of "$TMP/wrk-$r.txt") || die "cannot parse wrk output"
    printf '[loadgen] round %d/%d  mambogo-load %10.0f req/s   wrk %10.0f req/s\n' "$r" "$ROUNDS" "$a" "$b"
    ours+=" $a" theirs+=" $b"
  done
  mo=$(median <<<"$ours") mw=$(median <<<"$theirs")
  ratio=$(awk -v a="$mo" -v b="$mw" 'BEGIN { printf "%.3f", a / b }')
  printf 'mambogo-load %.0f req/s, wrk %.0f req/s, ratio %s (goal >= 1.0: %s)\n' "$mo" "$mw" "$ratio" \
    "$(awk -v r="$ratio" 'BEGIN { print (r >= 1.0) ? "MET" : "NOT MET" }')"
fi

echo
echo "== 2. achieved vs target rate (open model, mambogo-load bench -R, $DURATION, in-flight cap $CONNECTIONS)"
printf "%10s | %14s | %8s | %12s | %s\n" target achieved ratio "p99" "within 1%"
for rate in $RATES; do
  run_bg "$TMP/rate-$rate.txt" "$LOAD" bench "$URL" -t1 -c"$CONNECTIONS" -R"$rate" -d"$DURATION" -q || die "mambogo-load -R $rate failed"
  got=$(rps_of "$TMP/rate-$rate.txt") || die "cannot parse mambogo-load output"
  p99=$(p99_of "$TMP/rate-$rate.txt")
  awk -v t="$rate" -v a="$got" -v p="$p99" 'BEGIN {
    r = a / t; printf "%10d | %14.1f | %8.4f | %12s | %s\n", t, a, r, p, (r >= 0.99 && r <= 1.01) ? "yes" : "no" }'
done
echo
echo "(timing never fails this benchmark)"
exit 0
