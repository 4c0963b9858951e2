// A circuit breaker with Resilience4j's state machine, sliding windows and defaults
// (CircuitBreakerStateMachine, CircuitBreakerConfig; ../shared/anchors/resilience.md §1).
//
//   CLOSED       every call permitted; outcomes recorded in the sliding window. Once the window
//                holds minimum_number_of_calls, a failure rate >= failure_rate_threshold or a
//                slow-call rate >= slow_call_rate_threshold opens the breaker.
//   OPEN         every call rejected (CallNotPermitted / try_acquire_permission() == false) until
//                wait_interval_in_open_state(attempt) has passed; then the next permission
//                request moves it to HALF_OPEN. `attempt` counts consecutive openings (1, 2, ...)
//                and resets in CLOSED, so an exponential interval makes the wait grow.
//   HALF_OPEN    exactly permitted_number_of_calls_in_half_open_state probes are let through
//                and recorded in a fresh count-based window of that size; once
//                min(minimum_number_of_calls, permitted) of them are recorded the breaker
//                re-opens (thresholds reached) or closes. With max_wait_duration_in_half_open_state
//                > 0 it re-opens when that time passes first.
//   DISABLED     everything permitted, nothing recorded, no events but transitions and reset.
//   FORCED_OPEN  everything rejected, no events but transitions and reset.
//   METRICS_ONLY everything permitted and recorded; the threshold events fire (once each) but
//                the state never changes.
//
// Windows. COUNT_BASED: a ring of the last sliding_window_size outcomes. TIME_BASED: a ring of
// sliding_window_size one-second buckets (failed, slow, slow-failed, total, duration), with a
// running total from which an evicted bucket is subtracted, so a snapshot is O(1). In a
// count-based window minimum_number_of_calls is capped at the window size.
//
// Outcomes. on_success(d) records a success; on_error(d, true) a failure; on_error(d, false) an
// error the configuration does not count as a failure, which Resilience4j records as a success;
// on_ignored_error(d) is not recorded at all and gives a HALF_OPEN probe slot back. A call
// longer than slow_call_duration_threshold (strictly) is also slow. execute() classifies a
// thrown exception with ignore_exception first, then record_exception; an exception not derived
// from std::exception is always a failure.
//
// Time-driven transitions (automatic OPEN -> HALF_OPEN, the HALF_OPEN deadline) need no thread:
// they are applied when the breaker is next used or observed (any call, state(), snapshot()),
// dated at the instant they fell due, so the timeline is the one a timer would have produced.
// Without automatic transition, OPEN lasts until a permission request comes strictly after the
// wait, as in Resilience4j.
//
// Events. on_event() listeners receive success, error, ignored_error, call_not_permitted,
// state_transition(from, to), reset, failure_rate_exceeded and slow_call_rate_exceeded (with the
// rate). They run on the caller's thread after the breaker's lock is released, one at a time
// (never concurrently), in the order each call produced them; events of concurrent calls may
// interleave. A listener may call the breaker (even re-entrantly) but must not block; exceptions
// it throws are swallowed. Same-state transitions are not announced.
//
// Metrics (registry optional), the names Resilience4j's Micrometer binding exports, labelled
// {name}:
//   resilience4j_circuitbreaker_state{state}            1 for the current state, 0 for the other
//                                                       five (closed, open, half_open, disabled,
//                                                       forced_open, metrics_only). The enum order
//                                                       is CircuitState's value and snapshot().
//   resilience4j_circuitbreaker_calls_seconds{kind}     _count/_sum of successful|failed|ignored
//                                                       calls, counted with their events (so not
//                                                       in DISABLED or FORCED_OPEN)
//   resilience4j_circuitbreaker_not_permitted_calls_total{kind="not_permitted"}  monotonic
//   resilience4j_circuitbreaker_failure_rate, _slow_call_rate    percent, -1 below minimum calls
//   resilience4j_circuitbreaker_buffered_calls{kind}, _slow_calls{kind}  successful|failed
// Gauges are set at every call, transition and snapshot(); a time-based window's expiry shows at
// the next of those.
//
// Thread-safety: every public member may be called from any thread; one mutex guards the state
// (held for O(1) work per call, never while user code runs).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/clock.h"
#include "runtime/resilience/interval_function.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
}  // namespace prometheus

namespace mambogo::runtime {

// Values are Resilience4j's State.getOrder().
enum class CircuitState { closed = 0, open = 1, half_open = 2, disabled = 3, forced_open = 4, metrics_only = 5 };
inline constexpr int kCircuitStateCount = 6;

// "CLOSED", "OPEN", "HALF_OPEN", "DISABLED", "FORCED_OPEN", "METRICS_ONLY".
std::string_view to_string(CircuitState state);

enum class SlidingWindowType { count_based, time_based };

struct CircuitBreakerConfig {
  std::string name = "default";  // `name` label and event source
  float failure_rate_threshold = 50;     // percent, in (0, 100]
  float slow_call_rate_threshold = 100;  // percent, in (0, 100]
  std::chrono::nanoseconds slow_call_duration_threshold = std::chrono::seconds(60);
  IntervalFunction wait_interval_in_open_state = IntervalFunction::fixed(std::chrono::seconds(60));
  int permitted_number_of_calls_in_half_open_state = 10;
  std::chrono::milliseconds max_wait_duration_in_half_open_state{0};  // 0: wait for every probe
  SlidingWindowType sliding_window_type = SlidingWindowType::count_based;
  int sliding_window_size = 100;  // calls, or seconds when time-based
  int minimum_number_of_calls = 100;
  bool automatic_transition_from_open_to_half_open_enabled = false;
  // Which exceptions (thrown through execute() or passed to on_exception()) count. Empty
  // record_exception: every exception is a failure. Empty ignore_exception: none is ignored.
  std::function<bool(const std::exception&)> record_exception;
  std::function<bool(const std::exception&)> ignore_exception;
};

// Thrown by execute() when the breaker rejects the call (Resilience4j's CallNotPermittedException).
class CallNotPermitted : public std::runtime_error {
 public:
  explicit CallNotPermitted(const std::string& breaker);
};

struct BreakerEvent {
  enum class Type {
    success,
    error,
    ignored_error,
    call_not_permitted,
    state_transition,
    reset,
    failure_rate_exceeded,
    slow_call_rate_exceeded,
  };
  Type type = Type::success;
  std::string_view breaker;  // the breaker's name; valid during the callback only
  Clock::time_point at;      // when it happened (a time-driven transition: when it fell due)
  CircuitState from = CircuitState::closed;  // state_transition
  CircuitState to = CircuitState::closed;    // state_transition
  float rate = 0;                            // *_rate_exceeded: percent
  std::chrono::nanoseconds elapsed{0};       // success, error, ignored_error
};

struct BreakerSnapshot {
  CircuitState state = CircuitState::closed;
  float failure_rate = -1;    // percent; -1 while fewer than minimum_number_of_calls are buffered
  float slow_call_rate = -1;  // percent; -1 likewise
  int buffered_calls = 0;     // outcomes in the current window
  int failed_calls = 0;
  int slow_calls = 0;
  int slow_failed_calls = 0;
  // Rejections since the current window began (Resilience4j resets it with the window; the
  // metric counter never resets).
  std::int64_t not_permitted_calls = 0;
  int minimum_number_of_calls = 0;  // effective for the current window
  int half_open_permits_left = 0;   // HALF_OPEN only
  Clock::time_point open_until{};   // OPEN only: probes are let through after this instant
  int attempts = 0;                 // consecutive openings; 0 in CLOSED
};

class CircuitBreaker {
 public:
  // Throws std::invalid_argument on an invalid config. `clock` must outlive the breaker;
  // `registry` may be null (no metrics); `rng` feeds a randomized wait_interval_in_open_state.
  CircuitBreaker(CircuitBreakerConfig config, const Clock& clock, prometheus::Registry* registry,
                 std::mt19937_64 rng = std::mt19937_64(std::random_device{}()));
  ~CircuitBreaker();
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // False means rejected (counted, call_not_permitted event). A true answer in HALF_OPEN holds a
  // probe slot: report the outcome, or release_permission() if the call is not made.
  bool try_acquire_permission();
  void release_permission();

  void on_success(std::chrono::nanoseconds elapsed);
  void on_error(std::chrono::nanoseconds elapsed, bool recorded_as_failure);
  void on_ignored_error(std::chrono::nanoseconds elapsed);
  // Classifies `error` with the config's predicates, then acts as one of the three above.
  void on_exception(std::chrono::nanoseconds elapsed, const std::exception_ptr& error);

  // Runs f() if permitted (else throws CallNotPermitted, f not called), times it with the
  // clock and records the outcome; exceptions from f are recorded and rethrown. The second form
  // records a returned value for which is_failure(value) is true as a failure (Resilience4j's
  // recordResult). f must return void or an object type.
  template <class F>
  std::invoke_result_t<F&> execute(F&& f) {
    return execute(std::forward<F>(f), [](const auto&) { return false; });
  }
  template <class F, class IsFailure>
  std::invoke_result_t<F&> execute(F&& f, IsFailure&& is_failure);

  CircuitState state();
  BreakerSnapshot snapshot();

  // Manual transitions, as Resilience4j's transitionTo*State(). Each starts the target state
  // afresh (a new window; OPEN restarts its wait with attempts + 1), also when already in it,
  // but only a change of state is announced. CLOSED -> HALF_OPEN and METRICS_ONLY -> OPEN or
  // HALF_OPEN are illegal in Resilience4j and throw std::logic_error here.
  void transition_to_closed();
  void transition_to_open();
  void transition_to_half_open();
  void transition_to_disabled();
  void transition_to_forced_open();
  void transition_to_metrics_only();
  // Back to a fresh CLOSED from anywhere; announces the transition (if any) and a reset event.
  void reset();

  void on_event(std::function<void(const BreakerEvent&)> listener);

  const CircuitBreakerConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }

 private:
  struct Aggregate {
    int calls = 0;
    int failed = 0;
    int slow = 0;
    int slow_failed = 0;
    std::int64_t duration_ns = 0;
  };

  class Window {
   public:
    Window() = default;
    Window(SlidingWindowType type, int size, int minimum_calls, Clock::time_point now);
    void record(Clock::time_point now, std::chrono::nanoseconds elapsed, bool failed, bool slow);
    const Aggregate& total(Clock::time_point now);  // evicts expired seconds first
    float failure_rate(const Aggregate& a) const;   // -1 below minimum_calls
    float slow_call_rate(const Aggregate& a) const;
    int minimum_calls() const { return minimum_calls_; }
    std::int64_t not_permitted = 0;

   private:
    struct Bucket {
      Aggregate aggregate;
      std::int64_t second = 0;
    };
    void move_to_second(std::int64_t second);

    SlidingWindowType type_ = SlidingWindowType::count_based;
    std::vector<Bucket> buckets_;
    int head_ = 0;
    Aggregate total_;
    int minimum_calls_ = 0;
  };

  using Events = std::vector<BreakerEvent>;

  void advance_time_locked(Clock::time_point now, Events& events);
  void record_locked(Clock::time_point now, std::chrono::nanoseconds elapsed, bool failed,
                     Events& events);
  void enter_locked(CircuitState to, Clock::time_point at, Events& events);
  void manual_transition(CircuitState to);
  void emit_locked(Events& events, BreakerEvent event);
  void observe_call_locked(BreakerEvent::Type type, std::chrono::nanoseconds elapsed);
  void publish_locked(Clock::time_point now);
  BreakerSnapshot snapshot_locked(Clock::time_point now);
  void dispatch(const Events& events);

  // Constant after construction.
  const CircuitBreakerConfig config_;
  const Clock& clock_;
  std::array<prometheus::Gauge*, kCircuitStateCount> state_gauges_{};
  prometheus::Histogram* successful_calls_ = nullptr;
  prometheus::Histogram* failed_calls_ = nullptr;
  prometheus::Histogram* ignored_calls_ = nullptr;
  prometheus::Counter* not_permitted_counter_ = nullptr;
  prometheus::Gauge* failure_rate_gauge_ = nullptr;
  prometheus::Gauge* slow_call_rate_gauge_ = nullptr;
  prometheus::Gauge* buffered_successful_gauge_ = nullptr;
  prometheus::Gauge* buffered_failed_gauge_ = nullptr;
  prometheus::Gauge* slow_successful_gauge_ = nullptr;
  prometheus::Gauge* slow_failed_gauge_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  CircuitState state_ = CircuitState::closed;
  Window window_;
  int attempts_ = 0;
  Clock::time_point state_since_{};
  Clock::time_point open_until_{};
  int half_open_permits_ = 0;
  bool failure_rate_exceeded_announced_ = false;  // METRICS_ONLY announces each once
  bool slow_call_rate_exceeded_announced_ = false;
  std::mt19937_64 rng_;
  bool has_listeners_ = false;

  // Guarded by listeners_mutex_, which is held while listeners run (recursive: a listener may
  // call back into the breaker and cause events of its own).
  std::recursive_mutex listeners_mutex_;
  std::deque<std::function<void(const BreakerEvent&)>> listeners_;
};

template <class F, class IsFailure>
std::invoke_result_t<F&> CircuitBreaker::execute(F&& f, IsFailure&& is_failure) {
  using Result = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<Result> || std::is_object_v<Result>,
                "execute(): f must return void or an object type");
  if (!try_acquire_permission()) throw CallNotPermitted(config_.name);
  const auto start = clock_.now();
  if constexpr (std::is_void_v<Result>) {
    try {
      f();
    } catch (...) {
      on_exception(clock_.now() - start, std::current_exception());
      throw;
    }
    on_success(clock_.now() - start);
  } else {
    std::optional<Result> result;
    try {
      result.emplace(f());
    } catch (...) {
      on_exception(clock_.now() - start, std::current_exception());
      throw;
    }
    const auto elapsed = clock_.now() - start;
    if (is_failure(std::as_const(*result)))
      on_error(elapsed, true);
    else
      on_success(elapsed);
    return std::move(*result);
  }
}

}  // namespace mambogo::runtime
