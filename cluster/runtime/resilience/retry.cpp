#include "runtime/resilience/retry.h"

#include <algorithm>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

// ---- RetryBudget -----------------------------------------------------------------------------

RetryBudget::RetryBudget(RetryBudgetConfig config) : config_(config) {
  if (!(config_.budget_percent >= 0 && config_.budget_percent <= 100))
    throw std::invalid_argument("retry budget: budget_percent must be in [0, 100]");
  if (config_.min_retry_concurrency < 0)
    throw std::invalid_argument("retry budget: min_retry_concurrency must be >= 0");
}

void RetryBudget::call_started() {
  std::lock_guard lock(mutex_);
  ++active_calls_;
}

void RetryBudget::call_finished() {
  std::lock_guard lock(mutex_);
  if (active_calls_ > 0) --active_calls_;
}

int RetryBudget::limit_locked() const {
  // Envoy truncates the percentage to an integer before applying the floor.
  const auto share = static_cast<int>(config_.budget_percent / 100.0 * active_calls_);
  return std::max(share, config_.min_retry_concurrency);
}

bool RetryBudget::try_acquire_retry() {
  std::lock_guard lock(mutex_);
  if (active_retries_ >= limit_locked()) return false;
  ++active_retries_;
  return true;
}

void RetryBudget::release_retry() {
  std::lock_guard lock(mutex_);
  if (active_retries_ > 0) --active_retries_;
}

int RetryBudget::active_calls() const {
  std::lock_guard lock(mutex_);
  return active_calls_;
}

int RetryBudget::active_retries() const {
  std::lock_guard lock(mutex_);
  return active_retries_;
}

int RetryBudget::max_active_retries() const {
  std::lock_guard lock(mutex_);
  return limit_locked();
}

// ---- Retry::Call -----------------------------------------------------------------------------

Retry::Call::Call(Retry& retry) : retry_(&retry) {
  if (retry_->budget_) retry_->budget_->call_started();
}

Retry::Call::Call(Call&& other) noexcept
    : retry_(other.retry_),
      attempts_(other.attempts_),
      finished_(other.finished_),
      holds_retry_slot_(other.holds_retry_slot_),
      give_up_(other.give_up_) {
  other.retry_ = nullptr;
}

Retry::Call::~Call() {
  if (retry_ && !finished_) finish(false, true);
}

void Retry::Call::release_retry_slot() {
  if (holds_retry_slot_ && retry_->budget_) retry_->budget_->release_retry();
  holds_retry_slot_ = false;
}

void Retry::Call::finish(bool succeeded, bool abandoned) {
  release_retry_slot();
  finished_ = true;
  if (retry_->budget_) retry_->budget_->call_finished();
  // A call abandoned after a reported failure had a retry granted, though no outcome of it.
  const bool retried = attempts_ > 1 || (abandoned && attempts_ >= 1);
  if (succeeded)
    retry_->count(retried ? Kind::successful_with_retry : Kind::successful_without_retry);
  else
    retry_->count(retried ? Kind::failed_with_retry : Kind::failed_without_retry);
}

void Retry::Call::on_success() {
  if (!retry_ || finished_) return;
  ++attempts_;
  finish(true);
}

void Retry::Call::on_failure() {
  if (!retry_ || finished_) return;
  ++attempts_;
  finish(false);
}

std::optional<std::chrono::milliseconds> Retry::Call::on_retryable_failure() {
  if (!retry_ || finished_) return std::nullopt;
  ++attempts_;
  // The attempt that just failed was itself a retry: its slot is free again before the next
  // one is asked for, as Envoy's RetryStateImpl does (resetRetry() before canCreate()).
  release_retry_slot();
  if (attempts_ >= retry_->config_.max_attempts) {
    give_up_ = GiveUp::attempts_exhausted;
    finish(false);
    return std::nullopt;
  }
  if (retry_->budget_ && !retry_->budget_->try_acquire_retry()) {
    give_up_ = GiveUp::budget_exhausted;
    retry_->count_overflow();
    finish(false);
    return std::nullopt;
  }
  holds_retry_slot_ = retry_->budget_ != nullptr;
  return retry_->next_wait(attempts_);
}

// ---- Retry -----------------------------------------------------------------------------------

Retry::Retry(RetryConfig config, RetryBudget* budget, prometheus::Registry* registry,
             std::mt19937_64 rng)
    : config_(std::move(config)), budget_(budget), rng_(rng) {
  if (config_.max_attempts < 1)
    throw std::invalid_argument("retry '" + config_.name + "': max_attempts must be >= 1");
  if (!registry) return;
  auto& calls = prometheus::BuildCounter()
                    .Name("resilience4j_retry_calls_total")
                    .Help("Calls through the retry, by outcome and whether a retry happened")
                    .Register(*registry);
  const char* kinds[] = {"successful_without_retry", "successful_with_retry",
                         "failed_without_retry", "failed_with_retry"};
  for (int i = 0; i < 4; ++i) kind_counters_[i] = &calls.Add({{"name", config_.name}, {"kind", kinds[i]}});
  overflow_counter_ = &prometheus::BuildCounter()
                           .Name("retry_budget_overflow_total")
                           .Help("Retries refused because the retry budget was spent")
                           .Register(*registry)
                           .Add({{"name", config_.name}});
}

Retry::Call Retry::start() { return Call(*this); }

bool Retry::is_retryable_status(int status) const {
  return std::find(config_.retry_on_statuses.begin(), config_.retry_on_statuses.end(), status) !=
         config_.retry_on_statuses.end();
}

bool Retry::is_retryable(const std::exception& error) const {
  return !config_.retry_on_exception || config_.retry_on_exception(error);
}

std::chrono::milliseconds Retry::wait_or_rethrow(Call& call, const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    if (!is_retryable(e)) {
      call.on_failure();
      throw;
    }
    auto wait = call.on_retryable_failure();
    if (!wait) throw;
    return *wait;
  } catch (...) {
    call.on_failure();
    throw;
  }
}

std::chrono::milliseconds Retry::next_wait(int attempt) {
  std::lock_guard lock(mutex_);
  return config_.interval(attempt, rng_);
}

void Retry::count(Kind kind) {
  const auto i = static_cast<int>(kind);
  {
    std::lock_guard lock(mutex_);
    switch (kind) {
      case Kind::successful_without_retry: ++stats_.successful_without_retry; break;
      case Kind::successful_with_retry: ++stats_.successful_with_retry; break;
      case Kind::failed_without_retry: ++stats_.failed_without_retry; break;
      case Kind::failed_with_retry: ++stats_.failed_with_retry; break;
    }
  }
  if (kind_counters_[i]) kind_counters_[i]->Increment();
}

void Retry::count_overflow() {
  {
    std::lock_guard lock(mutex_);
    ++stats_.budget_overflow;
  }
  if (overflow_counter_) overflow_counter_->Increment();
}

RetryStats Retry::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace mambogo::runtime
