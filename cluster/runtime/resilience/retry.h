// Retry with Resilience4j's semantics and defaults (RetryConfig, IntervalFunction;
// ../shared/anchors/resilience.md §1), bounded by an Envoy-style retry budget (§3).
//
// Retry never sleeps and never reads a clock. It decides whether a failed attempt is retried
// and how long to wait first; the caller waits in its own way (an Asio timer on an I/O thread,
// a sleep on a blocking thread, a fake clock in a test):
//
//   auto call = retry.start();
//   while (true) {
//     auto response = send();                       // one attempt
//     if (!retry.is_retryable_status(response.status)) { call.on_success(); return response; }
//     auto wait = call.on_retryable_failure();      // nullopt: give up (attempts or budget)
//     if (!wait) return response;
//     co_await timer(*wait);
//   }
//
// or, synchronously, retry.execute(attempt, sleep[, retry_on_result]).
//
// Semantics. max_attempts counts the first call (3: one call and up to two retries). The wait
// before retry n (n = 1, 2, ...) is config.interval(n): fixed 500 ms by default, as in
// Resilience4j; exponential backoff with jitter is IntervalFunction::exponential_random(500 ms)
// (multiplier 1.5, randomization 0.5, uniform in [i(1-f), i(1+f))). Which results are worth
// another attempt is config.retry_on_statuses (is_retryable_status) or the caller's own
// predicate; which exceptions, config.retry_on_exception (empty: every exception, Resilience4j's
// default). When attempts run out on a retryable *result*, execute() returns that last result;
// on an exception, it rethrows the last one.
//
// Budget. With a RetryBudget, a retry is granted only while the retries in flight stay below
// max(min_retry_concurrency, budget_percent% of the calls in flight) — Envoy's retry_budget
// (20%, 3) — so a failing dependency sees at most ~1.2x its load instead of max_attempts x.
// A retry holds its budget slot from the moment it is granted (through the wait) until its
// attempt reports an outcome. A call refused by the budget fails as it stands. "Calls in
// flight" are the calls started on Retry objects sharing that budget and not yet finished.
//
// Metrics (registry optional), labelled {name}:
//   resilience4j_retry_calls_total{kind}  successful_without_retry | successful_with_retry |
//                                          failed_without_retry | failed_with_retry
//   retry_budget_overflow_total            retries the budget refused (Envoy's
//                                          upstream_rq_retry_overflow)
// "with retry" means at least one retry was attempted. Resilience4j counts a non-retryable
// exception after retries as failed_without_retry and, with max_attempts 1, a retryable failure
// as failed_with_retry; here both count by whether a retry actually happened.
//
// Thread-safety: Retry and RetryBudget may be used from any thread. A Call belongs to one
// logical call and to one thread at a time, and must not outlive its Retry.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/resilience/interval_function.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::runtime {

struct RetryBudgetConfig {
  double budget_percent = 20.0;   // of the calls in flight, in [0, 100]
  int min_retry_concurrency = 3;  // retries always allowed in flight, >= 0
};

// Shared by every Retry that calls the same upstream. Thread-safe.
class RetryBudget {
 public:
  // Throws std::invalid_argument when a value is out of range.
  explicit RetryBudget(RetryBudgetConfig config = {});
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  // Retry::Call does these; direct use is for callers that track calls of their own.
  void call_started();
  void call_finished();
  bool try_acquire_retry();  // false: over budget, nothing taken
  void release_retry();

  int active_calls() const;
  int active_retries() const;
  int max_active_retries() const;  // the limit right now

 private:
  int limit_locked() const;

  const RetryBudgetConfig config_;
  mutable std::mutex mutex_;
  int active_calls_ = 0;    // guarded by mutex_
  int active_retries_ = 0;  // guarded by mutex_
};

struct RetryConfig {
  std::string name = "default";  // `name` label
  int max_attempts = 3;          // including the first call, >= 1
  IntervalFunction interval;     // fixed 500 ms
  std::vector<int> retry_on_statuses;  // e.g. {502, 503, 504}
  std::function<bool(const std::exception&)> retry_on_exception;  // empty: retry every exception
};

struct RetryStats {
  std::uint64_t successful_without_retry = 0;
  std::uint64_t successful_with_retry = 0;
  std::uint64_t failed_without_retry = 0;
  std::uint64_t failed_with_retry = 0;
  std::uint64_t budget_overflow = 0;
};

class Retry {
 public:
  enum class GiveUp { no, attempts_exhausted, budget_exhausted };

  // One logical call across its attempts. Report each attempt's outcome exactly once; after
  // on_success(), on_failure() or a nullopt from on_retryable_failure() the call is finished
  // and further reports are ignored. Destroying an unfinished call (cancelled, or an exception
  // escaped the caller) counts it as failed and frees its budget share.
  class Call {
   public:
    Call(Call&& other) noexcept;
    Call& operator=(Call&&) = delete;
    ~Call();

    void on_success();
    void on_failure();  // a failure not worth retrying
    // A retryable failure: the wait before the next attempt, or nullopt when the call gives up
    // (give_up() says why) and is finished as failed.
    std::optional<std::chrono::milliseconds> on_retryable_failure();

    int attempts() const { return attempts_; }  // outcomes reported so far
    bool finished() const { return finished_; }
    GiveUp give_up() const { return give_up_; }

   private:
    friend class Retry;
    explicit Call(Retry& retry);
    void finish(bool succeeded, bool abandoned = false);
    void release_retry_slot();

    Retry* retry_;
    int attempts_ = 0;
    bool finished_ = false;
    bool holds_retry_slot_ = false;
    GiveUp give_up_ = GiveUp::no;
  };

  // Throws std::invalid_argument when max_attempts < 1. `budget` may be null (no budget) and
  // must outlive this Retry; `registry` may be null; `rng` is drawn from for jittered waits.
  Retry(RetryConfig config, RetryBudget* budget, prometheus::Registry* registry,
        std::mt19937_64 rng = std::mt19937_64(std::random_device{}()));
  Retry(const Retry&) = delete;
  Retry& operator=(const Retry&) = delete;

  Call start();

  bool is_retryable_status(int status) const;
  bool is_retryable(const std::exception& error) const;

  // Runs f() up to max_attempts times, calling sleep(std::chrono::milliseconds) between
  // attempts. Exceptions are retried per config.retry_on_exception (others, and the last one,
  // propagate); with the third form, returned values for which retry_on_result(value) is true
  // are retried too. f must return void or an object type.
  template <class F, class Sleep>
  std::invoke_result_t<F&> execute(F&& f, Sleep&& sleep) {
    return execute(std::forward<F>(f), std::forward<Sleep>(sleep),
                   [](const auto&) { return false; });
  }
  template <class F, class Sleep, class RetryOnResult>
  std::invoke_result_t<F&> execute(F&& f, Sleep&& sleep, RetryOnResult&& retry_on_result);

  RetryStats stats() const;
  const RetryConfig& config() const { return config_; }

 private:
  enum class Kind { successful_without_retry, successful_with_retry, failed_without_retry, failed_with_retry };
  void count(Kind kind);
  // For execute(): the wait before retrying after `error`, or rethrows it (finishing `call`).
  std::chrono::milliseconds wait_or_rethrow(Call& call, const std::exception_ptr& error);
  void count_overflow();
  std::chrono::milliseconds next_wait(int attempt);

  // Constant after construction.
  const RetryConfig config_;
  RetryBudget* const budget_;
  prometheus::Counter* kind_counters_[4] = {};
  prometheus::Counter* overflow_counter_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::mt19937_64 rng_;
  RetryStats stats_;
};

template <class F, class Sleep, class RetryOnResult>
std::invoke_result_t<F&> Retry::execute(F&& f, Sleep&& sleep, RetryOnResult&& retry_on_result) {
  using Result = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<Result> || std::is_object_v<Result>,
                "execute(): f must return void or an object type");
  Call call = start();
  while (true) {
    std::optional<std::chrono::milliseconds> wait;
    if constexpr (std::is_void_v<Result>) {
      try {
        f();
      } catch (...) {
        wait = wait_or_rethrow(call, std::current_exception());
      }
      if (!wait) {
        call.on_success();
        return;
      }
    } else {
      std::optional<Result> result;
      try {
        result.emplace(f());
      } catch (...) {
        wait = wait_or_rethrow(call, std::current_exception());
      }
      if (result) {
        if (!retry_on_result(std::as_const(*result))) {
          call.on_success();
          return std::move(*result);
        }
        wait = call.on_retryable_failure();
        if (!wait) return std::move(*result);
      }
    }
    sleep(*wait);
  }
}

}  // namespace mambogo::runtime
