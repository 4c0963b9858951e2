// Processes orders after they were stored, on a bounded executor configured as the seed's
// orderProcessingExecutor (core 10, max 50, queue 100, caller-runs), never dropping one:
//
//   PENDING            reserve inventory -> INVENTORY_RESERVED, then charge at once;
//                      rejected (409/422/...) -> FAILED + stock release;
//                      unavailable -> stays PENDING, retried after a backoff.
//   INVENTORY_RESERVED charge -> CONFIRMED; declined -> FAILED + release;
//   / PENDING_PAYMENT  unavailable (503, breaker open, timeout) -> PENDING_PAYMENT, retried
//                      after a backoff, for as long as it takes.
//   FAILED / EXPIRED   with a release still due: release the stock (idempotent upstream).
//   PENDING past expires_at, not in a pass -> EXPIRED + release (the sweeper).
//
// The database is the queue: an order needs work while next_attempt_at is set, and is due
// when it has passed. A pass first claims the order (optimistic UPDATE that pushes
// next_attempt_at to now + lease), so neither this process's sweeper nor another replica
// takes it meanwhile; every state change is optimistic too (repository), so each order
// reaches a terminal state exactly once. Freshly created orders are handed over by the batch
// writer at once; the sweeper (every sweep_interval) expires, and finds every due order:
// retries whose backoff passed, orders a crashed process left behind (once its lease lapsed),
// and — at start — everything non-terminal, which is how a restart resumes.
//
// Paused (order.processing.enabled = false): no reserve or charge pass starts; stock releases
// and expiry go on. Enabling again sweeps at once.
//
// Ownership: borrows repository, clients, tokens, metrics and logger (they outlive it); owns
// its executor and threads. Thread-safety: every public member may be called from any thread;
// start() and stop() once each, from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "order/order.h"
#include "order/order_metrics.h"
#include "order/order_repository.h"
#include "order/upstream.h"
#include "runtime/executor.h"

namespace prometheus {
class Registry;
}
namespace mambogo::runtime {
class Logger;
}

namespace mambogo::order {

// Wall-clock time in milliseconds since the Unix epoch (orders store wall-clock times).
using WallClock = std::function<std::int64_t()>;
std::int64_t system_wall_clock_ms();

struct ProcessorSettings {
  bool enabled = true;
  std::chrono::milliseconds lease{30'000};           // a pass's hold on an order
  std::chrono::milliseconds sweep_interval{1'000};
  std::chrono::milliseconds retry_initial{1'000};    // backoff: exponential x2, jitter 0.5, capped
  std::chrono::milliseconds retry_max{60'000};
  std::chrono::milliseconds recount_interval{10'000};  // orders_in_state from the database
  int sweep_limit = 500;                             // orders per query per sweep
  runtime::ExecutorOptions executor{"order-processing", 10, 50, 100, std::chrono::milliseconds(60'000),
                                    runtime::RejectionPolicy::caller_runs};
};

class OrderProcessor {
 public:
  OrderProcessor(OrderRepository& repository, ResilientClient& inventory, ResilientClient& payment,
                 ServiceTokens& tokens, OrderMetrics& metrics, runtime::Logger& logger,
                 prometheus::Registry* registry, ProcessorSettings settings, WallClock now);
  ~OrderProcessor();
  OrderProcessor(const OrderProcessor&) = delete;
  OrderProcessor& operator=(const OrderProcessor&) = delete;

  // Starts the dispatcher and the sweeper; the first sweep (the resume) runs at once.
  void start();
  // Stops taking work, lets running passes finish, joins. Idempotent.
  void stop();

  // Freshly stored orders (the batch writer's hand-off). Ignored while paused: the sweeper
  // finds them once processing is enabled again.
  void schedule(const std::vector<Order>& created);

  void set_enabled(bool enabled);
  bool enabled() const { return enabled_.load(); }
  runtime::BoundedExecutor& executor() { return *executor_; }
  // Orders queued or in a pass in this process.
  std::size_t scheduled() const;

 private:
  void schedule_id(const std::string& id);
  void dispatch_loop();
  void sweep_loop();
  void sweep();
  void run_pass(const std::string& id);
  void advance(Order order);
  void charge(const Order& order);  // INVENTORY_RESERVED / PENDING_PAYMENT onwards
  void release_stock(Order order);
  bool transition(const Order& before, Order& after);
  void lost_race(const std::string& id, bool reserved);
  std::int64_t backoff_ms(int attempts) const;

  // Constant after construction.
  OrderRepository& repository_;
  ResilientClient& inventory_;
  ResilientClient& payment_;
  ServiceTokens& tokens_;
  OrderMetrics& metrics_;
  runtime::Logger& logger_;
  const ProcessorSettings settings_;
  const WallClock now_;
  std::unique_ptr<runtime::BoundedExecutor> executor_;

  std::atomic<bool> enabled_;
  std::atomic<bool> stopping_{false};

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable work_;   // dispatch queue filled, or stopping
  std::condition_variable sweep_;  // sweep now (enabled again), or stopping
  std::deque<std::string> queue_;
  std::unordered_set<std::string> scheduled_;  // queued or in a pass
  bool sweep_requested_ = false;

  std::chrono::steady_clock::time_point next_recount_{};  // the sweeper thread's own

  std::thread dispatcher_;
  std::thread sweeper_;
};

}  // namespace mambogo::order
