// A bounded thread pool for blocking work (database, Redis, disk), with the semantics of
// Java's ThreadPoolExecutor as the seed configures it (Spring's ThreadPoolTaskExecutor):
//   fewer than core threads  -> start a thread for the task;
//   otherwise, queue not full -> queue it;
//   otherwise, fewer than max -> start a thread for the task;
//   otherwise                 -> rejection policy: run in the caller, or reject (the server
//                                answers 503).
// Threads above core exit after keep_alive idle. Every change updates the gauges at once.
//
// Thread-safety: all public members may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace prometheus {
class Registry;
class Gauge;
class Counter;
}  // namespace prometheus

namespace mambogo::runtime {

enum class RejectionPolicy { caller_runs, reject };

struct ExecutorOptions {
  std::string name = "blocking";  // `name` label of the executor_* metrics
  int core_threads = 10;
  int max_threads = 50;
  int queue_capacity = 100;
  std::chrono::milliseconds keep_alive{60'000};
  RejectionPolicy policy = RejectionPolicy::caller_runs;
};

struct ExecutorStats {
  int pool_size = 0;
  int active = 0;
  int queued = 0;
  std::uint64_t completed = 0;
  std::uint64_t rejected = 0;     // tasks that found pool and queue full (any policy)
  std::uint64_t caller_ran = 0;   // of those, run by the caller
};

class BoundedExecutor {
 public:
  enum class Submitted { accepted, ran_in_caller, rejected };

  // registry may be null (no metrics). Throws std::invalid_argument on inconsistent options.
  BoundedExecutor(ExecutorOptions options, prometheus::Registry* registry);
  ~BoundedExecutor();  // shutdown(): runs what is queued, joins every thread
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // Changes the sizes while running (a drill's switch), as ThreadPoolExecutor's setters do:
  // a larger core starts threads for queued work at once; a smaller one lets surplus threads
  // exit when idle; a smaller queue keeps what is queued but admits nothing more until below.
  // Throws std::invalid_argument on inconsistent values (nothing changes then).
  void resize(int core_threads, int max_threads, int queue_capacity);

  // Exceptions escaping a task are caught and counted as completed (logged by the caller's
  // own wrapping; the pool never dies of them). After shutdown() every task is rejected.
  Submitted submit(std::function<void()> task);

  // Stops accepting, lets queued and running tasks finish, joins all threads. Idempotent.
  void shutdown();

  ExecutorStats stats() const;
  ExecutorOptions options() const;  // a copy: resize() may change it

 private:
  void start_thread_locked(std::function<void()> first_task);
  void worker(std::function<void()> first_task);
  void publish_locked();
  void reap_finished_locked();

  // Constant after construction.
  prometheus::Gauge* active_gauge_ = nullptr;
  prometheus::Gauge* core_gauge_ = nullptr;
  prometheus::Gauge* max_gauge_ = nullptr;
  prometheus::Gauge* pool_gauge_ = nullptr;
  prometheus::Gauge* queued_gauge_ = nullptr;
  prometheus::Gauge* queue_remaining_gauge_ = nullptr;
  prometheus::Counter* completed_counter_ = nullptr;
  prometheus::Counter* rejected_counter_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  ExecutorOptions options_;
  std::condition_variable work_available_;
  std::condition_variable thread_exited_;
  std::deque<std::function<void()>> queue_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread> finished_;  // exited workers waiting to be joined
  int active_ = 0;
  bool stopping_ = false;
  ExecutorStats counts_;
};

}  // namespace mambogo::runtime
