// order-service's outbound calls, as the seed's InventoryServiceClient makes them:
// Retry(CircuitBreaker(TimeLimiter(HTTP call))) with a fallback (Resilience4j's aspect order),
// over the runtime's pooled keep-alive HttpClient, authenticated with a service token.
//
//   one attempt   the breaker must permit it (else "circuit_open", not retried: waiting
//                 500 ms on an open breaker only delays the fallback); the time limiter's
//                 timeout bounds the HTTP exchange; no answer or a 5xx is a breaker failure,
//                 any other answer (also 4xx: the upstream is healthy) a success.
//   retries       max_attempts in all on no answer or 500/502/503/504, retry_wait apart.
//   fallback      when attempts run out (or the breaker refuses) the call returns the last
//                 answer or failure; the caller treats it as "unavailable" (outcomes.h).
//
// Metrics: the runtime's resilience4j_circuitbreaker_*, resilience4j_retry_calls_total and
// resilience4j_timelimiter_calls_total labelled name=<upstream>, and http_client_* with
// upstream=<upstream>.
//
// Ownership: ResilientClient borrows the HttpClient, registry and clock (they outlive it).
// Thread-safety: post() and bearer() may be called from any thread. post() blocks (it waits
// for the answer and sleeps between attempts): call it from executor threads only.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "order/outcomes.h"
#include "runtime/auth/token.h"
#include "runtime/clock.h"
#include "runtime/http_client.h"
#include "runtime/resilience/circuit_breaker.h"
#include "runtime/resilience/retry.h"
#include "runtime/resilience/time_limiter.h"

namespace mambogo::runtime {
class Config;
class MetricsRegistry;
}  // namespace mambogo::runtime

namespace mambogo::order {

struct ResilienceSettings {
  std::chrono::milliseconds timeout{1'000};        // TimeLimiter (Resilience4j: 1 s)
  int max_attempts = 3;                            // Retry (Resilience4j: 3)
  std::chrono::milliseconds retry_wait{500};       // Retry (Resilience4j: 500 ms)
  float failure_rate_threshold = 50;               // CircuitBreaker defaults (Resilience4j)
  int sliding_window_size = 100;
  int minimum_number_of_calls = 100;
  std::chrono::milliseconds wait_in_open{60'000};
};

// Reads <PREFIX>_TIMEOUT, _RETRY_ATTEMPTS, _RETRY_WAIT, _BREAKER_FAILURE_RATE,
// _BREAKER_WINDOW, _BREAKER_MIN_CALLS, _BREAKER_WAIT (e.g. INVENTORY_TIMEOUT).
ResilienceSettings read_resilience_settings(runtime::Config& config, const std::string& prefix,
                                            const std::string& what, ResilienceSettings defaults);

// "http://host:port" (path ignored) to the upstream's options; throws std::invalid_argument.
runtime::UpstreamOptions upstream_options(const std::string& name, const std::string& url);

// Service tokens (role "service", sub = the service name) from the cluster's key set, issued
// once and re-issued when less than a third of their lifetime is left.
class ServiceTokens {
 public:
  // Throws std::invalid_argument when the key set cannot sign (TokenIssuer's rules).
  ServiceTokens(runtime::auth::KeySet keys, std::string service_name,
                std::chrono::seconds ttl = std::chrono::hours(1));
  std::string bearer();  // "Bearer <jwt>"

 private:
  const runtime::auth::TokenIssuer issuer_;
  const std::string service_name_;
  const std::chrono::seconds ttl_;
  std::mutex mutex_;  // guards the two below
  std::string token_;
  std::chrono::system_clock::time_point renew_at_{};
};

class ResilientClient {
 public:
  ResilientClient(runtime::HttpClient& client, runtime::UpstreamOptions upstream,
                  const ResilienceSettings& settings, runtime::MetricsRegistry& metrics,
                  const runtime::Clock& clock);

  // POSTs a JSON body; see the header comment for what happens on the way.
  UpstreamAnswer post(const std::string& target, const std::string& body, const std::string& bearer);

  runtime::CircuitBreaker& breaker() { return breaker_; }
  const std::string& name() const { return name_; }

 private:
  struct Attempt {
    UpstreamAnswer answer;
    bool retryable = false;
  };
  Attempt attempt(const std::string& target, const std::string& body, const std::string& bearer);

  // Constant after construction (the resilience objects are thread-safe themselves).
  const std::string name_;
  runtime::HttpClient& client_;
  runtime::Upstream& upstream_;
  const runtime::Clock& clock_;
  runtime::CircuitBreaker breaker_;
  runtime::Retry retry_;
  runtime::TimeLimiter limiter_;
};

}  // namespace mambogo::order
