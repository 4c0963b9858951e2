#include "cart/failover_cart_store.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::cart {

FailoverCartStore::FailoverCartStore(CartStore* redis, runtime::redis::RedisPool* pool, MemoryCartStore& memory,
                                     prometheus::Registry* registry)
    : redis_(redis), pool_(pool), memory_(memory), using_redis_(redis != nullptr) {
  if (!registry) return;
  auto& ops = prometheus::BuildCounter()
                  .Name("cart_store_operations_total")
                  .Help("Cart store operations by store and result")
                  .Register(*registry);
  redis_ok_ = &ops.Add({{"store", "redis"}, {"result", "ok"}});
  redis_unavailable_ = &ops.Add({{"store", "redis"}, {"result", "unavailable"}});
  memory_ok_ = &ops.Add({{"store", "memory"}, {"result", "ok"}});
  auto& active = prometheus::BuildGauge()
                     .Name("cart_store_active")
                     .Help("1 for the cart store in use (the last operation's), 0 for the other")
                     .Register(*registry);
  redis_active_ = &active.Add({{"store", "redis"}});
  memory_active_ = &active.Add({{"store", "memory"}});
  note(redis != nullptr);
}

void FailoverCartStore::note(bool redis_used) {
  using_redis_ = redis_used;
  if (redis_active_) redis_active_->Set(redis_used ? 1 : 0);
  if (memory_active_) memory_active_->Set(redis_used ? 0 : 1);
}

template <class F>
auto FailoverCartStore::run(F&& operation) -> decltype(operation(std::declval<CartStore&>())) {
  if (redis_) {
    try {
      auto count_ok = [this] {
        if (redis_ok_) redis_ok_->Increment();
        note(true);
      };
      if constexpr (std::is_void_v<decltype(operation(*redis_))>) {
        operation(*redis_);
        count_ok();
        return;
      } else {
        auto result = operation(*redis_);
        count_ok();
        return result;
      }
    } catch (const StoreUnavailable&) {
      if (redis_unavailable_) redis_unavailable_->Increment();
    }
  }
  note(false);
  if (memory_ok_) memory_ok_->Increment();
  return operation(static_cast<CartStore&>(memory_));
}

Cart FailoverCartStore::get(const std::string& user_id) {
  return run([&](CartStore& s) { return s.get(user_id); });
}

Cart FailoverCartStore::change_line(const std::string& user_id, const CartLine& line, LineChange how,
                                    const CartLimits& limits, const std::string& now) {
  return run([&](CartStore& s) { return s.change_line(user_id, line, how, limits, now); });
}

Cart FailoverCartStore::remove_line(const std::string& user_id, const std::string& product_id,
                                    const std::string& now) {
  return run([&](CartStore& s) { return s.remove_line(user_id, product_id, now); });
}

void FailoverCartStore::clear(const std::string& user_id) {
  run([&](CartStore& s) { s.clear(user_id); });
}

runtime::CheckResult FailoverCartStore::health() const {
  runtime::CheckResult r;
  if (!redis_) {
    r.details = {{"store", "memory"}, {"redis", "not configured"}};
    return r;
  }
  const bool redis_down = !using_redis_.load() || (pool_ && pool_->health_check().status != runtime::HealthStatus::up);
  r.status = redis_down ? runtime::HealthStatus::degraded : runtime::HealthStatus::up;
  r.details = {{"store", redis_down ? "memory" : "redis"}};
  return r;
}

}  // namespace mambogo::cart
