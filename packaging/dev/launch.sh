#!/usr/bin/env bash
# Installs what is missing, builds, and launches Mambogo. Until the console lands this starts
# the demo service on http://127.0.0.1:8080 in the foreground (Ctrl-C drains it gracefully).
set -euo pipefail
cd "$(dirname "$0")/../.."
packaging/dev/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"
echo
echo "Demo service: http://127.0.0.1:${SERVER_PORT:-8080}/hello  metrics: /metrics  health: /health"
exec build/dev/cluster/demo/mambogo-demo "$@"
