// The gateway's routes: which public paths go to which service, who may call them, and the
// per-route policies (rate limit, cache, breaker, retry, timeout). Loaded from a routes file
// (GATEWAY_ROUTES_FILE, JSON or YAML, chosen by the extension) or the built-in defaults, which
// follow the seed's /api/** layout:
//
//   id          paths                   service          access
//   products    /api/products/**        product-service  public-read   (response cache on)
//   categories  /api/categories/**      product-service  public-read   (response cache on)
//   cart        /api/cart/**            cart-service     user
//   orders      /api/orders/**          order-service    user
//   payments    /api/payments/**        payment-service  user
//   admin-*     /admin/<service>/**     <service>        admin         (rewritten to /admin/**)
// /api/inventory/** is internal (service to service) and not routed: the gateway answers 404.
//
// File shape (YAML the same, keys identical):
//   {"routes": [{"id": "products", "paths": ["/api/products/**"], "service": "product-service",
//                "access": "public-read" | "public" | "user" | "admin",
//                "cache": true, "timeout": "5s",
//                "prefixRewrite": {"from": "/admin/products", "to": "/admin"},
//                "rateLimit": {"enabled": true, "replenishRate": 100, "burstCapacity": 200,
//                              "requestedTokens": 1},
//                "circuitBreaker": {"enabled": true, "failureRateThreshold": 50,
//                                   "slidingWindowSize": 100, "minimumNumberOfCalls": 100,
//                                   "waitDurationInOpenState": "60s",
//                                   "permittedNumberOfCallsInHalfOpenState": 10},
//                "retry": {"maxAttempts": 3, "backoff": "25ms", "statuses": [502, 503, 504]}}]}
// Omitted fields take the defaults given to load_routes() (from the GATEWAY_* variables).
// Paths are runtime Router templates ("/api/products/**" also matches "/api/products").
//
// Errors: load_routes()/parse_routes() throw std::invalid_argument naming the route and field.
// Thread-safety: plain values; immutable once loaded.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mambogo::gateway {

// public-read: GET/HEAD are public when product browsing is public (GATEWAY_PUBLIC_PRODUCTS),
// every other method (and every method otherwise) needs the user role.
enum class Access { public_, public_read, user, admin };
std::string_view to_string(Access a);

struct RateLimitSpec {
  bool enabled = true;
  int replenish_rate = 100;  // tokens per second, >= 1
  int burst_capacity = 200;  // >= replenish_rate, or 0 (blocks everything)
  int requested_tokens = 1;  // >= 1
};

struct BreakerSpec {
  bool enabled = true;
  float failure_rate_threshold = 50;
  int sliding_window_size = 100;
  int minimum_number_of_calls = 100;
  std::chrono::milliseconds wait_duration_in_open_state{60'000};
  int permitted_number_of_calls_in_half_open_state = 10;
};

struct RetrySpec {
  int max_attempts = 3;  // including the first; 1 disables retries
  std::chrono::milliseconds backoff{25};  // exponential (x1.5) with jitter (+-50%) from here
  std::vector<int> statuses{502, 503, 504};
};

struct PrefixRewrite {
  std::string from;  // a prefix of the request path
  std::string to;    // what replaces it
};

struct RouteSpec {
  std::string id;                  // `route` label; unique
  std::vector<std::string> paths;  // router templates
  std::string service;             // a service name: product-service, ...
  Access access = Access::user;
  bool cache = false;              // response cache for GETs
  std::chrono::milliseconds timeout{5'000};
  std::optional<PrefixRewrite> rewrite;
  RateLimitSpec rate_limit;
  BreakerSpec breaker;
  RetrySpec retry;
};

// The values a route takes for what it does not say itself.
struct RouteDefaults {
  std::chrono::milliseconds timeout{5'000};
  RateLimitSpec rate_limit;
  BreakerSpec breaker;
  RetrySpec retry;
};

std::vector<RouteSpec> default_routes(const RouteDefaults& defaults);
// Parses the document above. Throws std::invalid_argument.
std::vector<RouteSpec> parse_routes(const nlohmann::json& document, const RouteDefaults& defaults);
// Reads a .json, .yaml or .yml file; an empty path gives default_routes(). Throws
// std::invalid_argument (unreadable file, syntax error, bad field).
std::vector<RouteSpec> load_routes(const std::string& path, const RouteDefaults& defaults);

// The path sent upstream: the rewrite applied to `target`'s path (the query is kept).
std::string upstream_target(const RouteSpec& route, std::string_view target);

}  // namespace mambogo::gateway
