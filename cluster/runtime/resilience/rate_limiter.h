// A local rate limiter with Resilience4j's semantics and defaults (AtomicRateLimiter,
// RateLimiterConfig: limitForPeriod 50, limitRefreshPeriod 500 ns, timeoutDuration 5 s — the
// odd 500 ns is really Resilience4j's default; configure real services explicitly).
//
// A token bucket refilled in whole cycles: time since construction is cut into cycles of
// limit_refresh_period; at each cycle boundary the bucket gains limit_for_period permits, never
// holding more than limit_for_period. A caller may reserve permits from future cycles (the
// bucket goes negative) if the wait until they exist is within timeout_duration; a caller that
// would have to wait longer reserves nothing and is rejected.
//
// Nothing here sleeps. try_acquire_permission() answers now; reserve_permission() returns the
// wait, which the caller spends on a timer (or execute()'s sleep function). Every decision reads
// the injected clock, so a FakeClock drives it exactly.
//
// Metrics (registry optional), labelled {name}:
//   resilience4j_ratelimiter_available_permissions   set at every acquisition, reservation and
//                                                    available_permissions(); between those a
//                                                    refill shows at the next one. Negative
//                                                    while permits are reserved ahead.
//
// Thread-safety: every public member may be called from any thread (one mutex, O(1) work).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "runtime/clock.h"

namespace prometheus {
class Registry;
class Gauge;
}  // namespace prometheus

namespace mambogo::runtime {

struct RateLimiterConfig {
  std::string name = "default";  // `name` label
  int limit_for_period = 50;     // permits per cycle, and the bucket's capacity; >= 1
  std::chrono::nanoseconds limit_refresh_period{500};  // cycle length, >= 1 ns
  std::chrono::nanoseconds timeout_duration = std::chrono::seconds(5);  // longest wait, >= 0
};

// Thrown by execute() when a call is rejected (Resilience4j's RequestNotPermitted).
class RequestNotPermitted : public std::runtime_error {
 public:
  explicit RequestNotPermitted(const std::string& limiter);
};

class RateLimiter {
 public:
  // Throws std::invalid_argument on an invalid config. `clock` must outlive the limiter;
  // `registry` may be null. Cycles count from construction.
  RateLimiter(RateLimiterConfig config, const Clock& clock, prometheus::Registry* registry);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes `permits` (>= 1, else std::invalid_argument) if the bucket holds them now.
  bool try_acquire_permission(int permits = 1);
  // Takes `permits` now or from future cycles: the wait before they may be used (zero: now),
  // or nullopt when that wait exceeds timeout_duration (nothing taken).
  std::optional<std::chrono::nanoseconds> reserve_permission(int permits = 1);

  // Reserves a permit, calls sleep(wait) if there is a wait, then runs f(); throws
  // RequestNotPermitted (f not called) when the wait would exceed timeout_duration.
  template <class F, class Sleep>
  std::invoke_result_t<F&> execute(F&& f, Sleep&& sleep) {
    const auto wait = reserve_permission(1);
    if (!wait) throw RequestNotPermitted(config_.name);
    if (wait->count() > 0) sleep(*wait);
    return f();
  }

  // Permits in the bucket now, after any refill due (negative: reserved ahead).
  std::int64_t available_permissions();
  // Empties the bucket until the next cycle (Resilience4j's drainPermissions()).
  void drain_permissions();

  const RateLimiterConfig& config() const { return config_; }

 private:
  struct Decision {
    std::int64_t cycle;
    std::int64_t permissions;  // after refill, before any reservation
    std::chrono::nanoseconds wait;
  };
  Decision refill_locked(int permits) const;
  void publish_locked();

  // Constant after construction.
  const RateLimiterConfig config_;
  const Clock& clock_;
  const Clock::time_point start_;
  prometheus::Gauge* available_gauge_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::int64_t active_cycle_ = 0;
  std::int64_t active_permissions_;
};

}  // namespace mambogo::runtime
