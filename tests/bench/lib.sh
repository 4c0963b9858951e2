# Shell helpers the benchmark drivers share (sourced by tests/bench/*/run.sh).

# A loopback port nothing listens on right now (nginx and HAProxy cannot be told "port 0");
# callers retry on a bind race.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}
