// The API gateway: every configured route becomes an asynchronous handler that takes a request
// through these steps, each switchable per route (route_table.h) or globally (gateway_config.h):
//
//   1. path check     dot segments ("/../", "/./", also percent-encoded) -> 400
//   2. authentication TokenVerifier; a missing/invalid token where one is needed -> 401 with
//                     WWW-Authenticate: Bearer error="invalid_token", error_description=...;
//                     a present but invalid token is refused on public routes too; a token
//                     without the role -> 403. The Authorization header is forwarded (services
//                     verify again).
//   3. rate limit     RedisRateLimiter, keyed by the token's `sub` (client address when
//                     anonymous): pipelined on the request's own I/O thread when the limiter
//                     has its AsyncRedis, else on the blocking executor; X-RateLimit-* headers;
//                     429 when denied; 503 when Redis is down and the failure mode is closed.
//   4. cache          GET on cacheable routes: a fresh hit answers at once (X-Gateway-Cache: HIT,
//                     Age), If-None-Match -> 304; misses are stored (response_cache.h).
//   5. breaker        per-route CircuitBreaker; open -> 503 {"error":"circuit_open",...} with
//                     Retry-After (seconds until probes are let through, at least 1).
//   6. balancing      EndpointSet of the route's service (policy, outlier ejection, per-endpoint
//                     request limit -> 503 `upstream_overflow` + x-envoy-overloaded: true).
//   7. proxy          HttpClient (pooled keep-alive, max connections / pending per endpoint;
//                     in caller-thread mode, GATEWAY_CLIENT_CALLER_THREAD, the pools are per I/O
//                     thread and the exchange never leaves the request's thread),
//                     route timeout (-> 504), transport failure (-> 502); headers forwarded but
//                     hop-by-hop ones; X-Request-Id, X-Forwarded-For (appended), -Proto, -Host.
//   8. retry          idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) or any method with
//                     X-Idempotency-Key, on connection failures and the route's retry statuses,
//                     with backoff and the runtime's retry budget; each attempt picks anew.
//
// Metrics: gateway_requests_total{route,status}, gateway_upstream_seconds{route} (histogram, one
// observation per upstream answer), plus those of the breaker (resilience4j_circuitbreaker_*
// {name=<route>}), retry, limiter, cache, endpoint sets and the HTTP client.
// Health (non-critical checks on /health): "rateLimiter" (failure mode, Redis failures) and
// "upstreams" (endpoints per service and their outlier state; discovery sync).
//
// Ownership: the Gateway owns its HTTP client, endpoint sets, breakers, cache and discovery
// watchers. The dependencies must outlive it. Destroy the server first: the destructor drops
// requests still waiting for an upstream without answering them.
// Thread-safety: handlers run on the server's I/O threads; upstream completions and pipelined
// rate-limit decisions on the same thread (caller-thread mode), else on the client's threads
// and the executor; retry waits on a timer thread (a retry's exchange then runs on the
// client's own threads); shared state is in the thread-safe components named above.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/gateway_config.h"
#include "runtime/clock.h"

namespace prometheus {
class Counter;
}

namespace mambogo::runtime {
class BoundedExecutor;
class Health;
class HttpClient;
class Logger;
class MetricsRegistry;
class Router;
class RuntimeSettings;
struct Request;
class Responder;
namespace auth {
class TokenVerifier;
}
}  // namespace mambogo::runtime

namespace mambogo::gateway {

struct UpstreamAnswer;

class Gateway {
 public:
  struct Dependencies {
    const runtime::auth::TokenVerifier& verifier;
    runtime::BoundedExecutor& executor;  // runs rate-limit decisions on the blocking pool
    RedisRateLimiter* limiter;           // null: no rate limiting
    runtime::MetricsRegistry& metrics;
    runtime::Logger& logger;
    const runtime::Clock& clock;
  };

  // Throws std::invalid_argument on inconsistent settings (e.g. a route's breaker values).
  Gateway(GatewaySettings settings, Dependencies deps);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // From now on every completion (upstream answer, rate-limit decision) is dropped instead of
  // acted on. The destructor does it first; call it earlier when a dependency that may still
  // complete requests (the limiter's AsyncRedis) is destroyed before the gateway.
  void shutdown();

  // One async route per method and path template of every configured route.
  void install_routes(runtime::Router& router);
  void add_health_checks(runtime::Health& health);
  // gateway.ratelimit.enabled, gateway.cache.enabled on /admin/settings.
  void add_switches(runtime::RuntimeSettings& switches);
  // Starts the Kubernetes watchers (GATEWAY_DISCOVERY=kubernetes); static lists are in place
  // from construction. Call once, before the server starts (health checks read the watchers).
  void start_discovery();

  // The endpoint set of a service, or null.
  EndpointSet* endpoints(const std::string& service);

  struct RouteState;
  struct Exchange;
  class Timers;

 private:
  // Takes the headers and body out of `in` (see runtime/router.h, AsyncHandler).
  void handle(RouteState& route, runtime::Request& in, runtime::Responder responder);
  void rate_limit_then_continue(const std::shared_ptr<Exchange>& ex);
  void serve(const std::shared_ptr<Exchange>& ex);
  void attempt(const std::shared_ptr<Exchange>& ex);
  void on_upstream_result(const std::shared_ptr<Exchange>& ex, UpstreamAnswer answer);
  void finish(const std::shared_ptr<Exchange>& ex, runtime::Response response);
  prometheus::Counter& request_counter(RouteState& route, int status);
  void set_endpoints(EndpointSet& set, const std::vector<EndpointAddress>& addresses);

  // Constant after construction.
  const GatewaySettings settings_;
  Dependencies deps_;
  std::unique_ptr<runtime::HttpClient> client_;
  std::map<std::string, std::unique_ptr<EndpointSet>> services_;
  std::vector<std::unique_ptr<RouteState>> routes_;
  std::unique_ptr<ResponseCache> cache_;
  std::unique_ptr<Timers> timers_;
  std::vector<std::unique_ptr<KubeEndpointsWatcher>> watchers_;
  struct Metrics;
  std::unique_ptr<Metrics> metrics_;

  std::atomic<bool> rate_limit_on_;
  std::atomic<int> replenish_override_{0}, burst_override_{0};  // 0: the route's own
  std::atomic<bool> cache_on_;
  std::atomic<bool> closing_{false};
};

}  // namespace mambogo::gateway
