#include "gateway/gateway_config.h"

#include <fstream>
#include <set>
#include <sstream>

#include "runtime/config.h"

namespace mambogo::gateway {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

int int_var(runtime::Config& c, const std::string& name, int fallback, int min, int max,
            const std::string& help) {
  return static_cast<int>(c.integer(name, fallback, min, max, help));
}

RouteDefaults read_route_defaults(runtime::Config& c) {
  RouteDefaults d;
  d.timeout = c.duration("GATEWAY_TIMEOUT", 5s, 1ms, 10min, "upstream timeout of a route that sets none");
  d.rate_limit.enabled = true;
  d.rate_limit.replenish_rate = int_var(c, "GATEWAY_RATELIMIT_REPLENISH_RATE", 100, 1, 1'000'000'000,
                                        "tokens per second added to each caller's bucket");
  d.rate_limit.burst_capacity = int_var(c, "GATEWAY_RATELIMIT_BURST_CAPACITY", 200, 0, 1'000'000'000,
                                        "bucket size (>= replenish rate; 0 blocks everything)");
  d.rate_limit.requested_tokens = int_var(c, "GATEWAY_RATELIMIT_REQUESTED_TOKENS", 1, 1, 1'000'000'000,
                                          "tokens one request costs");
  if (d.rate_limit.burst_capacity != 0 && d.rate_limit.burst_capacity < d.rate_limit.replenish_rate)
    c.report_invalid("GATEWAY_RATELIMIT_BURST_CAPACITY", std::to_string(d.rate_limit.burst_capacity),
                     "0 or a value >= GATEWAY_RATELIMIT_REPLENISH_RATE");
  d.breaker.enabled = c.boolean("GATEWAY_BREAKER_ENABLED", true, "per-route circuit breakers");
  d.breaker.failure_rate_threshold = static_cast<float>(
      c.number("GATEWAY_BREAKER_FAILURE_RATE_THRESHOLD", 50, 0.01, 100, "percent of failed calls that opens"));
  d.breaker.sliding_window_size =
      int_var(c, "GATEWAY_BREAKER_SLIDING_WINDOW_SIZE", 100, 1, 100'000, "calls in the count-based window");
  d.breaker.minimum_number_of_calls =
      int_var(c, "GATEWAY_BREAKER_MINIMUM_CALLS", 100, 1, 100'000, "calls before the rate counts");
  d.breaker.wait_duration_in_open_state =
      c.duration("GATEWAY_BREAKER_WAIT_IN_OPEN", 60s, 1ms, 1h, "time open before probing");
  d.breaker.permitted_number_of_calls_in_half_open_state =
      int_var(c, "GATEWAY_BREAKER_HALF_OPEN_CALLS", 10, 1, 100'000, "probes in half-open");
  d.retry.max_attempts = int_var(c, "GATEWAY_RETRY_MAX_ATTEMPTS", 3, 1, 10,
                                 "attempts per request, the first included (idempotent requests only)");
  d.retry.backoff = c.duration("GATEWAY_RETRY_BACKOFF", 25ms, 1ms, 10s, "first retry wait (x1.5, +-50% jitter)");
  return d;
}

void read_discovery(runtime::Config& c, GatewaySettings& s) {
  const std::string mode = c.choice("GATEWAY_DISCOVERY", "static", {"static", "kubernetes"},
                                    "where service endpoints come from");
  s.kubernetes = mode == "kubernetes";
  // In a pod, client-go's in-cluster defaults (rest.InClusterConfig): the API server at
  // KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT over https, verified with the service
  // account's CA, called with its token (re-read at every connection: Kubernetes rotates it),
  // in its namespace. Outside a pod: `kubectl proxy` on its default address.
  const std::string service_host = c.string("KUBERNETES_SERVICE_HOST", "", "set by Kubernetes in every pod: the API server's Service IP");
  const std::string service_port = c.string("KUBERNETES_SERVICE_PORT", "443", "set by Kubernetes in every pod: the API server's port");
  const bool in_cluster = !service_host.empty();
  const std::string mounts = c.string("MAMBOGO_MOUNTS", "", "set by mambogo-cluster: where the pod's volumes are on the host");
  const std::string account = c.string("GATEWAY_KUBE_SERVICEACCOUNT_DIR",
                                       runtime::mounted_path("/var/run/secrets/kubernetes.io/serviceaccount", mounts),
                                       "the mounted service account (token, ca.crt, namespace) used in a pod");
  const std::string host = service_host.find(':') != std::string::npos ? "[" + service_host + "]" : service_host;
  const std::string api = c.string("GATEWAY_KUBE_API_URL",
                                   in_cluster ? "https://" + host + ":" + service_port : "http://127.0.0.1:8001",
                                   "Kubernetes API server, http:// or https:// (in a pod: the in-cluster address)");
  std::string account_namespace;
  if (in_cluster) {
    std::ifstream in(account + "/namespace");
    std::getline(in, account_namespace);
  }
  s.kube.namespace_name = c.string("GATEWAY_KUBE_NAMESPACE", account_namespace.empty() ? "default" : account_namespace,
                                   "namespace of the Endpoints (in a pod: the service account's)");
  s.kube.port_name = c.string("GATEWAY_KUBE_PORT_NAME", "", "endpoint port name (empty: the first)");
  s.kube.token_file = c.string("GATEWAY_KUBE_TOKEN_FILE", in_cluster ? account + "/token" : "",
                               "bearer token file for the API server, re-read at every connection");
  s.kube.ca_file = c.string("GATEWAY_KUBE_CA_FILE", in_cluster ? account + "/ca.crt" : "",
                            "CA bundle to verify an https API server with (empty: the system's)");
  if (auto url = parse_api_server_url(api)) {
    s.kube.tls = url->tls;
    s.kube.api_host = url->host;
    s.kube.api_port = url->port;
  } else {
    c.report_invalid("GATEWAY_KUBE_API_URL", api, "http://host[:port] or https://host[:port]");
  }
  if (s.kubernetes) {  // checked up front: a missing file is a configuration error, not a retry loop
    if (!s.kube.token_file.empty() && !std::ifstream(s.kube.token_file))
      c.report_invalid("GATEWAY_KUBE_TOKEN_FILE", s.kube.token_file, "a readable file");
    if (!s.kube.ca_file.empty() && !std::ifstream(s.kube.ca_file))
      c.report_invalid("GATEWAY_KUBE_CA_FILE", s.kube.ca_file, "a readable PEM file");
  }
  const std::map<std::string, std::string> defaults{{"product-service", "http://127.0.0.1:8081"},
                                                    {"cart-service", "http://127.0.0.1:8082"},
                                                    {"order-service", "http://127.0.0.1:8083"},
                                                    {"payment-service", "http://127.0.0.1:8084"}};
  std::set<std::string> services;
  for (const auto& r : s.routes) services.insert(r.service);
  for (const auto& service : services) {
    auto d = defaults.find(service);
    const std::string var = service_url_variable(service);
    const std::string text = c.string(var, d == defaults.end() ? "" : d->second,
                                      service + " endpoints (static discovery): URL[,URL...]");
    auto list = parse_endpoint_list(text);
    if (list.empty() && !s.kubernetes) c.report_invalid(var, text, "http://host:port[,http://host:port...]");
    s.static_endpoints[service] = std::move(list);
  }
}

}  // namespace

std::string service_url_variable(const std::string& service) {
  std::string v;
  for (char ch : service) v += ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return v + "_URL";
}

std::vector<EndpointAddress> parse_endpoint_list(const std::string& text) {
  std::vector<EndpointAddress> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    const auto url = parse_api_server_url(item);
    if (!url || url->tls) return {};
    out.push_back({url->host, url->port});
  }
  return out;
}

GatewaySettings read_gateway_settings(runtime::Config& c) {
  GatewaySettings s;
  const RouteDefaults defaults = read_route_defaults(c);
  const std::string routes_file = c.string("GATEWAY_ROUTES_FILE", "", "routes file (.json/.yaml); empty: built-in routes");
  try {
    s.routes = load_routes(routes_file, defaults);
  } catch (const std::invalid_argument& e) {
    c.report_invalid("GATEWAY_ROUTES_FILE", routes_file, e.what());
  }
  s.public_products = c.boolean("GATEWAY_PUBLIC_PRODUCTS", true, "product browsing without a token");
  s.rate_limit_enabled = c.boolean("GATEWAY_RATELIMIT_ENABLED", true, "Redis rate limiting");
  s.failure_mode = c.choice("GATEWAY_RATELIMIT_FAILURE_MODE", "open", {"open", "closed"},
                            "Redis down: let requests pass (open) or refuse them with 503 (closed)") == "open"
                       ? FailureMode::open
                       : FailureMode::closed;
  s.cache_enabled = c.boolean("GATEWAY_CACHE_ENABLED", true, "response cache on cacheable routes");
  s.cache.max_entries = static_cast<std::size_t>(
      c.integer("GATEWAY_CACHE_MAX_ENTRIES", 10'000, 1, 10'000'000, "cached responses at most"));
  s.cache.max_ttl = c.duration("GATEWAY_CACHE_MAX_TTL", 60s, 1ms, 24h, "longest time a response is kept");
  s.cache.default_ttl = c.duration("GATEWAY_CACHE_DEFAULT_TTL", 10s, 0ms, 24h,
                                   "freshness when the response gives no max-age (0: do not cache those)");
  s.cache.max_body_bytes = static_cast<std::size_t>(
      c.integer("GATEWAY_CACHE_MAX_BODY_BYTES", 1 << 20, 0, 64 << 20, "larger responses are not cached"));
  try {
    s.lb_policy = parse_lb_policy(c.choice("GATEWAY_LB_POLICY", "round_robin",
                                           {"round_robin", "random", "least_request"},
                                           "client-side load balancing policy"));
  } catch (const std::invalid_argument&) {
  }
  s.outlier.consecutive_5xx = int_var(c, "GATEWAY_OUTLIER_CONSECUTIVE_5XX", 5, 0, 1000,
                                      "5xx/connect failures in a row that eject an endpoint (0: off)");
  s.outlier.base_ejection_time = c.duration("GATEWAY_OUTLIER_BASE_EJECTION_TIME", 30s, 1ms, 1h,
                                            "ejection time x times ejected");
  s.outlier.max_ejection_time = c.duration("GATEWAY_OUTLIER_MAX_EJECTION_TIME", 300s, 1ms, 24h,
                                           "longest ejection");
  s.outlier.max_ejection_percent = int_var(c, "GATEWAY_OUTLIER_MAX_EJECTION_PERCENT", 10, 0, 100,
                                           "at most this share of endpoints ejected (at least one)");
  s.limits.max_connections = int_var(c, "GATEWAY_UPSTREAM_MAX_CONNECTIONS", 1024, 1, 100'000,
                                     "connections per endpoint");
  s.limits.max_pending = int_var(c, "GATEWAY_UPSTREAM_MAX_PENDING", 1024, 0, 100'000,
                                 "requests waiting for a connection per endpoint");
  s.limits.max_requests = int_var(c, "GATEWAY_UPSTREAM_MAX_REQUESTS", 1024, 1, 100'000,
                                  "requests in flight per endpoint");
  s.limits.connect_timeout = c.duration("GATEWAY_UPSTREAM_CONNECT_TIMEOUT", 1s, 1ms, 1min,
                                        "connection establishment limit");
  s.client_io_threads = int_var(c, "GATEWAY_CLIENT_IO_THREADS", 1, 1, 64, "upstream client I/O threads");
  s.client_caller_thread = c.boolean("GATEWAY_CLIENT_CALLER_THREAD", true,
                                     "upstream connections per server I/O thread, used on that thread");
  s.ratelimit_pipelined = c.boolean("GATEWAY_RATELIMIT_PIPELINED", true,
                                    "rate-limit calls pipelined on the I/O thread (false: blocking pool on the executor)");
  s.ratelimit_prefetch = c.duration("GATEWAY_RATELIMIT_PREFETCH", 50ms, 0ms, 1s,
                                    "a busy bucket's pace over this long is taken from Redis ahead "
                                    "(at most 1% of its burst) and answered on the I/O thread; 0: off");
  s.access_log = c.boolean("GATEWAY_ACCESS_LOG", true, "one log line per proxied request");
  read_discovery(c, s);
  return s;
}

}  // namespace mambogo::gateway
