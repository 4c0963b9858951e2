#include "runtime/resilience/circuit_breaker.h"

#include <algorithm>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace mambogo::runtime {

namespace {
constexpr std::array<std::string_view, kCircuitStateCount> kStateNames = {
    "CLOSED", "OPEN", "HALF_OPEN", "DISABLED", "FORCED_OPEN", "METRICS_ONLY"};
// Micrometer tags the state gauge with the enum name in lower case.
constexpr std::array<const char*, kCircuitStateCount> kStateLabels = {
    "closed", "open", "half_open", "disabled", "forced_open", "metrics_only"};

std::int64_t epoch_second(Clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

void check(bool ok, const std::string& name, const char* what) {
  if (!ok) throw std::invalid_argument("circuit breaker '" + name + "': " + what);
}

BreakerEvent event(BreakerEvent::Type type, Clock::time_point at) {
  BreakerEvent e;
  e.type = type;
  e.at = at;
  return e;
}
}  // namespace

std::string_view to_string(CircuitState state) {
  return kStateNames[static_cast<std::size_t>(state)];
}

CallNotPermitted::CallNotPermitted(const std::string& breaker)
    : std::runtime_error("CircuitBreaker '" + breaker + "' does not permit further calls") {}

// ---- Window ----------------------------------------------------------------------------------

CircuitBreaker::Window::Window(SlidingWindowType type, int size, int minimum_calls,
                               Clock::time_point now)
    : type_(type), buckets_(static_cast<std::size_t>(size)), minimum_calls_(minimum_calls) {
  // A count-based window can never hold more than its size, so a larger minimum would never
  // be reached (Resilience4j caps it the same way).
  if (type_ == SlidingWindowType::count_based) minimum_calls_ = std::min(minimum_calls, size);
  const std::int64_t second = epoch_second(now);
  for (auto& b : buckets_) b.second = second;
}

void CircuitBreaker::Window::record(Clock::time_point now, std::chrono::nanoseconds elapsed,
                                    bool failed, bool slow) {
  if (buckets_.empty()) return;
  Aggregate outcome;
  outcome.calls = 1;
  outcome.failed = failed ? 1 : 0;
  outcome.slow = slow ? 1 : 0;
  outcome.slow_failed = failed && slow ? 1 : 0;
  outcome.duration_ns = elapsed.count();
  Aggregate* target;
  if (type_ == SlidingWindowType::count_based) {
    head_ = (head_ + 1) % static_cast<int>(buckets_.size());
    Aggregate& evicted = buckets_[static_cast<std::size_t>(head_)].aggregate;
    total_.calls -= evicted.calls;
    total_.failed -= evicted.failed;
    total_.slow -= evicted.slow;
    total_.slow_failed -= evicted.slow_failed;
    total_.duration_ns -= evicted.duration_ns;
    evicted = Aggregate{};
    target = &evicted;
  } else {
    move_to_second(epoch_second(now));
    target = &buckets_[static_cast<std::size_t>(head_)].aggregate;
  }
  target->calls += outcome.calls;
  target->failed += outcome.failed;
  target->slow += outcome.slow;
  target->slow_failed += outcome.slow_failed;
  target->duration_ns += outcome.duration_ns;
  total_.calls += outcome.calls;
  total_.failed += outcome.failed;
  total_.slow += outcome.slow;
  total_.slow_failed += outcome.slow_failed;
  total_.duration_ns += outcome.duration_ns;
}

const CircuitBreaker::Aggregate& CircuitBreaker::Window::total(Clock::time_point now) {
  if (type_ == SlidingWindowType::time_based && !buckets_.empty()) move_to_second(epoch_second(now));
  return total_;
}

void CircuitBreaker::Window::move_to_second(std::int64_t second) {
  const std::int64_t behind = second - buckets_[static_cast<std::size_t>(head_)].second;
  if (behind <= 0) return;
  const auto size = static_cast<std::int64_t>(buckets_.size());
  // Only the buckets that left the window are touched: at most `size` of them however long
  // the gap, each subtracted from the running total as it is reused.
  std::int64_t steps = std::min(behind, size);
  do {
    --steps;
    head_ = (head_ + 1) % static_cast<int>(size);
    Bucket& b = buckets_[static_cast<std::size_t>(head_)];
    total_.calls -= b.aggregate.calls;
    total_.failed -= b.aggregate.failed;
    total_.slow -= b.aggregate.slow;
    total_.slow_failed -= b.aggregate.slow_failed;
    total_.duration_ns -= b.aggregate.duration_ns;
    b.aggregate = Aggregate{};
    b.second = second - steps;
  } while (steps > 0);
}

float CircuitBreaker::Window::failure_rate(const Aggregate& a) const {
  if (a.calls == 0 || a.calls < minimum_calls_) return -1.0f;
  return static_cast<float>(a.failed) * 100.0f / static_cast<float>(a.calls);
}

float CircuitBreaker::Window::slow_call_rate(const Aggregate& a) const {
  if (a.calls == 0 || a.calls < minimum_calls_) return -1.0f;
  return static_cast<float>(a.slow) * 100.0f / static_cast<float>(a.calls);
}

// ---- CircuitBreaker --------------------------------------------------------------------------

CircuitBreaker::CircuitBreaker(CircuitBreakerConfig config, const Clock& clock,
                               prometheus::Registry* registry, std::mt19937_64 rng)
    : config_(std::move(config)), clock_(clock), rng_(rng) {
  const auto& c = config_;
  check(c.failure_rate_threshold > 0 && c.failure_rate_threshold <= 100, c.name,
        "failure_rate_threshold must be in (0, 100]");
  check(c.slow_call_rate_threshold > 0 && c.slow_call_rate_threshold <= 100, c.name,
        "slow_call_rate_threshold must be in (0, 100]");
  check(c.slow_call_duration_threshold.count() >= 1, c.name,
        "slow_call_duration_threshold must be positive");
  check(c.permitted_number_of_calls_in_half_open_state >= 1, c.name,
        "permitted_number_of_calls_in_half_open_state must be >= 1");
  check(c.max_wait_duration_in_half_open_state.count() >= 0, c.name,
        "max_wait_duration_in_half_open_state must be >= 0");
  check(c.sliding_window_size >= 1, c.name, "sliding_window_size must be >= 1");
  check(c.minimum_number_of_calls >= 1, c.name, "minimum_number_of_calls must be >= 1");

  const auto now = clock_.now();
  state_since_ = now;
  window_ = Window(c.sliding_window_type, c.sliding_window_size, c.minimum_number_of_calls, now);

  if (registry) {
    auto& states = prometheus::BuildGauge()
                       .Name("resilience4j_circuitbreaker_state")
                       .Help("The states of the circuit breaker: 1 for the current one, else 0")
                       .Register(*registry);
    for (int i = 0; i < kCircuitStateCount; ++i)
      state_gauges_[static_cast<std::size_t>(i)] =
          &states.Add({{"name", c.name}, {"state", kStateLabels[static_cast<std::size_t>(i)]}});
    auto& calls = prometheus::BuildHistogram()
                      .Name("resilience4j_circuitbreaker_calls_seconds")
                      .Help("Calls recorded by the circuit breaker, by outcome")
                      .Register(*registry);
    const prometheus::Histogram::BucketBoundaries no_buckets;
    successful_calls_ = &calls.Add({{"name", c.name}, {"kind", "successful"}}, no_buckets);
    failed_calls_ = &calls.Add({{"name", c.name}, {"kind", "failed"}}, no_buckets);
    ignored_calls_ = &calls.Add({{"name", c.name}, {"kind", "ignored"}}, no_buckets);
    not_permitted_counter_ = &prometheus::BuildCounter()
                                  .Name("resilience4j_circuitbreaker_not_permitted_calls_total")
                                  .Help("Calls the circuit breaker did not permit")
                                  .Register(*registry)
                                  .Add({{"name", c.name}, {"kind", "not_permitted"}});
    auto gauge = [&](const char* name, const char* help) -> prometheus::Family<prometheus::Gauge>& {
      return prometheus::BuildGauge().Name(name).Help(help).Register(*registry);
    };
    failure_rate_gauge_ =
        &gauge("resilience4j_circuitbreaker_failure_rate",
               "Failure rate of the window in percent, -1 below the minimum number of calls")
             .Add({{"name", c.name}});
    slow_call_rate_gauge_ =
        &gauge("resilience4j_circuitbreaker_slow_call_rate",
               "Slow call rate of the window in percent, -1 below the minimum number of calls")
             .Add({{"name", c.name}});
    auto& buffered = gauge("resilience4j_circuitbreaker_buffered_calls",
                           "Calls in the sliding window, by outcome");
    buffered_successful_gauge_ = &buffered.Add({{"name", c.name}, {"kind", "successful"}});
    buffered_failed_gauge_ = &buffered.Add({{"name", c.name}, {"kind", "failed"}});
    auto& slow = gauge("resilience4j_circuitbreaker_slow_calls",
                       "Slow calls in the sliding window, by outcome");
    slow_successful_gauge_ = &slow.Add({{"name", c.name}, {"kind", "successful"}});
    slow_failed_gauge_ = &slow.Add({{"name", c.name}, {"kind", "failed"}});
  }
  std::lock_guard lock(mutex_);
  for (int i = 0; i < kCircuitStateCount; ++i)
    if (auto* g = state_gauges_[static_cast<std::size_t>(i)]) g->Set(i == 0 ? 1 : 0);
  publish_locked(now);
}

CircuitBreaker::~CircuitBreaker() = default;

bool CircuitBreaker::try_acquire_permission() {
  Events events;
  bool permitted = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    switch (state_) {
      case CircuitState::closed:
      case CircuitState::disabled:
      case CircuitState::metrics_only:
        permitted = true;
        break;
      case CircuitState::open:
        // Strictly after, as Resilience4j's clock.instant().isAfter(retryAfterWaitDuration).
        if (now > open_until_) {
          enter_locked(CircuitState::half_open, now, events);
          publish_locked(now);
        } else {
          break;
        }
        [[fallthrough]];
      case CircuitState::half_open:
        if (half_open_permits_ > 0) {
          --half_open_permits_;
          permitted = true;
        }
        break;
      case CircuitState::forced_open:
        break;
    }
    if (!permitted) {
      ++window_.not_permitted;
      if (not_permitted_counter_) not_permitted_counter_->Increment();
      emit_locked(events, event(BreakerEvent::Type::call_not_permitted, now));
    }
  }
  dispatch(events);
  return permitted;
}

void CircuitBreaker::release_permission() {
  std::lock_guard lock(mutex_);
  if (state_ == CircuitState::half_open) ++half_open_permits_;
}

void CircuitBreaker::on_success(std::chrono::nanoseconds elapsed) {
  Events events;
  {
    std::lock_guard lock(mutex_);
    record_locked(clock_.now(), elapsed, false, events);
  }
  dispatch(events);
}

void CircuitBreaker::on_error(std::chrono::nanoseconds elapsed, bool recorded_as_failure) {
  Events events;
  {
    std::lock_guard lock(mutex_);
    record_locked(clock_.now(), elapsed, recorded_as_failure, events);
  }
  dispatch(events);
}

void CircuitBreaker::on_ignored_error(std::chrono::nanoseconds elapsed) {
  Events events;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    if (state_ == CircuitState::half_open) ++half_open_permits_;
    BreakerEvent e = event(BreakerEvent::Type::ignored_error, now);
    e.elapsed = elapsed;
    emit_locked(events, e);
  }
  dispatch(events);
}

void CircuitBreaker::on_exception(std::chrono::nanoseconds elapsed, const std::exception_ptr& error) {
  enum class Kind { failure, success, ignored } kind = Kind::failure;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    if (config_.ignore_exception && config_.ignore_exception(e))
      kind = Kind::ignored;
    else if (config_.record_exception && !config_.record_exception(e))
      kind = Kind::success;
  } catch (...) {
  }
  if (kind == Kind::ignored)
    on_ignored_error(elapsed);
  else
    on_error(elapsed, kind == Kind::failure);
}

CircuitState CircuitBreaker::state() {
  Events events;
  CircuitState s;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    publish_locked(now);
    s = state_;
  }
  dispatch(events);
  return s;
}

BreakerSnapshot CircuitBreaker::snapshot() {
  Events events;
  BreakerSnapshot s;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    publish_locked(now);
    s = snapshot_locked(now);
  }
  dispatch(events);
  return s;
}

BreakerSnapshot CircuitBreaker::snapshot_locked(Clock::time_point now) {
  const Aggregate& t = window_.total(now);
  BreakerSnapshot s;
  s.state = state_;
  s.failure_rate = window_.failure_rate(t);
  s.slow_call_rate = window_.slow_call_rate(t);
  s.buffered_calls = t.calls;
  s.failed_calls = t.failed;
  s.slow_calls = t.slow;
  s.slow_failed_calls = t.slow_failed;
  s.not_permitted_calls = window_.not_permitted;
  s.minimum_number_of_calls = window_.minimum_calls();
  s.half_open_permits_left = state_ == CircuitState::half_open ? half_open_permits_ : 0;
  if (state_ == CircuitState::open) s.open_until = open_until_;
  s.attempts = attempts_;
  return s;
}

void CircuitBreaker::transition_to_closed() { manual_transition(CircuitState::closed); }
void CircuitBreaker::transition_to_open() { manual_transition(CircuitState::open); }
void CircuitBreaker::transition_to_half_open() { manual_transition(CircuitState::half_open); }
void CircuitBreaker::transition_to_disabled() { manual_transition(CircuitState::disabled); }
void CircuitBreaker::transition_to_forced_open() { manual_transition(CircuitState::forced_open); }
void CircuitBreaker::transition_to_metrics_only() { manual_transition(CircuitState::metrics_only); }

void CircuitBreaker::manual_transition(CircuitState to) {
  Events events;
  bool legal;
  CircuitState from;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    from = state_;
    // The transitions Resilience4j's StateTransition table lacks.
    legal = !(from == CircuitState::closed && to == CircuitState::half_open) &&
            !(from == CircuitState::metrics_only &&
              (to == CircuitState::open || to == CircuitState::half_open));
    if (legal) {
      enter_locked(to, now, events);
      publish_locked(now);
    }
  }
  dispatch(events);
  if (!legal)
    throw std::logic_error("circuit breaker '" + config_.name + "': illegal transition from " +
                           std::string(to_string(from)) + " to " + std::string(to_string(to)));
}

void CircuitBreaker::reset() {
  Events events;
  {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    advance_time_locked(now, events);
    enter_locked(CircuitState::closed, now, events);
    publish_locked(now);
    emit_locked(events, event(BreakerEvent::Type::reset, now));
  }
  dispatch(events);
}

void CircuitBreaker::on_event(std::function<void(const BreakerEvent&)> listener) {
  std::lock_guard listeners_lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
  std::lock_guard lock(mutex_);
  has_listeners_ = true;
}

void CircuitBreaker::advance_time_locked(Clock::time_point now, Events& events) {
  // Each pass moves the dated time forward by at least 1 ms, so this ends.
  while (true) {
    if (state_ == CircuitState::open &&
        config_.automatic_transition_from_open_to_half_open_enabled && now >= open_until_) {
      enter_locked(CircuitState::half_open, open_until_, events);
      continue;
    }
    const auto max_wait = config_.max_wait_duration_in_half_open_state;
    if (state_ == CircuitState::half_open && max_wait.count() > 0 && now >= state_since_ + max_wait) {
      enter_locked(CircuitState::open, state_since_ + max_wait, events);
      continue;
    }
    return;
  }
}

void CircuitBreaker::record_locked(Clock::time_point now, std::chrono::nanoseconds elapsed,
                                   bool failed, Events& events) {
  advance_time_locked(now, events);
  BreakerEvent outcome = event(failed ? BreakerEvent::Type::error : BreakerEvent::Type::success, now);
  outcome.elapsed = elapsed;
  emit_locked(events, outcome);
  if (state_ == CircuitState::disabled || state_ == CircuitState::forced_open) return;

  const bool slow = elapsed > config_.slow_call_duration_threshold;
  window_.record(now, elapsed, failed, slow);
  // In OPEN a late outcome of a call admitted earlier is still recorded, but decides nothing.
  if (state_ != CircuitState::open) {
    const Aggregate& t = window_.total(now);
    const float failure_rate = window_.failure_rate(t);
    const float slow_rate = window_.slow_call_rate(t);
    if (failure_rate >= 0 && slow_rate >= 0) {
      const bool failure_exceeded = failure_rate >= config_.failure_rate_threshold;
      const bool slow_exceeded = slow_rate >= config_.slow_call_rate_threshold;
      auto announce = [&](BreakerEvent::Type type, float rate) {
        BreakerEvent e = event(type, now);
        e.rate = rate;
        emit_locked(events, e);
      };
      switch (state_) {
        case CircuitState::closed:
          if (failure_exceeded || slow_exceeded) {
            if (failure_exceeded) announce(BreakerEvent::Type::failure_rate_exceeded, failure_rate);
            if (slow_exceeded) announce(BreakerEvent::Type::slow_call_rate_exceeded, slow_rate);
            enter_locked(CircuitState::open, now, events);
          }
          break;
        case CircuitState::half_open:
          enter_locked(failure_exceeded || slow_exceeded ? CircuitState::open : CircuitState::closed,
                       now, events);
          break;
        case CircuitState::metrics_only:
          if (failure_exceeded && !failure_rate_exceeded_announced_) {
            failure_rate_exceeded_announced_ = true;
            announce(BreakerEvent::Type::failure_rate_exceeded, failure_rate);
          }
          if (slow_exceeded && !slow_call_rate_exceeded_announced_) {
            slow_call_rate_exceeded_announced_ = true;
            announce(BreakerEvent::Type::slow_call_rate_exceeded, slow_rate);
          }
          break;
        default:
          break;
      }
    }
  }
  publish_locked(now);
}

void CircuitBreaker::enter_locked(CircuitState to, Clock::time_point at, Events& events) {
  const CircuitState from = state_;
  const auto& c = config_;
  switch (to) {
    case CircuitState::closed:
    case CircuitState::metrics_only:
      window_ = Window(c.sliding_window_type, c.sliding_window_size, c.minimum_number_of_calls, at);
      attempts_ = 0;
      failure_rate_exceeded_announced_ = false;
      slow_call_rate_exceeded_announced_ = false;
      break;
    case CircuitState::open:
      // The window that tripped stays on show while OPEN.
      ++attempts_;
      open_until_ = at + c.wait_interval_in_open_state(attempts_, rng_);
      break;
    case CircuitState::half_open: {
      const int probes = c.permitted_number_of_calls_in_half_open_state;
      window_ = Window(SlidingWindowType::count_based, probes,
                       std::min(c.minimum_number_of_calls, probes), at);
      half_open_permits_ = probes;
      break;
    }
    case CircuitState::disabled:
      window_ = Window(SlidingWindowType::count_based, 0, c.minimum_number_of_calls, at);
      attempts_ = 0;
      break;
    case CircuitState::forced_open:
      window_ = Window(SlidingWindowType::count_based, 0, c.minimum_number_of_calls, at);
      ++attempts_;
      break;
  }
  state_ = to;
  state_since_ = at;
  if (state_gauges_[0])
    for (int i = 0; i < kCircuitStateCount; ++i)
      state_gauges_[static_cast<std::size_t>(i)]->Set(i == static_cast<int>(to) ? 1 : 0);
  if (from != to) {
    BreakerEvent e = event(BreakerEvent::Type::state_transition, at);
    e.from = from;
    e.to = to;
    emit_locked(events, e);
  }
}

void CircuitBreaker::emit_locked(Events& events, BreakerEvent e) {
  const bool always =
      e.type == BreakerEvent::Type::state_transition || e.type == BreakerEvent::Type::reset;
  // Resilience4j's State.allowPublish: DISABLED and FORCED_OPEN stay silent. Its Micrometer
  // binding counts calls from these events, so the call metrics follow the same rule.
  if (!always && (state_ == CircuitState::disabled || state_ == CircuitState::forced_open)) return;
  switch (e.type) {
    case BreakerEvent::Type::success:
      if (successful_calls_) successful_calls_->Observe(seconds(e.elapsed));
      break;
    case BreakerEvent::Type::error:
      if (failed_calls_) failed_calls_->Observe(seconds(e.elapsed));
      break;
    case BreakerEvent::Type::ignored_error:
      if (ignored_calls_) ignored_calls_->Observe(seconds(e.elapsed));
      break;
    default:
      break;
  }
  if (!has_listeners_) return;
  e.breaker = config_.name;
  events.push_back(e);
}

void CircuitBreaker::publish_locked(Clock::time_point now) {
  if (!failure_rate_gauge_) return;
  const Aggregate& t = window_.total(now);
  failure_rate_gauge_->Set(window_.failure_rate(t));
  slow_call_rate_gauge_->Set(window_.slow_call_rate(t));
  buffered_successful_gauge_->Set(t.calls - t.failed);
  buffered_failed_gauge_->Set(t.failed);
  slow_successful_gauge_->Set(t.slow - t.slow_failed);
  slow_failed_gauge_->Set(t.slow_failed);
}

void CircuitBreaker::dispatch(const Events& events) {
  if (events.empty()) return;
  std::lock_guard lock(listeners_mutex_);
  // By index into a deque: a listener may register another one while we iterate, and that
  // must neither invalidate the listener running nor skip the new one.
  for (const auto& e : events)
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      try {
        listeners_[i](e);
      } catch (...) {
      }
    }
}

}  // namespace mambogo::runtime
