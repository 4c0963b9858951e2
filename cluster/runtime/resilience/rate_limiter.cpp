#include "runtime/resilience/rate_limiter.h"

#include <algorithm>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

RequestNotPermitted::RequestNotPermitted(const std::string& limiter)
    : std::runtime_error("RateLimiter '" + limiter + "' does not permit further calls") {}

RateLimiter::RateLimiter(RateLimiterConfig config, const Clock& clock,
                         prometheus::Registry* registry)
    : config_(std::move(config)),
      clock_(clock),
      start_(clock.now()),
      active_permissions_(config_.limit_for_period) {
  if (config_.limit_for_period < 1)
    throw std::invalid_argument("rate limiter '" + config_.name + "': limit_for_period must be >= 1");
  if (config_.limit_refresh_period.count() < 1)
    throw std::invalid_argument("rate limiter '" + config_.name +
                                "': limit_refresh_period must be >= 1 ns");
  if (config_.timeout_duration.count() < 0)
    throw std::invalid_argument("rate limiter '" + config_.name + "': timeout_duration must be >= 0");
  if (!registry) return;
  available_gauge_ = &prometheus::BuildGauge()
                          .Name("resilience4j_ratelimiter_available_permissions")
                          .Help("Permits the rate limiter holds now; negative when reserved ahead")
                          .Register(*registry)
                          .Add({{"name", config_.name}});
  std::lock_guard lock(mutex_);
  publish_locked();
}

RateLimiter::Decision RateLimiter::refill_locked(int permits) const {
  const std::int64_t period = config_.limit_refresh_period.count();
  const std::int64_t limit = config_.limit_for_period;
  const std::int64_t now = (clock_.now() - start_).count();
  const std::int64_t cycle = now / period;
  std::int64_t permissions = active_permissions_;
  if (cycle != active_cycle_) {
    // Clamped so the product cannot overflow; any deficit a timeout allows is far smaller.
    const std::int64_t elapsed = std::min<std::int64_t>(cycle - active_cycle_, std::int64_t{1} << 31);
    permissions = std::min(permissions + elapsed * limit, limit);
  }
  std::chrono::nanoseconds wait{0};
  if (permissions < permits) {
    const std::int64_t to_next_cycle = (cycle + 1) * period - now;
    // Permits still missing once the next cycle has refilled, in whole further cycles.
    const std::int64_t missing = permits - (permissions + limit);
    const std::int64_t full_cycles = missing > 0 ? (missing + limit - 1) / limit : 0;
    wait = std::chrono::nanoseconds(full_cycles * period + to_next_cycle);
  }
  return {cycle, permissions, wait};
}

std::optional<std::chrono::nanoseconds> RateLimiter::reserve_permission(int permits) {
  if (permits < 1) throw std::invalid_argument("rate limiter: permits must be >= 1");
  std::lock_guard lock(mutex_);
  const Decision d = refill_locked(permits);
  active_cycle_ = d.cycle;
  active_permissions_ = d.permissions;
  std::optional<std::chrono::nanoseconds> result;
  if (d.wait <= config_.timeout_duration) {
    active_permissions_ -= permits;
    result = d.wait;
  }
  publish_locked();
  return result;
}

bool RateLimiter::try_acquire_permission(int permits) {
  if (permits < 1) throw std::invalid_argument("rate limiter: permits must be >= 1");
  std::lock_guard lock(mutex_);
  const Decision d = refill_locked(permits);
  active_cycle_ = d.cycle;
  active_permissions_ = d.permissions;
  const bool acquired = d.wait.count() == 0;
  if (acquired) active_permissions_ -= permits;
  publish_locked();
  return acquired;
}

std::int64_t RateLimiter::available_permissions() {
  std::lock_guard lock(mutex_);
  const Decision d = refill_locked(1);
  active_cycle_ = d.cycle;
  active_permissions_ = d.permissions;
  publish_locked();
  return active_permissions_;
}

void RateLimiter::drain_permissions() {
  std::lock_guard lock(mutex_);
  const Decision d = refill_locked(1);
  active_cycle_ = d.cycle;
  active_permissions_ = std::min<std::int64_t>(d.permissions, 0);
  publish_locked();
}

void RateLimiter::publish_locked() {
  if (available_gauge_) available_gauge_->Set(static_cast<double>(active_permissions_));
}

}  // namespace mambogo::runtime
