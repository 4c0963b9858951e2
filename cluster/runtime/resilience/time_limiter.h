// A time limiter with Resilience4j's defaults (TimeLimiterConfig: timeoutDuration 1 s,
// cancelRunningFuture true), as a deadline helper: C++ has no future to cancel from outside,
// so the caller arms its own timer (remaining() says for how long), abandons the operation when
// it fires — and cancels it if cancel_running_future — and reports what happened. The limiter
// keeps the clock arithmetic and the counts in one place; it owns no thread and no timer.
//
// A call has timed out once its full timeout has elapsed: exceeded(start) is now >= start +
// timeout, exactly when remaining(start) reaches zero. A call that reports completion after its
// deadline is counted as a timeout, whatever it returned, because a Resilience4j caller would
// already have had TimeoutException.
//
// Metrics (registry optional), labelled {name}:
//   resilience4j_timelimiter_calls_total{kind}   successful | failed | timeout
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/clock.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::runtime {

struct TimeLimiterConfig {
  std::string name = "default";  // `name` label
  std::chrono::nanoseconds timeout_duration = std::chrono::seconds(1);  // >= 0
  bool cancel_running_future = true;  // advice to the caller: cancel what timed out
};

struct TimeLimiterStats {
  std::uint64_t successful = 0;
  std::uint64_t failed = 0;
  std::uint64_t timeout = 0;
};

class TimeLimiter {
 public:
  enum class Outcome { successful, failed, timeout };

  // Throws std::invalid_argument on a negative timeout. `clock` must outlive the limiter;
  // `registry` may be null.
  TimeLimiter(TimeLimiterConfig config, const Clock& clock, prometheus::Registry* registry);
  TimeLimiter(const TimeLimiter&) = delete;
  TimeLimiter& operator=(const TimeLimiter&) = delete;

  Clock::time_point start() const { return clock_.now(); }
  Clock::time_point deadline(Clock::time_point started) const {
    return started + config_.timeout_duration;
  }
  bool exceeded(Clock::time_point started) const { return clock_.now() >= deadline(started); }
  // Time left before the deadline, zero once it has passed.
  std::chrono::nanoseconds remaining(Clock::time_point started) const;

  // The call started at `started` has ended now with `succeeded`; returns what was counted.
  Outcome on_complete(Clock::time_point started, bool succeeded);
  // The caller gave up on a call at its deadline.
  void on_timeout();

  bool cancel_running_future() const { return config_.cancel_running_future; }
  TimeLimiterStats stats() const;
  const TimeLimiterConfig& config() const { return config_; }

 private:
  void count(Outcome outcome);

  // Constant after construction.
  const TimeLimiterConfig config_;
  const Clock& clock_;
  prometheus::Counter* counters_[3] = {};

  std::atomic<std::uint64_t> counts_[3] = {};
};

}  // namespace mambogo::runtime
