#!/usr/bin/env bash
# HTTP server benchmark: the runtime (mambogo-demo, GET /hello -> "ok") against nginx returning
# the same 2-byte body with the same Content-Type, both driven by wrk on 127.0.0.1.
#
# Run by hand (from the repository root, after building):
#   bash tests/bench/http_server/run.sh build/dev/cluster/demo/mambogo-demo
# or through CTest (label "bench", never part of the default test run):
#   ctest --test-dir build/dev -L bench --output-on-failure -V
#   ctest --preset bench                    # release build
#
# For each worker count W (runtime SERVER_IO_THREADS=W, nginx worker_processes W) both servers
# are started, warmed up, then measured in ALTERNATING runs (runtime, nginx, runtime, nginx, ...)
# with `wrk -t1 -c32 -d5s --latency`. Reported: median requests/s and median p99 over the rounds,
# and the ratios runtime/nginx. Goal: throughput ratio >= 1.0 with p99 ratio <= 1.0 at equal
# worker counts. The goal is only reported: timing never fails the run.
#
# Exit codes: 0 ran (whatever the numbers), 77 skipped (nginx or wrk not installed),
# 1 something could not run (demo missing, a server did not start, wrk failed).
#
# Knobs (environment): BENCH_ROUNDS (3), BENCH_DURATION (5s), BENCH_CONNECTIONS (32),
# BENCH_THREADS (1), BENCH_WORKERS ("1 2"), BENCH_WARMUP (1s; "0" disables), BENCH_KEEP_TMP=1
# keeps the temporary directory (configs, logs, raw wrk output) for inspection, BENCH_NGINX and
# BENCH_WRK give the binaries' paths (default: found on PATH).
set -u -o pipefail

readonly SKIP=77
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-5s}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-1}
WORKERS=${BENCH_WORKERS:-"1 2"}
WARMUP=${BENCH_WARMUP:-1s}

log() { printf '[bench] %s\n' "$*"; }
die() { printf '[bench] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- prerequisites -------------------------------------------------------------------------
DEMO=${1:-}
[[ -n "$DEMO" ]] || die "usage: $0 <path to mambogo-demo>"
[[ -x "$DEMO" ]] || die "demo service not found or not executable: $DEMO (build it first)"

NGINX=${BENCH_NGINX:-$(command -v nginx || true)}
[[ -z "${BENCH_NGINX:-}" && -z "$NGINX" && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n "$NGINX" && ! -x "$NGINX" ]] && NGINX=""
WRK=${BENCH_WRK:-$(command -v wrk || true)}
[[ -n "$WRK" && ! -x "$WRK" ]] && WRK=""
if [[ -z "$NGINX" || -z "$WRK" ]]; then
  [[ -z "$NGINX" ]] && log "SKIPPED: nginx is not installed (apt-get install nginx-light or nginx)"
  [[ -z "$WRK" ]] && log "SKIPPED: wrk is not installed (apt-get install wrk)"
  exit $SKIP
fi
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive integer"
CURL=$(command -v curl || true)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mambogo-bench-http.XXXXXX") || die "cannot create a temp dir"
DEMO_PID=""
NGINX_PID=""
WRK_PID=""

# ---- process control -----------------------------------------------------------------------
# Waits up to $2 tenths of a second for pid $1 to exit; returns 1 if it is still alive.
wait_gone() {
  local pid=$1 tries=$2
  while ((tries-- > 0)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null
}

stop_demo() {
  [[ -n "$DEMO_PID" ]] || return 0
  if kill -0 "$DEMO_PID" 2>/dev/null; then
    kill -TERM "$DEMO_PID" 2>/dev/null
    wait_gone "$DEMO_PID" 100 || { log "demo did not exit after SIGTERM, killing it"; kill -KILL "$DEMO_PID" 2>/dev/null; }
  fi
  local rc=0
  wait "$DEMO_PID" 2>/dev/null || rc=$?
  ((rc == 0)) || log "demo exited with status $rc"
  DEMO_PID=""
}

stop_nginx() {
  [[ -n "$NGINX_PID" ]] || return 0
  if kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null   # graceful: the master stops its workers
    wait_gone "$NGINX_PID" 100 || { log "nginx did not exit after SIGQUIT, terminating it"; kill -TERM "$NGINX_PID" 2>/dev/null; wait_gone "$NGINX_PID" 30 || kill -KILL "$NGINX_PID" 2>/dev/null; }
  fi
  wait "$NGINX_PID" 2>/dev/null || true
  NGINX_PID=""
}

cleanup() {
  [[ -n "$WRK_PID" ]] && { kill -TERM "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; }
  stop_demo
  stop_nginx
  if [[ "${BENCH_KEEP_TMP:-0}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Shared helpers: free_port.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# Checks that GET /hello on port $1 answers 200 "ok" text/plain; charset=utf-8.
check_hello() {
  local port=$1 name=$2
  [[ -n "$CURL" ]] || return 0
  local out
  out=$("$CURL" -s -o "$TMP/body" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/hello") \
    || die "$name: GET /hello failed on port $port"
  [[ "$out" == "200 text/plain; charset=utf-8" && "$(cat "$TMP/body")" == ok ]] \
    || die "$name: GET /hello answered '$out' body '$(cat "$TMP/body")', expected 200 text/plain; charset=utf-8 'ok'"
}

# start_demo <io threads>: sets DEMO_PID and DEMO_PORT.
start_demo() {
  local w=$1 out="$TMP/demo-w$1.log" i
  SERVER_ADDRESS=127.0.0.1 SERVER_PORT=0 SERVER_IO_THREADS="$w" ACCESS_LOG=false \
    LOG_LEVEL=info SHUTDOWN_GRACE=5s "$DEMO" >"$out" 2>&1 &
  DEMO_PID=$!
  DEMO_PORT=""
  for ((i = 0; i < 100; i++)); do
    DEMO_PORT=$(grep -m1 -o '"msg":"started".*"port":[0-9]*' "$out" | grep -o '"port":[0-9]*' | cut -d: -f2)
    [[ -n "$DEMO_PORT" ]] && break
    kill -0 "$DEMO_PID" 2>/dev/null || { cat "$out" >&2; DEMO_PID=""; die "demo exited during start-up"; }
    sleep 0.1
  done
  [[ -n "$DEMO_PORT" ]] || { cat "$out" >&2; die "demo did not report its port within 10 s"; }
  check_hello "$DEMO_PORT" runtime
}

# start_nginx <worker processes>: sets NGINX_PID and NGINX_PORT.
start_nginx() {
  local w=$1 prefix="$TMP/nginx-w$1" attempt i user_line=""
  mkdir -p "$prefix/logs" "$prefix/tmp"
  [[ $(id -u) == 0 ]] && user_line="user root;"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    NGINX_PORT=$(free_port) || die "no free loopback port found"
    cat >"$prefix/nginx.conf" <<EOF
$user_line
worker_processes $w;
daemon off;
master_process on;
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
  keepalive_requests 100000000;   # the runtime never closes a busy keep-alive connection
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /hello {
      default_type "text/plain; charset=utf-8";
      return 200 "ok";
    }
  }
}
EOF
    : >"$prefix/logs/error.log"
    "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" \
      >"$prefix/logs/stdout.log" 2>&1 &
    NGINX_PID=$!
    for ((i = 0; i < 50; i++)); do
      kill -0 "$NGINX_PID" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then
        check_hello "$NGINX_PORT" nginx
        return 0
      fi
      sleep 0.1
    done
    stop_nginx
    if grep -q "Address already in use" "$prefix/logs/error.log" "$prefix/logs/stdout.log" 2>/dev/null; then
      log "nginx: port $NGINX_PORT taken meanwhile, retrying"
      continue
    fi
    cat "$prefix/logs/stdout.log" "$prefix/logs/error.log" >&2
    die "nginx did not start (config: $prefix/nginx.conf)"
  done
  die "nginx could not bind a free port after 5 attempts"
}

# ---- wrk -------------------------------------------------------------------------------------
# run_wrk <port> <duration> <output file>; sets RPS, P99 (ms) and ERRS. wrk runs in the
# background so that an interrupt is handled at once (and cleanup stops it).
run_wrk() {
  local port=$1 dur=$2 out=$3 parsed
  "$WRK" -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --latency "http://127.0.0.1:$port/hello" >"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || { WRK_PID=""; cat "$out" >&2; die "wrk failed against port $port"; }
  WRK_PID=""
  parsed=$(awk '
    function to_ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000
      if (u == "ms") return n
      if (u == "s")  return n * 1000
      if (u == "m")  return n * 60000
      if (u == "h")  return n * 3600000
      return -1
    }
    /^Requests\/sec:/ { rps = $2 }
    /^[ \t]+99(\.0+)?%[ \t]/ { p99 = to_ms($2) }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    /Socket errors:/ { gsub(/,/, ""); errs += $4 + $6 + $8 + $10 }
    END {
      if (rps == "" || p99 == "" || p99 < 0) exit 1
      printf "%s %.4f %d\n", rps, p99, errs
    }' "$out") || { cat "$out" >&2; die "cannot parse wrk output ($out)"; }
  read -r RPS P99 ERRS <<<"$parsed"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- the benchmark ---------------------------------------------------------------------------
log "runtime: $DEMO"
log "nginx:   $("$NGINX" -v 2>&1 | head -1)"
log "wrk:     $("$WRK" -v 2>&1 | head -1)"
log "load:    wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency http://127.0.0.1:<port>/hello, $ROUNDS alternating rounds per server; $(nproc) CPUs"

declare -A RT_RPS RT_P99 NG_RPS NG_P99 NOTES
for w in $WORKERS; do
  log "=== workers $w: starting runtime (SERVER_IO_THREADS=$w) and nginx (worker_processes $w)"
  start_demo "$w"
  start_nginx "$w"
  log "runtime on 127.0.0.1:$DEMO_PORT (pid $DEMO_PID), nginx on 127.0.0.1:$NGINX_PORT (master pid $NGINX_PID)"
  if [[ "$WARMUP" != 0 ]]; then
    log "warm-up ${WARMUP} each (not counted)"
    run_wrk "$DEMO_PORT" "$WARMUP" "$TMP/warmup-rt-w$w.txt"
    run_wrk "$NGINX_PORT" "$WARMUP" "$TMP/warmup-ng-w$w.txt"
  fi
  rt_rps="" rt_p99="" ng_rps="" ng_p99="" errors=0
  for ((r = 1; r <= ROUNDS; r++)); do
    for server in runtime nginx; do
      if [[ $server == runtime ]]; then port=$DEMO_PORT; else port=$NGINX_PORT; fi
      run_wrk "$port" "$DURATION" "$TMP/wrk-$server-w$w-r$r.txt"
      rps=$RPS p99=$P99 errs=$ERRS
      printf '[bench] workers %s round %d/%d %-7s %12.0f req/s  p99 %8.3f ms%s\n' \
        "$w" "$r" "$ROUNDS" "$server" "$rps" "$p99" "$( ((errs > 0)) && echo "  ($errs errors/non-2xx)")"
      errors=$((errors + errs))
      if [[ $server == runtime ]]; then rt_rps+=" $rps"; rt_p99+=" $p99"
      else ng_rps+=" $rps"; ng_p99+=" $p99"; fi
    done
  done
  RT_RPS[$w]=$(median <<<"$rt_rps"); RT_P99[$w]=$(median <<<"$rt_p99")
  NG_RPS[$w]=$(median <<<"$ng_rps"); NG_P99[$w]=$(median <<<"$ng_p99")
  ((errors > 0)) && NOTES[$w]="$errors errors/non-2xx responses" || NOTES[$w]=""
  stop_demo
  stop_nginx
done

# ---- report ----------------------------------------------------------------------------------
echo
echo "HTTP server benchmark: GET /hello (2-byte body), wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $ROUNDS alternating rounds, 127.0.0.1, $(nproc) CPUs"
printf '%-7s | %14s | %14s | %13s | %12s | %12s | %13s | %s\n' \
  workers "runtime req/s" "nginx req/s" "ratio rps" "runtime p99" "nginx p99" "ratio p99" "goal met"
printf '%s\n' "--------+----------------+----------------+---------------+--------------+--------------+---------------+---------"
all_met=yes
for w in $WORKERS; do
  read -r rr np met <<<"$(awk -v a="${RT_RPS[$w]}" -v b="${NG_RPS[$w]}" -v c="${RT_P99[$w]}" -v d="${NG_P99[$w]}" 'BEGIN {
    rr = a / b; pr = (d > 0) ? c / d : 0
    printf "%.3f %.3f %s\n", rr, pr, (rr >= 1.0 && c <= d) ? "yes" : "no" }')"
  [[ $met == yes ]] || all_met=no
  printf '%-7s | %14.0f | %14.0f | %13s | %9.3f ms | %9.3f ms | %13s | %s%s\n' \
    "$w" "${RT_RPS[$w]}" "${NG_RPS[$w]}" "$rr" "${RT_P99[$w]}" "${NG_P99[$w]}" "$np" "$met" \
    "${NOTES[$w]:+  (${NOTES[$w]})}"
done
echo
echo "Goal (runtime/nginx throughput >= 1.0 with p99 no worse, at equal worker counts): $([[ $all_met == yes ]] && echo MET || echo NOT MET)"
echo "(ratio rps = runtime/nginx requests/s, higher is better; ratio p99 = runtime/nginx p99, lower is better; timing never fails this benchmark)"
exit 0
