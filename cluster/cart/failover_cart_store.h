// The cart store the handlers use: Redis when it is configured and answers, the in-process
// store otherwise — per operation, so a Redis outage costs one fast failure per request (the
// pool fails fast while Redis is down) and recovery needs nothing but Redis coming back.
// Carts written during an outage live in the process only and are not merged back into Redis
// afterwards; the metrics and the health check make the switch visible.
//
// Metrics (registry may be null):
//   cart_store_operations_total{store=redis|memory, result=ok|unavailable}
//   cart_store_active{store=redis|memory}   1 for the store the last operation used
// Health (add_health_check): "cart-store", non-critical: UP {"store": "redis"}; DEGRADED
// {"store": "memory"} while a configured Redis is down (the last operation fell back, or the
// pool reports Redis down); UP {"store": "memory"} when no Redis is configured.
//
// Thread-safety: any thread. Both stores (and the pool) must outlive this one.
#pragma once

#include <atomic>

#include "cart/cart_store.h"
#include "cart/memory_cart_store.h"
#include "runtime/health.h"
#include "runtime/redis/redis_pool.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mambogo::cart {

class FailoverCartStore final : public CartStore {
 public:
  // redis and pool may be null (no Redis configured): every operation goes to memory.
  FailoverCartStore(CartStore* redis, runtime::redis::RedisPool* pool, MemoryCartStore& memory,
                    prometheus::Registry* registry);

  Cart get(const std::string& user_id) override;
  Cart change_line(const std::string& user_id, const CartLine& line, LineChange how, const CartLimits& limits,
                   const std::string& now) override;
  Cart remove_line(const std::string& user_id, const std::string& product_id, const std::string& now) override;
  void clear(const std::string& user_id) override;

  runtime::CheckResult health() const;
  // "redis" or "memory": the store the last operation used.
  const char* active_store() const { return using_redis_.load() ? "redis" : "memory"; }

 private:
  template <class F>
  auto run(F&& operation) -> decltype(operation(std::declval<CartStore&>()));
  void note(bool redis_used);

  // Constant after construction.
  CartStore* const redis_;
  runtime::redis::RedisPool* const pool_;
  MemoryCartStore& memory_;
  prometheus::Counter* redis_ok_ = nullptr;
  prometheus::Counter* redis_unavailable_ = nullptr;
  prometheus::Counter* memory_ok_ = nullptr;
  prometheus::Gauge* redis_active_ = nullptr;
  prometheus::Gauge* memory_active_ = nullptr;

  std::atomic<bool> using_redis_;
};

}  // namespace mambogo::cart
