// The time source of the resilience components (breaker, retry, rate limiter, time limiter).
// Each takes a `const Clock&` in its constructor and never reads the time any other way, so a
// test drives them with a FakeClock and asserts exact trip points, waits and deadlines.
//
// Only a steady (monotonic) time is offered: every decision here is about elapsed time, and
// wall-clock jumps (NTP, DST) must not open or close a breaker.
//
// Ownership: the component keeps a reference; the clock must outlive it.
// Thread-safety: now() may be called from any thread, on every implementation here.
#pragma once

#include <atomic>
#include <chrono>

namespace mambogo::runtime {

class Clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

// std::chrono::steady_clock. Stateless; one instance can serve a whole process.
class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

// The process-wide SystemClock, for components that take a `const Clock&` in production.
inline const SystemClock& system_clock() {
  static const SystemClock clock;
  return clock;
}

// Time stands still until advance() or set() moves it. Starts at the steady clock's epoch
// unless told otherwise. Thread-safe (an atomic tick count), so a test thread may advance it
// while other threads read.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(time_point start = time_point{}) : ticks_(start.time_since_epoch().count()) {}

  time_point now() const override { return time_point(duration(ticks_.load())); }

  // Precondition: d >= 0 (steady time never goes back).
  void advance(duration d) { ticks_.fetch_add(d.count()); }
  // Precondition: t >= now().
  void set(time_point t) { ticks_.store(t.time_since_epoch().count()); }

 private:
  std::atomic<duration::rep> ticks_;
};

}  // namespace mambogo::runtime
