#include "gateway/route_table.h"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

namespace mambogo::gateway {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

[[noreturn]] void fail(const std::string& route, const std::string& field, const std::string& why) {
  throw std::invalid_argument("route '" + route + "': " + field + " " + why);
}

// "250ms", "5s", "2m", "1h", or a number of milliseconds.
milliseconds parse_duration(const json& value, const std::string& route, const std::string& field) {
  if (value.is_number_integer()) return milliseconds(value.get<std::int64_t>());
  if (!value.is_string()) fail(route, field, "must be a duration such as \"250ms\" or \"5s\"");
  const std::string text = value.get<std::string>();
  std::size_t used = 0;
  long long n = 0;
  try {
    n = std::stoll(text, &used);
  } catch (const std::exception&) {
    fail(route, field, "must be a duration such as \"250ms\" or \"5s\"");
  }
  const std::string unit = text.substr(used);
  long long factor = unit.empty() || unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000
                     : unit == "h" ? 3'600'000 : -1;
  if (factor < 0 || n < 0) fail(route, field, "must be a duration such as \"250ms\" or \"5s\"");
  return milliseconds(n * factor);
}

int int_field(const json& object, const char* name, int fallback, int min, int max,
              const std::string& route) {
  if (!object.contains(name)) return fallback;
  const json& v = object.at(name);
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max)
    fail(route, name, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max));
  return v.get<int>();
}

bool bool_field(const json& object, const char* name, bool fallback, const std::string& route) {
  if (!object.contains(name)) return fallback;
  if (!object.at(name).is_boolean()) fail(route, name, "must be true or false");
  return object.at(name).get<bool>();
}

Access parse_access(const json& v, const std::string& route) {
  const std::string s = v.is_string() ? v.get<std::string>() : "";
  if (s == "public") return Access::public_;
  if (s == "public-read") return Access::public_read;
  if (s == "user") return Access::user;
  if (s == "admin") return Access::admin;
  fail(route, "access", "must be public, public-read, user or admin");
}

RateLimitSpec parse_rate_limit(const json& o, RateLimitSpec r, const std::string& route) {
  if (!o.is_object()) fail(route, "rateLimit", "must be an object");
  r.enabled = bool_field(o, "enabled", r.enabled, route);
  r.replenish_rate = int_field(o, "replenishRate", r.replenish_rate, 1, 1'000'000'000, route);
  r.burst_capacity = int_field(o, "burstCapacity", r.burst_capacity, 0, 1'000'000'000, route);
  r.requested_tokens = int_field(o, "requestedTokens", r.requested_tokens, 1, 1'000'000'000, route);
  if (r.burst_capacity != 0 && r.burst_capacity < r.replenish_rate)
    fail(route, "rateLimit.burstCapacity", "must be >= replenishRate (or 0, which blocks everything)");
  return r;
}

BreakerSpec parse_breaker(const json& o, BreakerSpec b, const std::string& route) {
  if (!o.is_object()) fail(route, "circuitBreaker", "must be an object");
  b.enabled = bool_field(o, "enabled", b.enabled, route);
  if (o.contains("failureRateThreshold")) {
    const json& v = o.at("failureRateThreshold");
    if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 100)
      fail(route, "circuitBreaker.failureRateThreshold", "must be a percentage in (0, 100]");
    b.failure_rate_threshold = v.get<float>();
  }
  b.sliding_window_size = int_field(o, "slidingWindowSize", b.sliding_window_size, 1, 100'000, route);
  b.minimum_number_of_calls =
      int_field(o, "minimumNumberOfCalls", b.minimum_number_of_calls, 1, 100'000, route);
  b.permitted_number_of_calls_in_half_open_state =
      int_field(o, "permittedNumberOfCallsInHalfOpenState",
                b.permitted_number_of_calls_in_half_open_state, 1, 100'000, route);
  if (o.contains("waitDurationInOpenState"))
    b.wait_duration_in_open_state =
        parse_duration(o.at("waitDurationInOpenState"), route, "circuitBreaker.waitDurationInOpenState");
  if (b.wait_duration_in_open_state.count() < 1)
    fail(route, "circuitBreaker.waitDurationInOpenState", "must be at least 1ms");
  return b;
}

RetrySpec parse_retry(const json& o, RetrySpec r, const std::string& route) {
  if (!o.is_object()) fail(route, "retry", "must be an object");
  r.max_attempts = int_field(o, "maxAttempts", r.max_attempts, 1, 10, route);
  if (o.contains("backoff")) r.backoff = parse_duration(o.at("backoff"), route, "retry.backoff");
  if (r.backoff.count() < 1) fail(route, "retry.backoff", "must be at least 1ms");
  if (o.contains("statuses")) {
    const json& s = o.at("statuses");
    if (!s.is_array()) fail(route, "retry.statuses", "must be an array of 5xx status codes");
    r.statuses.clear();
    for (const json& code : s) {
      if (!code.is_number_integer() || code.get<int>() < 500 || code.get<int>() > 599)
        fail(route, "retry.statuses", "must be an array of 5xx status codes");
      r.statuses.push_back(code.get<int>());
    }
  }
  return r;
}

RouteSpec parse_route(const json& o, const RouteDefaults& d) {
  if (!o.is_object() || !o.contains("id") || !o.at("id").is_string() ||
      o.at("id").get<std::string>().empty())
    throw std::invalid_argument("every route needs a non-empty string \"id\"");
  RouteSpec r;
  r.id = o.at("id").get<std::string>();
  if (!o.contains("service") || !o.at("service").is_string() || o.at("service").get<std::string>().empty())
    fail(r.id, "service", "must name a service");
  r.service = o.at("service").get<std::string>();
  if (!o.contains("paths") || !o.at("paths").is_array() || o.at("paths").empty())
    fail(r.id, "paths", "must be a non-empty array of path templates");
  for (const json& p : o.at("paths")) {
    if (!p.is_string() || p.get<std::string>().empty() || p.get<std::string>().front() != '/')
      fail(r.id, "paths", "entries must be templates starting with '/'");
    r.paths.push_back(p.get<std::string>());
  }
  r.access = o.contains("access") ? parse_access(o.at("access"), r.id) : Access::user;
  r.cache = bool_field(o, "cache", false, r.id);
  r.timeout = o.contains("timeout") ? parse_duration(o.at("timeout"), r.id, "timeout") : d.timeout;
  if (r.timeout.count() < 1) fail(r.id, "timeout", "must be at least 1ms");
  if (o.contains("prefixRewrite")) {
    const json& w = o.at("prefixRewrite");
    if (!w.is_object() || !w.contains("from") || !w.at("from").is_string() || !w.contains("to") ||
        !w.at("to").is_string())
      fail(r.id, "prefixRewrite", "must be {\"from\": prefix, \"to\": replacement}");
    r.rewrite = PrefixRewrite{w.at("from").get<std::string>(), w.at("to").get<std::string>()};
  }
  r.rate_limit = o.contains("rateLimit") ? parse_rate_limit(o.at("rateLimit"), d.rate_limit, r.id)
                                         : d.rate_limit;
  r.breaker = o.contains("circuitBreaker") ? parse_breaker(o.at("circuitBreaker"), d.breaker, r.id)
                                           : d.breaker;
  r.retry = o.contains("retry") ? parse_retry(o.at("retry"), d.retry, r.id) : d.retry;
  return r;
}

// YAML scalars arrive untyped; numbers and booleans are recognised so the JSON reader applies.
json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& child : node) out.push_back(yaml_to_json(child));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: always a string
      if (s == "true" || s == "false") return s == "true";
      try {
        std::size_t used = 0;
        long long i = std::stoll(s, &used);
        if (used == s.size()) return i;
        double d = std::stod(s, &used);
        if (used == s.size()) return d;
      } catch (const std::exception&) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

RouteSpec make(std::string id, std::vector<std::string> paths, std::string service, Access access,
               bool cache, const RouteDefaults& d) {
  RouteSpec r;
  r.id = std::move(id);
  r.paths = std::move(paths);
  r.service = std::move(service);
  r.access = access;
  r.cache = cache;
  r.timeout = d.timeout;
  r.rate_limit = d.rate_limit;
  r.breaker = d.breaker;
  r.retry = d.retry;
  return r;
}

}  // namespace

std::string_view to_string(Access a) {
  switch (a) {
    case Access::public_: return "public";
    case Access::public_read: return "public-read";
    case Access::user: return "user";
    case Access::admin: return "admin";
  }
  return "user";
}

std::vector<RouteSpec> default_routes(const RouteDefaults& d) {
  std::vector<RouteSpec> routes{
      make("products", {"/api/products/**"}, "product-service", Access::public_read, true, d),
      make("categories", {"/api/categories/**"}, "product-service", Access::public_read, true, d),
      make("cart", {"/api/cart/**"}, "cart-service", Access::user, false, d),
      make("orders", {"/api/orders/**"}, "order-service", Access::user, false, d),
      make("payments", {"/api/payments/**"}, "payment-service", Access::user, false, d),
  };
  const std::pair<const char*, const char*> admin[] = {{"products", "product-service"},
                                                       {"cart", "cart-service"},
                                                       {"orders", "order-service"},
                                                       {"payments", "payment-service"}};
  for (const auto& [segment, service] : admin) {
    const std::string prefix = std::string("/admin/") + segment;
    RouteSpec r = make(std::string("admin-") + segment, {prefix + "/**"}, service, Access::admin,
                       false, d);
    r.rewrite = PrefixRewrite{prefix, "/admin"};
    routes.push_back(std::move(r));
  }
  return routes;
}

std::vector<RouteSpec> parse_routes(const json& document, const RouteDefaults& defaults) {
  if (!document.is_object() || !document.contains("routes") || !document.at("routes").is_array())
    throw std::invalid_argument("the routes document needs a \"routes\" array");
  std::vector<RouteSpec> routes;
  std::set<std::string> ids;
  for (const json& r : document.at("routes")) {
    routes.push_back(parse_route(r, defaults));
    if (!ids.insert(routes.back().id).second)
      throw std::invalid_argument("route id '" + routes.back().id + "' appears twice");
  }
  return routes;
}

std::vector<RouteSpec> load_routes(const std::string& path, const RouteDefaults& defaults) {
  if (path.empty()) return default_routes(defaults);
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read routes file " + path);
  std::stringstream text;
  text << in.rdbuf();
  const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  json document;
  try {
    document = yaml ? yaml_to_json(YAML::Load(text.str())) : json::parse(text.str());
  } catch (const std::exception& e) {
    throw std::invalid_argument("routes file " + path + " is not valid " +
                                (yaml ? "YAML" : "JSON") + ": " + e.what());
  }
  return parse_routes(document, defaults);
}

std::string upstream_target(const RouteSpec& route, std::string_view target) {
  if (!route.rewrite || !target.starts_with(route.rewrite->from)) return std::string(target);
  std::string out = route.rewrite->to;
  out.append(target.substr(route.rewrite->from.size()));
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

}  // namespace mambogo::gateway
