#!/usr/bin/env bash
# Gateway benchmark: GET /hello on one backend (mambogo-demo, 2-byte body) reached three ways,
#   gateway  mambogo-gateway with authentication (a long-lived RS256 token verified on every
#            request), Redis rate limiting (Spring's script on a real redis-server, a limit far
#            above the load) and the route's circuit breaker, all on;
#   nginx    proxy_pass with upstream keep-alive;
#   haproxy  a plain HTTP proxy with connection reuse (skipped when HAProxy is not installed);
# all driven by the same `wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency` carrying the same
# Authorization header, in ALTERNATING rounds (gateway, nginx, haproxy, gateway, ...) within one
# run. Reported: median requests/s, p50 and p99 over the rounds, the CPU each proxy process
# spent per request (and, for the gateway, Redis's share: the rate limiter's price), and the
# gateway's ratios to each proxy two ways: the ratio of the medians, and the median of the
# per-round ratios (each pair ran seconds apart, so a machine drifting over the run sways it
# less). The issue's goal (gateway >= 1.0x nginx throughput, p99 no worse) is reported MET when
# both say so, NOT MET when neither does, UNDECIDED otherwise: timing never fails the run.
# On this kind of shared VM nginx and HAProxy switch between two modes (~24k and ~36k req/s for
# nginx, with its CPU per request 40 vs 25 us) from one round to the next; more rounds give
# the medians a fairer draw.
#
# CPU pinning (BENCH_PIN=1, the default with taskset and 2+ CPUs): the proxy under test, and
# the gateway's Redis with it, run on the upper half of the CPUs; wrk and the backend on the
# lower half. Unpinned, the scheduler's placement of four busy processes on two cores made
# every proxy's throughput bimodal from round to round (+-20%), swamping the differences
# measured. Redis sharing the proxy's CPUs is the strict reading: the gateway's rate-limit
# store is paid for out of the same cores nginx gets. BENCH_PIN=0 turns it off.
#
# Fairness: the same number of event-loop threads for all three (gateway SERVER_IO_THREADS,
# nginx worker_processes, HAProxy nbthread = BENCH_WORKERS; the gateway's upstream exchanges and
# Redis calls run on those threads, its client's own thread only carries retries), keep-alive to
# the backend for all three, access logs off for all three, the same backend and wrk command.
#
#   bash tests/bench/gateway/run.sh build/dev/cluster/gateway/mambogo-gateway \
#        build/dev/cluster/demo/mambogo-demo build/dev/cluster/gateway/mambogo-token
#   ctest --test-dir build/dev -L bench -R bench_gateway -V
#
# Exit codes: 0 ran (whatever the numbers), 77 skipped (nginx, wrk or redis-server missing),
# 1 something could not run.
# Knobs: BENCH_ROUNDS (9), BENCH_DURATION (2s: short rounds, so each pair runs close in time), BENCH_CONNECTIONS (32), BENCH_THREADS (1),
# BENCH_WORKERS ("1": gateway/backend I/O threads, nginx workers, HAProxy threads), BENCH_WARMUP
# (1s; 0 disables), BENCH_KEEP_TMP=1 keeps configs, logs and raw wrk output, BENCH_GATEWAY_ENV
# extra VAR=value settings for the gateway (e.g. "GATEWAY_RATELIMIT_ENABLED=false" to price one
# feature), BENCH_PIN (1; 0: no CPU pinning, see above), BENCH_BARE (1: also run "gw-bare", the
# same gateway binary on a public route with no rate limit and no breaker, so the table shows what
# the proxy core costs and what auth + rate limiting + breaker add to it; 0 skips it).
set -u -o pipefail

readonly SKIP=77
ROUNDS=${BENCH_ROUNDS:-9}
DURATION=${BENCH_DURATION:-2s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
WORKERS=${BENCH_WORKERS:-1}
WARMUP=${BENCH_WARMUP:-1s}
PIN=${BENCH_PIN:-1}
BARE=${BENCH_BARE:-1}

log() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

GATEWAY=${1:-}; DEMO=${2:-}; TOKEN_TOOL=${3:-}
[[ -x "$GATEWAY" && -x "$DEMO" && -x "$TOKEN_TOOL" ]] \
  || die "usage: $0 <mambogo-gateway> <mambogo-demo> <mambogo-token> (build them first)"
find_bin() { command -v "$1" 2>/dev/null || { [[ -x /usr/sbin/$1 ]] && echo "/usr/sbin/$1"; } || true; }
NGINX=$(find_bin nginx); WRK=$(find_bin wrk); REDIS=$(find_bin redis-server); HAPROXY=$(find_bin haproxy)
missing=0
[[ -n "$NGINX" ]] || { log "SKIPPED: nginx is not installed"; missing=1; }
[[ -n "$WRK" ]] || { log "SKIPPED: wrk is not installed"; missing=1; }
[[ -n "$REDIS" ]] || { log "SKIPPED: redis-server is not installed"; missing=1; }
((missing == 0)) || exit $SKIP
[[ -n "$HAPROXY" ]] || log "HAProxy is not installed: its column is skipped (apt-get install haproxy)"
CURL=$(command -v curl || true)
CPUS=$(nproc)
LOAD_ON=(); PROXY_ON=()
if [[ "$PIN" == 1 && $CPUS -ge 2 ]] && command -v taskset >/dev/null; then
  half=$((CPUS / 2))
  LOAD_ON=(taskset -c "0-$((half - 1))"); PROXY_ON=(taskset -c "$half-$((CPUS - 1))")
  PINNING="proxy (+ redis) on CPUs $half-$((CPUS - 1)), wrk + backend on CPUs 0-$((half - 1))"
else
  PINNING="not pinned"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mambogo-bench-gateway.XXXXXX") || die "cannot create a temp dir"
PIDS=()
WRK_PID=""
cleanup() {
  [[ -n "$WRK_PID" ]] && { kill -TERM "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; }
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Shared helpers: free_port.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# wait_port <port> <pid> <name>: up to 10 s for a listener.
wait_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$3 exited during start-up (logs in $TMP)"
    sleep 0.1
  done
  die "$3 did not listen on $1 within 10 s"
}

# A runtime service's port from its "started" log line.
started_port() {
  local out=$1 pid=$2 name=$3 i port
  for ((i = 0; i < 100; i++)); do
    port=$(grep -m1 -o '"msg":"started".*"port":[0-9]*' "$out" | grep -o '"port":[0-9]*' | cut -d: -f2)
    [[ -n "$port" ]] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; die "$name exited during start-up"; }
    sleep 0.1
  done
  die "$name did not report its port within 10 s"
}

check_ok() {  # check_ok <port> <name>: GET /hello through it answers 200 "ok"
  [[ -n "$CURL" ]] || return 0
  local body
  body=$("$CURL" -s -H "Authorization: Bearer $TOKEN" -o - -w ' %{http_code}' "http://127.0.0.1:$1/hello") \
    || die "$2: GET /hello failed"
  [[ "$body" == "ok 200" ]] || die "$2: GET /hello answered '$body', expected 'ok 200'"
}

# ---- start everything ------------------------------------------------------------------------
"$TOKEN_TOOL" keygen --out "$TMP/keys.json" 2>/dev/null || die "mambogo-token keygen failed"
TOKEN=$("$TOKEN_TOOL" issue --keys "$TMP/keys.json" --sub bench-user --roles user --ttl 7d) \
  || die "mambogo-token issue failed"

REDIS_PORT=$(free_port) || die "no free port"
"${PROXY_ON[@]}" "$REDIS" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$TMP" \
  >"$TMP/redis.log" 2>&1 &
PIDS+=($!); wait_port "$REDIS_PORT" "$!" redis-server
REDIS_PID=$!

SERVER_ADDRESS=127.0.0.1 SERVER_PORT=0 SERVER_IO_THREADS="$WORKERS" ACCESS_LOG=false \
  SHUTDOWN_GRACE=5s "${LOAD_ON[@]}" "$DEMO" >"$TMP/demo.log" 2>&1 &
PIDS+=($!); DEMO_PORT=$(started_port "$TMP/demo.log" "$!" mambogo-demo)

cat >"$TMP/routes.json" <<JSON
{"routes": [{"id": "hello", "paths": ["/hello"], "service": "demo", "access": "user",
             "rateLimit": {"enabled": true, "replenishRate": 100000000, "burstCapacity": 100000000},
             "circuitBreaker": {"enabled": true}}]}
JSON
# start_gateway <routes file> <name>: a mambogo-gateway on the demo and Redis above, its log in
# $TMP/<name>.log; sets STARTED_PID and STARTED_PORT.
start_gateway() {
  AUTH_KEYS_FILE="$TMP/keys.json" GATEWAY_ROUTES_FILE="$1" \
    DEMO_URL="http://127.0.0.1:$DEMO_PORT" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
    SERVER_ADDRESS=127.0.0.1 SERVER_PORT=0 SERVER_IO_THREADS="$WORKERS" GATEWAY_CLIENT_IO_THREADS="$WORKERS" \
    ACCESS_LOG=false GATEWAY_ACCESS_LOG=false SHUTDOWN_GRACE=5s "${PROXY_ON[@]}" env ${BENCH_GATEWAY_ENV:-} "$GATEWAY" \
    >"$TMP/$2.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  STARTED_PORT=$(started_port "$TMP/$2.log" "$STARTED_PID" "$2")
  check_ok "$STARTED_PORT" "$2"
}
start_gateway "$TMP/routes.json" gateway
GATEWAY_PID=$STARTED_PID; GATEWAY_PORT=$STARTED_PORT
if [[ " ${BENCH_GATEWAY_ENV:-} " != *GATEWAY_RATELIMIT_ENABLED=false* ]]; then
  "$CURL" -s -i -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/hello" | grep -qi '^X-RateLimit-Remaining: [0-9]' \
    || die "gateway: the rate limiter is not answering (X-RateLimit-Remaining missing)"
fi

if [[ "$BARE" == 1 ]]; then
  cat >"$TMP/routes-bare.json" <<JSON
{"routes": [{"id": "hello", "paths": ["/hello"], "service": "demo", "access": "public",
             "rateLimit": {"enabled": false}, "circuitBreaker": {"enabled": false}}]}
JSON
  start_gateway "$TMP/routes-bare.json" gw-bare
  BARE_PID=$STARTED_PID; BARE_PORT=$STARTED_PORT
fi

NGINX_PORT=$(free_port) || die "no free port"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
$([[ $(id -u) == 0 ]] && echo "user root;")
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/client_body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 100000000;
  upstream backend { server 127.0.0.1:$DEMO_PORT; keepalive 64; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
CONF
"${PROXY_ON[@]}" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" >"$TMP/nginx/stdout.log" 2>&1 &
PIDS+=($!); wait_port "$NGINX_PORT" "$!" nginx
NGINX_PID=$!
check_ok "$NGINX_PORT" nginx

SERVERS="gateway nginx"
[[ "$BARE" == 1 ]] && SERVERS="gateway gw-bare nginx"
if [[ -n "$HAPROXY" ]]; then
  HAPROXY_PORT=$(free_port) || die "no free port"
  cat >"$TMP/haproxy.cfg" <<CONF
global
  nbthread $WORKERS
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  http-reuse always
frontend in
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend backend
backend backend
  option forwardfor
  server demo 127.0.0.1:$DEMO_PORT
CONF
  "${PROXY_ON[@]}" "$HAPROXY" -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
  PIDS+=($!); wait_port "$HAPROXY_PORT" "$!" haproxy
  HAPROXY_PID=$!
  check_ok "$HAPROXY_PORT" haproxy
  SERVERS="$SERVERS haproxy"
fi

# ---- wrk -------------------------------------------------------------------------------------
run_wrk() {  # run_wrk <port> <duration> <output>; sets RPS, P50, P99 (ms) and ERRS
  local parsed
  "${LOAD_ON[@]}" "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$1/hello" >"$3" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || { WRK_PID=""; cat "$3" >&2; die "wrk failed against port $1"; }
  WRK_PID=""
  parsed=$(awk '
    function to_ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000
      if (u == "ms") return n
      if (u == "s")  return n * 1000
      return -1
    }
    /^Requests\/sec:/ { rps = $2 }
    /^[ \t]+50(\.0+)?%[ \t]/ { p50 = to_ms($2) }
    /^[ \t]+99(\.0+)?%[ \t]/ { p99 = to_ms($2) }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    /Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
    END {
      if (rps == "" || p50 == "" || p99 == "" || p99 < 0) exit 1
      printf "%s %.4f %.4f %d\n", rps, p50, p99, errs
    }' "$3") || { cat "$3" >&2; die "cannot parse wrk output ($3)"; }
  read -r RPS P50 P99 ERRS <<<"$parsed"
}
# CPU ticks (user + system) of a process and its children (nginx's workers).
cpu_ticks() {
  local pid sum=0 t
  for pid in "$1" $(pgrep -P "$1" 2>/dev/null); do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) && sum=$((sum + t))
  done
  echo "$sum"
}
pid_of() { case $1 in gateway) echo "$GATEWAY_PID" ;; gw-bare) echo "$BARE_PID" ;; nginx) echo "$NGINX_PID" ;; haproxy) echo "$HAPROXY_PID" ;; esac; }
HZ=$(getconf CLK_TCK)
# us_per_request <ticks> <req/s> <duration>: CPU microseconds per request.
us_per_request() { awk -v t="$1" -v r="$2" -v d="${3%s}" -v hz="$HZ" 'BEGIN { printf "%.1f", (r > 0 ? t / hz * 1e6 / (r * d) : 0) }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
port_of() { case $1 in gateway) echo "$GATEWAY_PORT" ;; gw-bare) echo "$BARE_PORT" ;; nginx) echo "$NGINX_PORT" ;; haproxy) echo "$HAPROXY_PORT" ;; esac; }

log "gateway: $GATEWAY (auth RS256 + Redis rate limit + breaker), backend: mambogo-demo /hello"
log "nginx:   $("$NGINX" -v 2>&1 | head -1)"
[[ -n "$HAPROXY" ]] && log "haproxy: $("$HAPROXY" -v 2>&1 | head -1)"
log "load:    wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS alternating rounds, workers $WORKERS, $CPUS CPUs, $PINNING"
if [[ "$WARMUP" != 0 ]]; then
  for s in $SERVERS; do run_wrk "$(port_of "$s")" "$WARMUP" "$TMP/warmup-$s.txt"; done
fi
declare -A R_RPS R_P50 R_P99 R_CPU ERRORS
R_REDIS=""
for ((r = 1; r <= ROUNDS; r++)); do
  for s in $SERVERS; do
    before=$(cpu_ticks "$(pid_of "$s")"); redis_before=$(cpu_ticks "$REDIS_PID")
    run_wrk "$(port_of "$s")" "$DURATION" "$TMP/wrk-$s-r$r.txt"
    cpu=$(us_per_request $(($(cpu_ticks "$(pid_of "$s")") - before)) "$RPS" "$DURATION")
    redis_cpu=$(us_per_request $(($(cpu_ticks "$REDIS_PID") - redis_before)) "$RPS" "$DURATION")
    printf '[bench] round %d/%d %-8s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6s us/req%s%s\n' "$r" "$ROUNDS" "$s" \
      "$RPS" "$P50" "$P99" "$cpu" "$([[ $s == gateway ]] && echo " (+ redis $redis_cpu)")" \
      "$( ((ERRS > 0)) && echo "  ($ERRS errors/non-2xx)")"
    R_RPS[$s]+=" $RPS"; R_P50[$s]+=" $P50"; R_P99[$s]+=" $P99"; R_CPU[$s]+=" $cpu"
    [[ $s == gateway ]] && R_REDIS+=" $redis_cpu"
    ERRORS[$s]=$(( ${ERRORS[$s]:-0} + ERRS ))
  done
done

# ---- report ----------------------------------------------------------------------------------
echo
echo "Gateway benchmark: GET /hello via each proxy to one mambogo-demo, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $ROUNDS alternating rounds, workers $WORKERS, $CPUS CPUs, $PINNING"
printf '%-8s | %12s | %10s | %10s | %14s | %s\n' proxy "req/s" "p50" "p99" "CPU us/req" "errors"
printf '%s\n' "---------+--------------+------------+------------+----------------+-------"
declare -A M_RPS M_P50 M_P99
for s in $SERVERS; do
  M_RPS[$s]=$(median <<<"${R_RPS[$s]}"); M_P50[$s]=$(median <<<"${R_P50[$s]}"); M_P99[$s]=$(median <<<"${R_P99[$s]}")
  printf '%-8s | %12.0f | %7.3f ms | %7.3f ms | %14s | %s\n' "$s" "${M_RPS[$s]}" "${M_P50[$s]}" "${M_P99[$s]}" \
    "$(median <<<"${R_CPU[$s]}")" "${ERRORS[$s]}"
done
echo "(CPU us/req: the proxy process alone, median; the gateway's Redis adds $(median <<<"$R_REDIS") us/req in redis-server)"
if [[ " $SERVERS " == *" gw-bare "* ]]; then
  awk -v a="${M_RPS[gateway]}" -v b="${M_RPS[gw-bare]}" -v n="${M_RPS[nginx]}" \
      -v ca="$(median <<<"${R_CPU[gateway]}")" -v cb="$(median <<<"${R_CPU[gw-bare]}")" -v cr="$(median <<<"$R_REDIS")" 'BEGIN {
    printf "(gw-bare: the same gateway on a public route, no rate limit, no breaker: its core is %.3fx nginx;\n", b / n
    printf " with auth + rate limit + breaker on it keeps %.2fx of that, at +%.1f us/req in the gateway and +%s in Redis)\n", a / b, ca - cb, cr }'
fi
echo
for ref in nginx haproxy; do
  [[ " $SERVERS " == *" $ref "* ]] || { echo "gateway/haproxy: skipped (HAProxy not installed)"; continue; }
  awk -v a="${M_RPS[gateway]}" -v b="${M_RPS[$ref]}" -v c="${M_P50[gateway]}" -v d="${M_P50[$ref]}" \
      -v e="${M_P99[gateway]}" -v f="${M_P99[$ref]}" -v ref="$ref" 'BEGIN {
    printf "gateway/%s: throughput %.3f, p50 %.3f, p99 %.3f\n", ref, a / b, (d > 0 ? c / d : 0), (f > 0 ? e / f : 0) }'
  # Each round's pair ran seconds apart: the median of the per-round ratios is less swayed by the
  # shared machine drifting over the run than the ratio of the medians above.
  pair_rps=$(paste -d' ' <(tr ' ' '\n' <<<"${R_RPS[gateway]}" | grep -v '^$') <(tr ' ' '\n' <<<"${R_RPS[$ref]}" | grep -v '^$') \
             | awk '$2 > 0 { printf " %.4f", $1 / $2 }')
  pair_p99=$(paste -d' ' <(tr ' ' '\n' <<<"${R_P99[gateway]}" | grep -v '^$') <(tr ' ' '\n' <<<"${R_P99[$ref]}" | grep -v '^$') \
             | awk '$2 > 0 { printf " %.4f", $1 / $2 }')
  printf '  paired, median of %d per-round ratios: throughput %.3f, p99 %.3f\n' "$ROUNDS" \
    "$(median <<<"$pair_rps")" "$(median <<<"$pair_p99")"
  [[ $ref == nginx ]] && { PAIRED_RPS=$(median <<<"$pair_rps"); PAIRED_P99=$(median <<<"$pair_p99"); }
done
# MET when both estimators say so, NOT MET when neither does; otherwise the run could not tell.
met=$(awk -v a="${M_RPS[gateway]}" -v b="${M_RPS[nginx]}" -v e="${M_P99[gateway]}" -v f="${M_P99[nginx]}" \
          -v pr="$PAIRED_RPS" -v pp="$PAIRED_P99" 'BEGIN {
        m = (a / b >= 1.0 && e <= f) + (pr >= 1.0 && pp <= 1.0)
        print m == 2 ? "MET" : m == 0 ? "NOT MET" : "UNDECIDED (one estimator met, the other not: within this run'"'"'s noise)" }')
echo "Goal (gateway with auth + rate limit + breaker >= 1.0x nginx proxy throughput, p99 no worse): $met"
echo "(throughput ratio higher is better; latency ratios lower is better; timing never fails this benchmark)"
exit 0
