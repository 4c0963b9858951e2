#include "controllers/controller_loop.h"

#include <spdlog/spdlog.h>

namespace mambogo::sim::ctl {

ControllerLoop::ControllerLoop(std::string name, std::chrono::milliseconds resync, ListFn list_all, SyncFn sync,
                               std::chrono::milliseconds retry_delay)
    : name_(std::move(name)), resync_(resync), retry_delay_(retry_delay), list_all_(std::move(list_all)), sync_(std::move(sync)) {}

ControllerLoop::~ControllerLoop() { stop(); }

void ControllerLoop::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ControllerLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  queue_.clear();
  queued_.clear();
  delayed_.clear();
}

void ControllerLoop::push_locked(const Key& key) {
  if (queued_.insert(key).second) queue_.push_back(key);
}

void ControllerLoop::enqueue(const Key& key) {
  {
    std::lock_guard lock(mutex_);
    push_locked(key);
  }
  wake_.notify_all();
}

void ControllerLoop::enqueue_after(const Key& key, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(mutex_);
    delayed_.emplace(SteadyClock::now() + delay, key);
  }
  wake_.notify_all();
}

void ControllerLoop::run() {
  auto next_resync = SteadyClock::now();  // the first pass lists everything
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = SteadyClock::now();
    if (now >= next_resync) {
      next_resync = now + resync_;
      lock.unlock();
      std::vector<Key> keys;
      try {
        keys = list_all_();
      } catch (const std::exception& e) {
        spdlog::warn("{}: listing for resync failed: {}", name_, e.what());
      }
      lock.lock();
      for (const Key& key : keys) push_locked(key);
      continue;
    }
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      push_locked(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
    }
    if (queue_.empty()) {
      auto until = next_resync;
      if (!delayed_.empty() && delayed_.begin()->first < until) until = delayed_.begin()->first;
      wake_.wait_until(lock, until);  // any enqueue wakes us; the loop re-evaluates
      continue;
    }
    const Key key = queue_.front();
    queue_.pop_front();
    queued_.erase(key);
    lock.unlock();
    try {
      sync_(key);
    } catch (const std::exception& e) {
      spdlog::warn("{}: syncing {} {}/{} failed (retrying in {} ms): {}", name_, key.resource, key.ns, key.name,
                   retry_delay_.count(), e.what());
      lock.lock();
      delayed_.emplace(SteadyClock::now() + retry_delay_, key);
      continue;
    }
    lock.lock();
  }
}

}  // namespace mambogo::sim::ctl
