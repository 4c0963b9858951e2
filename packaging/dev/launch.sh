#!/usr/bin/env bash
# Installs what is missing, builds, and launches Mambogo's local cluster in the foreground:
# Redis, product, cart, order and payment services and the gateway on http://127.0.0.1:8080,
# with a key set generated at first start. Ctrl-C stops everything gracefully.
# (The console and mambogo-cluster — issues 5 and 7 — will take this script's place.)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
packaging/dev/setup.sh
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$(nproc)"

bin=$root/build/dev/cluster
state=${MAMBOGO_STATE_DIR:-$HOME/.local/share/mambogo}
mkdir -p "$state/data" "$state/logs"
keys=$state/keys.json
[ -f "$keys" ] || "$bin/gateway/mambogo-token" keygen --out "$keys"
chmod 600 "$keys"

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# Redis on its own port, so a system Redis is never touched.
redis_port=${MAMBOGO_REDIS_PORT:-6390}
if command -v redis-server >/dev/null; then
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$state" --logfile "$state/logs/redis.log" &
  pids+=($!)
  redis_env=(REDIS_URL="redis://127.0.0.1:$redis_port")
else
  redis_env=()
  echo "redis-server not found: services run on their in-process caches"
fi

common=(AUTH_KEYS_FILE="$keys" DATA_DIR="$state/data" SERVER_ADDRESS=127.0.0.1 "${redis_env[@]}"
        PRODUCT_SERVICE_URL=http://127.0.0.1:8081 CART_SERVICE_URL=http://127.0.0.1:8082
        ORDER_SERVICE_URL=http://127.0.0.1:8083 PAYMENT_SERVICE_URL=http://127.0.0.1:8084)
start() {  # name binary port
  env "${common[@]}" SERVER_PORT="$3" "$2" >"$state/logs/$1.log" 2>&1 &
  pids+=($!)
}
start product-service "$bin/product/mambogo-product" 8081
start cart-service "$bin/cart/mambogo-cart" 8082
start payment-service "$bin/payment/mambogo-payment" 8084
start order-service "$bin/order/mambogo-order" 8083
start gateway "$bin/gateway/mambogo-gateway" 8080

for port in 8081 8082 8083 8084 8080; do
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null && break
    sleep 0.2
  done
done

user_token=$("$bin/gateway/mambogo-token" issue --keys "$keys" --sub demo-user --roles user --ttl 24h)
admin_token=$("$bin/gateway/mambogo-token" issue --keys "$keys" --sub demo-admin --roles admin,user --ttl 24h)
cat <<EOF

Mambogo local cluster is up (logs: $state/logs, data: $state/data)
  gateway          http://127.0.0.1:8080     (product 8081, cart 8082, order 8083, payment 8084)
  try              curl -s http://127.0.0.1:8080/api/products?size=3
  user token       export AUTH_TOKEN=$user_token
  admin token      export ADMIN_TOKEN=$admin_token
  order            curl -s -X POST http://127.0.0.1:8080/api/orders -H "Authorization: Bearer \$AUTH_TOKEN" \\
                     -H 'Content-Type: application/json' -H "X-Idempotency-Key: \$(cat /proc/sys/kernel/random/uuid)" \\
                     -d '{"items":[{"productId":"<id from the listing>","quantity":1}],"shippingAddress":"1 Main St","paymentMethod":"CREDIT_CARD"}'
  switches         curl -s http://127.0.0.1:8081/admin/settings -H "Authorization: Bearer \$ADMIN_TOKEN"
Ctrl-C stops everything.
EOF
wait -n "${pids[@]}" || true
echo "a process exited; see $state/logs"
