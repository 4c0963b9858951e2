#include "runtime/executor.h"

#include <algorithm>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

BoundedExecutor::BoundedExecutor(ExecutorOptions options, prometheus::Registry* registry)
    : options_(std::move(options)) {
  if (options_.core_threads < 0 || options_.max_threads < 1 ||
      options_.max_threads < options_.core_threads || options_.queue_capacity < 0)
    throw std::invalid_argument("executor '" + options_.name +
                                "': need 0 <= core <= max, max >= 1, queue >= 0");
  if (!registry) return;
  const prometheus::Labels labels{{"name", options_.name}};
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add(labels);
  };
  active_gauge_ = gauge("executor_active_threads", "Threads currently running a task");
  pool_gauge_ = gauge("executor_pool_size_threads", "Threads currently in the pool");
  queued_gauge_ = gauge("executor_queued_tasks", "Tasks waiting in the queue");
  queue_remaining_gauge_ = gauge("executor_queue_remaining_tasks", "Free queue slots");
  core_gauge_ = gauge("executor_pool_core_threads", "Configured core pool size");
  max_gauge_ = gauge("executor_pool_max_threads", "Configured maximum pool size");
  completed_counter_ = &prometheus::BuildCounter()
                            .Name("executor_completed_tasks_total")
                            .Help("Tasks that finished running")
                            .Register(*registry)
                            .Add(labels);
  rejected_counter_ = &prometheus::BuildCounter()
                           .Name("executor_rejected_tasks_total")
                           .Help("Tasks that found the pool and the queue full")
                           .Register(*registry)
                           .Add({{"name", options_.name},
                                 {"policy", options_.policy == RejectionPolicy::caller_runs
                                                ? "caller_runs"
                                                : "reject"}});
  std::lock_guard lock(mutex_);
  publish_locked();
}

BoundedExecutor::~BoundedExecutor() { shutdown(); }

BoundedExecutor::Submitted BoundedExecutor::submit(std::function<void()> task) {
  {
    std::unique_lock lock(mutex_);
    reap_finished_locked();
    if (!stopping_) {
      const int threads = static_cast<int>(threads_.size());
      if (threads < options_.core_threads) {
        start_thread_locked(std::move(task));
        return Submitted::accepted;
      }
      // The queue takes the task while it has room, and also, whatever its capacity, when a
      // thread is idle to take it at once (a SynchronousQueue's hand-off: queue capacity 0
      // must not leave idle threads waiting while new ones are started or the caller runs).
      const int queued = static_cast<int>(queue_.size());
      if (queued < options_.queue_capacity || queued < threads - active_) {
        queue_.push_back(std::move(task));
        publish_locked();
        work_available_.notify_one();
        return Submitted::accepted;
      }
      if (threads < options_.max_threads) {
        start_thread_locked(std::move(task));
        return Submitted::accepted;
      }
    }
    ++counts_.rejected;
    if (rejected_counter_) rejected_counter_->Increment();
    if (stopping_ || options_.policy == RejectionPolicy::reject) return Submitted::rejected;
    ++counts_.caller_ran;
  }
  try {
    task();
  } catch (...) {
  }
  return Submitted::ran_in_caller;
}

void BoundedExecutor::resize(int core_threads, int max_threads, int queue_capacity) {
  if (core_threads < 0 || max_threads < 1 || max_threads < core_threads || queue_capacity < 0)
    throw std::invalid_argument("executor '" + options_.name + "': need 0 <= core <= max, max >= 1, queue >= 0");
  std::lock_guard lock(mutex_);
  options_.core_threads = core_threads;
  options_.max_threads = max_threads;
  options_.queue_capacity = queue_capacity;
  // A larger core starts threads for queued work now, as ThreadPoolExecutor.setCorePoolSize.
  while (!stopping_ && static_cast<int>(threads_.size()) < core_threads && !queue_.empty()) {
    auto task = std::move(queue_.front());
    queue_.pop_front();
    start_thread_locked(std::move(task));
  }
  work_available_.notify_all();  // idle threads re-check whether they are surplus
  publish_locked();
}

ExecutorOptions BoundedExecutor::options() const {
  std::lock_guard lock(mutex_);
  return options_;
}

void BoundedExecutor::start_thread_locked(std::function<void()> first_task) {
  ++active_;  // the new thread is busy from now on: submit() must not count it as idle
  std::thread t([this, task = std::move(first_task)]() mutable { worker(std::move(task)); });
  auto id = t.get_id();
  threads_.emplace(id, std::move(t));
  publish_locked();
}

void BoundedExecutor::worker(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (task) {  // counted in active_ by whoever handed it over (under the lock)
      publish_locked();
      lock.unlock();
      try {
        task();
      } catch (...) {
      }
      task = nullptr;
      lock.lock();
      --active_;
      ++counts_.completed;
      if (completed_counter_) completed_counter_->Increment();
      publish_locked();
    }
    const int threads = static_cast<int>(threads_.size());
    if (queue_.empty()) {
      if (stopping_) break;
      if (threads > options_.max_threads) break;  // the maximum was lowered
      // A thread above the core size that stays idle for keep_alive goes away.
      const bool woke = work_available_.wait_for(lock, options_.keep_alive) == std::cv_status::no_timeout;
      if (!woke && queue_.empty() && !stopping_ && static_cast<int>(threads_.size()) > options_.core_threads) break;
      continue;
    }
    task = std::move(queue_.front());
    queue_.pop_front();
    ++active_;
    publish_locked();
  }
  // Leave the map now so pool_size is right; the thread object is joined later.
  auto self = threads_.find(std::this_thread::get_id());
  if (self != threads_.end()) {
    finished_.push_back(std::move(self->second));
    threads_.erase(self);
  }
  publish_locked();
  thread_exited_.notify_all();
}

void BoundedExecutor::reap_finished_locked() {
  for (auto& t : finished_)
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  std::erase_if(finished_, [](const std::thread& t) { return !t.joinable(); });
}

void BoundedExecutor::shutdown() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  work_available_.notify_all();
  thread_exited_.wait(lock, [this] { return threads_.empty(); });
  reap_finished_locked();
}

ExecutorStats BoundedExecutor::stats() const {
  std::lock_guard lock(mutex_);
  ExecutorStats s = counts_;
  s.pool_size = static_cast<int>(threads_.size());
  s.active = active_;
  s.queued = static_cast<int>(queue_.size());
  return s;
}

void BoundedExecutor::publish_locked() {
  if (!active_gauge_) return;
  active_gauge_->Set(active_);
  pool_gauge_->Set(static_cast<double>(threads_.size()));
  queued_gauge_->Set(static_cast<double>(queue_.size()));
  queue_remaining_gauge_->Set(std::max(0.0, options_.queue_capacity - static_cast<double>(queue_.size())));
  core_gauge_->Set(options_.core_threads);
  max_gauge_->Set(options_.max_threads);
}

}  // namespace mambogo::runtime
