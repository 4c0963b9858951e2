#include "payment/provider_client.h"

#include <algorithm>
#include <thread>

namespace mambogo::payment {
namespace {

constexpr const char* kName = "payment-provider";

runtime::CircuitBreakerConfig breaker_config(const ProviderClientOptions& o) {
  runtime::CircuitBreakerConfig c;
  c.name = kName;
  c.failure_rate_threshold = o.breaker_failure_rate;
  c.sliding_window_size = o.breaker_window_size;
  c.minimum_number_of_calls = o.breaker_minimum_calls;
  c.wait_interval_in_open_state = runtime::IntervalFunction::fixed(o.breaker_wait_in_open);
  c.permitted_number_of_calls_in_half_open_state = o.breaker_half_open_calls;
  c.slow_call_duration_threshold = o.timeout;  // a call as long as its limit is slow
  return c;
}

runtime::RetryConfig retry_config(const ProviderClientOptions& o) {
  runtime::RetryConfig c;
  c.name = kName;
  c.max_attempts = o.max_attempts;
  c.interval = runtime::IntervalFunction::exponential_random(o.retry_wait);
  return c;
}

runtime::TimeLimiterConfig limiter_config(const ProviderClientOptions& o) {
  runtime::TimeLimiterConfig c;
  c.name = kName;
  c.timeout_duration = o.timeout;
  return c;
}

}  // namespace

ProviderClient::ProviderClient(ProviderSimulator& provider, ProviderClientOptions options,
                               const runtime::Clock& clock, prometheus::Registry* registry)
    : provider_(provider),
      options_(options),
      clock_(clock),
      budget_(options.budget),
      retry_(retry_config(options), &budget_, registry),
      breaker_(breaker_config(options), clock, registry),
      limiter_(limiter_config(options), clock, registry) {}

ProviderAnswer ProviderClient::charge(const ChargeRequest& request) {
  auto call = retry_.start();
  int attempts = 0;
  while (true) {
    if (!breaker_.try_acquire_permission()) {
      call.on_failure();  // rejected: retrying into an open breaker only adds load
      return fallback("circuit_open", attempts);
    }
    const auto started = limiter_.start();
    ++attempts;
    ChargeResult result = provider_.charge(request, limiter_.remaining(started));
    const auto elapsed = clock_.now() - started;
    if (result.outcome == ChargeOutcome::timed_out) {
      limiter_.on_timeout();
    } else if (limiter_.on_complete(started, result.outcome != ChargeOutcome::failed) ==
               runtime::TimeLimiter::Outcome::timeout) {
      result = {ChargeOutcome::timed_out, {}, "provider_timeout", false};
    }
    if (result.outcome == ChargeOutcome::captured || result.outcome == ChargeOutcome::declined) {
      breaker_.on_success(elapsed);
      call.on_success();
      ProviderAnswer answer;
      answer.kind = result.outcome == ChargeOutcome::captured ? ProviderAnswer::Kind::captured
                                                              : ProviderAnswer::Kind::declined;
      answer.reference = result.reference;
      answer.reason = result.reason;
      answer.attempts = attempts;
      return answer;
    }
    breaker_.on_error(elapsed, true);
    const auto wait = call.on_retryable_failure();
    if (!wait) return fallback(result.reason, attempts);
    std::this_thread::sleep_for(*wait);
  }
}

ProviderAnswer ProviderClient::fallback(std::string reason, int attempts) {
  ProviderAnswer answer;
  answer.kind = ProviderAnswer::Kind::unavailable;
  answer.reason = std::move(reason);
  answer.attempts = attempts;
  auto wait = std::chrono::ceil<std::chrono::seconds>(options_.retry_after);
  const auto snapshot = breaker_.snapshot();
  if (snapshot.state == runtime::CircuitState::open)
    wait = std::chrono::ceil<std::chrono::seconds>(snapshot.open_until - clock_.now());
  answer.retry_after = std::max(wait, std::chrono::seconds(1));
  return answer;
}

}  // namespace mambogo::payment
