// The gateway's configuration, read the runtime way (environment, each overridable with a
// --kebab-case option; `mambogo-gateway --help` lists them all with their defaults):
//
//   GATEWAY_ROUTES_FILE            JSON/YAML routes (route_table.h); empty: the built-in routes
//   GATEWAY_PUBLIC_PRODUCTS        true: product/category GETs need no token
//   GATEWAY_TIMEOUT                5s     per-route upstream timeout unless the route says
//   GATEWAY_RATELIMIT_ENABLED      true
//   GATEWAY_RATELIMIT_REPLENISH_RATE / _BURST_CAPACITY / _REQUESTED_TOKENS   100 / 200 / 1
//   GATEWAY_RATELIMIT_FAILURE_MODE open | closed (Redis down: pass, or refuse with 503)
//   GATEWAY_RATELIMIT_PIPELINED    true   decisions on the I/O thread over the pipelined AsyncRedis;
//                                  false: on the executor over the blocking pool (same script)
//   GATEWAY_RATELIMIT_PREFETCH     50ms   a busy bucket's run takes this long's worth of tokens
//                                  ahead (at most 1% of the burst), answered without Redis; 0: off
//                                  (redis_rate_limiter.h)
//   GATEWAY_CACHE_ENABLED          true   response cache on routes with "cache": true
//   GATEWAY_CACHE_MAX_ENTRIES / _MAX_TTL / _DEFAULT_TTL / _MAX_BODY_BYTES  10000 / 60s / 10s / 1 MiB
//   GATEWAY_BREAKER_ENABLED        true   per-route circuit breaker, Resilience4j defaults:
//   GATEWAY_BREAKER_FAILURE_RATE_THRESHOLD 50, _SLIDING_WINDOW_SIZE 100, _MINIMUM_CALLS 100,
//   GATEWAY_BREAKER_WAIT_IN_OPEN 60s, _HALF_OPEN_CALLS 10
//   GATEWAY_RETRY_MAX_ATTEMPTS 3, GATEWAY_RETRY_BACKOFF 25ms
//   GATEWAY_LB_POLICY              round_robin | random | least_request
//   GATEWAY_OUTLIER_CONSECUTIVE_5XX 5, _BASE_EJECTION_TIME 30s, _MAX_EJECTION_TIME 300s,
//   GATEWAY_OUTLIER_MAX_EJECTION_PERCENT 10
//   GATEWAY_UPSTREAM_MAX_CONNECTIONS / _MAX_PENDING / _MAX_REQUESTS  1024 each, per endpoint
//   GATEWAY_UPSTREAM_CONNECT_TIMEOUT 1s, GATEWAY_CLIENT_IO_THREADS 1
//   GATEWAY_CLIENT_CALLER_THREAD   true   upstream pools per server I/O thread, exchanges on it
//                                  (the client's own threads then carry only retries)
//   GATEWAY_DISCOVERY              static | kubernetes
//     static:     <SERVICE>_URL per routed service (PRODUCT_SERVICE_URL, CART_SERVICE_URL, ...;
//                 defaults http://127.0.0.1:8081..8084 for the four known services), one URL or
//                 a comma-separated list of endpoints
//     kubernetes: GATEWAY_KUBE_API_URL (http://127.0.0.1:8001), GATEWAY_KUBE_NAMESPACE (default),
//                 GATEWAY_KUBE_TOKEN_FILE (empty: none), GATEWAY_KUBE_PORT_NAME (empty: first);
//                 the Endpoints object named like the service
//   GATEWAY_ACCESS_LOG             true   one "proxy" log line per proxied request
//
// Errors: problems are left in the Config (Config::finish() reports them all).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "gateway/kube_endpoints.h"
#include "gateway/load_balancer.h"
#include "gateway/redis_rate_limiter.h"
#include "gateway/response_cache.h"
#include "gateway/route_table.h"

namespace mambogo::runtime {
class Config;
}

namespace mambogo::gateway {

struct UpstreamLimits {
  int max_connections = 1024;
  int max_pending = 1024;
  int max_requests = 1024;
  std::chrono::milliseconds connect_timeout{1000};
};

struct GatewaySettings {
  std::vector<RouteSpec> routes;
  bool public_products = true;
  bool rate_limit_enabled = true;
  FailureMode failure_mode = FailureMode::open;
  bool cache_enabled = true;
  ResponseCacheOptions cache;
  LbPolicy lb_policy = LbPolicy::round_robin;
  OutlierSettings outlier;
  UpstreamLimits limits;
  int client_io_threads = 1;
  bool client_caller_thread = true;  // per-I/O-thread upstream pools (HttpClient caller-thread mode)
  bool ratelimit_pipelined = true;   // rate limiting on the async Redis client, not the executor
  std::chrono::milliseconds ratelimit_prefetch{50};  // tokens taken ahead (pipelined only)
  bool access_log = true;
  bool kubernetes = false;
  KubeWatchOptions kube;                                        // endpoints_name left empty
  std::map<std::string, std::vector<EndpointAddress>> static_endpoints;  // by service
};

GatewaySettings read_gateway_settings(runtime::Config& config);

// "PRODUCT_SERVICE_URL" for "product-service".
std::string service_url_variable(const std::string& service);
// Parses "http://h:p,http://h2:p2" (spaces allowed); empty result when any entry is malformed.
std::vector<EndpointAddress> parse_endpoint_list(const std::string& text);

}  // namespace mambogo::gateway
