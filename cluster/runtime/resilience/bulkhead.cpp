#include "runtime/resilience/bulkhead.h"

#include <algorithm>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

BulkheadFull::BulkheadFull(const std::string& bulkhead)
    : std::runtime_error("Bulkhead '" + bulkhead + "' is full and does not permit further calls") {}

Bulkhead::Bulkhead(BulkheadConfig config, prometheus::Registry* registry)
    : config_(std::move(config)), available_(config_.max_concurrent_calls) {
  if (config_.max_concurrent_calls < 0)
    throw std::invalid_argument("bulkhead '" + config_.name + "': max_concurrent_calls must be >= 0");
  if (config_.max_wait_duration.count() < 0)
    throw std::invalid_argument("bulkhead '" + config_.name + "': max_wait_duration must be >= 0");
  if (!registry) return;
  available_gauge_ = &prometheus::BuildGauge()
                          .Name("resilience4j_bulkhead_available_concurrent_calls")
                          .Help("Calls the bulkhead can still admit right now")
                          .Register(*registry)
                          .Add({{"name", config_.name}});
  prometheus::BuildGauge()
      .Name("resilience4j_bulkhead_max_allowed_concurrent_calls")
      .Help("The bulkhead's limit of concurrent calls")
      .Register(*registry)
      .Add({{"name", config_.name}})
      .Set(config_.max_concurrent_calls);
  std::lock_guard lock(mutex_);
  publish_locked();
}

bool Bulkhead::try_acquire_permission() {
  std::unique_lock lock(mutex_);
  if (waiters_.empty() && available_ > 0) {
    --available_;
    publish_locked();
    return true;
  }
  if (config_.max_wait_duration.count() == 0) return false;
  Waiter self;
  waiters_.push_back(&self);
  if (handed_over_.wait_for(lock, config_.max_wait_duration, [&] { return self.granted; }))
    return true;
  // Timed out and never granted: release_permission() only grants waiters still queued, so
  // leaving the queue under the lock is enough.
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &self));
  return false;
}

void Bulkhead::release_permission() {
  std::lock_guard lock(mutex_);
  if (!waiters_.empty()) {
    // The slot passes to the oldest waiter without ever showing as available.
    waiters_.front()->granted = true;
    waiters_.pop_front();
    handed_over_.notify_all();
    return;
  }
  available_ = std::min(available_ + 1, config_.max_concurrent_calls);
  publish_locked();
}

int Bulkhead::available_concurrent_calls() const {
  std::lock_guard lock(mutex_);
  return available_;
}

int Bulkhead::waiting_calls() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(waiters_.size());
}

void Bulkhead::publish_locked() {
  if (available_gauge_) available_gauge_->Set(available_);
}

}  // namespace mambogo::runtime
