// The payment provider as payment-service calls it: the seed's InventoryServiceClient pattern
// (@CircuitBreaker + @Retry + @TimeLimiter with a fallback) around the provider simulator.
//
//   Retry (outermost; max_attempts with exponential-random backoff, bounded by a retry budget)
//     -> CircuitBreaker (an OPEN breaker rejects at once; a rejection is not retried)
//       -> TimeLimiter (each attempt gets `timeout`; a late answer is a failure)
//         -> ProviderSimulator::charge (idempotency key = orderId)
//   fallback: any failure that survives the retries, or a rejection, becomes `unavailable`
//   with the time after which a retry makes sense (the breaker's remaining OPEN time, else
//   retry_after).
//
// A decline is the provider's business answer: a success for the breaker, never retried.
// Provider errors and timeouts are failures for the breaker and are retried.
//
// Metrics: the breaker's resilience4j_circuitbreaker_*{name="payment-provider"}, the retry's
// resilience4j_retry_calls_total / retry_budget_overflow_total and the time limiter's
// resilience4j_timelimiter_calls_total, all in the registry given.
//
// Thread-safety: charge() may be called from any number of threads (it blocks: call it on the
// bounded executor). The simulator and the clock must outlive the client.
#pragma once

#include <chrono>
#include <string>

#include "payment/provider_simulator.h"
#include "runtime/clock.h"
#include "runtime/resilience/circuit_breaker.h"
#include "runtime/resilience/retry.h"
#include "runtime/resilience/time_limiter.h"

namespace mambogo::payment {

struct ProviderClientOptions {
  std::chrono::milliseconds timeout{1'000};  // TimeLimiter per attempt
  int max_attempts = 3;
  std::chrono::milliseconds retry_wait{200};  // first backoff; x1.5 each retry, +-50% jitter
  runtime::RetryBudgetConfig budget;
  // The breaker: Resilience4j's semantics with values a drill can watch within a minute.
  int breaker_window_size = 20;
  int breaker_minimum_calls = 10;
  float breaker_failure_rate = 50;
  std::chrono::milliseconds breaker_wait_in_open{10'000};
  int breaker_half_open_calls = 3;
  std::chrono::milliseconds retry_after{1'000};  // advice when the breaker is not open
};

struct ProviderAnswer {
  enum class Kind { captured, declined, unavailable };
  Kind kind = Kind::unavailable;
  std::string reference;  // captured, declined
  std::string reason;     // declined: the decline code; unavailable: the last failure or
                          // "circuit_open"
  int attempts = 0;       // calls that reached the provider
  std::chrono::seconds retry_after{1};  // unavailable: when to try again (>= 1 s)
};

class ProviderClient {
 public:
  // Throws std::invalid_argument for invalid options. registry may be null.
  ProviderClient(ProviderSimulator& provider, ProviderClientOptions options,
                 const runtime::Clock& clock, prometheus::Registry* registry);

  ProviderAnswer charge(const ChargeRequest& request);

  runtime::CircuitBreaker& breaker() { return breaker_; }

 private:
  ProviderAnswer fallback(std::string reason, int attempts);

  // Constant after construction.
  ProviderSimulator& provider_;
  const ProviderClientOptions options_;
  const runtime::Clock& clock_;
  runtime::RetryBudget budget_;
  runtime::Retry retry_;
  runtime::CircuitBreaker breaker_;
  runtime::TimeLimiter limiter_;
};

}  // namespace mambogo::payment
