// A semaphore bulkhead with Resilience4j's semantics and defaults (SemaphoreBulkhead,
// BulkheadConfig: maxConcurrentCalls 25, maxWaitDuration 0, fair call handling): at most
// max_concurrent_calls calls run at once; a caller finding none free waits up to
// max_wait_duration, first come first served, then is rejected.
//
// With the default max_wait_duration of 0 nothing ever blocks, which is what an I/O thread
// needs. A positive wait blocks the calling thread on a condition variable in real (steady)
// time — no injected clock can shorten an OS wait — so use it only on blocking-work threads.
// A freed slot is handed straight to the longest waiter, so a newcomer never overtakes one.
//
// Metrics (registry optional), labelled {name}, as Resilience4j's Micrometer binding exports:
//   resilience4j_bulkhead_available_concurrent_calls    set at every change
//   resilience4j_bulkhead_max_allowed_concurrent_calls
//
// Thread-safety: every public member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace prometheus {
class Registry;
class Gauge;
}  // namespace prometheus

namespace mambogo::runtime {

struct BulkheadConfig {
  std::string name = "default";  // `name` label
  int max_concurrent_calls = 25;  // >= 0
  std::chrono::milliseconds max_wait_duration{0};  // >= 0
};

// Thrown by execute() when no slot was free in time (Resilience4j's BulkheadFullException).
class BulkheadFull : public std::runtime_error {
 public:
  explicit BulkheadFull(const std::string& bulkhead);
};

class Bulkhead {
 public:
  // Throws std::invalid_argument on negative limits. `registry` may be null.
  Bulkhead(BulkheadConfig config, prometheus::Registry* registry);
  Bulkhead(const Bulkhead&) = delete;
  Bulkhead& operator=(const Bulkhead&) = delete;

  // Takes a slot, waiting up to max_wait_duration for one. True: the caller owns a slot and
  // must release_permission() exactly once when its call ends (or is not made).
  bool try_acquire_permission();
  void release_permission();

  // Runs f() in a slot (released however f ends), or throws BulkheadFull without calling it.
  template <class F>
  std::invoke_result_t<F&> execute(F&& f) {
    if (!try_acquire_permission()) throw BulkheadFull(config_.name);
    struct Release {
      Bulkhead* bulkhead;
      ~Release() { bulkhead->release_permission(); }
    } release{this};
    return f();
  }

  int available_concurrent_calls() const;
  int waiting_calls() const;
  const BulkheadConfig& config() const { return config_; }

 private:
  struct Waiter {
    bool granted = false;
  };
  void publish_locked();

  // Constant after construction.
  const BulkheadConfig config_;
  prometheus::Gauge* available_gauge_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable handed_over_;
  int available_;
  std::deque<Waiter*> waiters_;  // oldest first; each lives on its waiting caller's stack
};

}  // namespace mambogo::runtime
