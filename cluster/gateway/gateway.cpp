#include "gateway/gateway.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "runtime/admin/settings.h"
#include "runtime/auth/token.h"
#include "runtime/executor.h"
#include "runtime/health.h"
#include "runtime/http_client.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/resilience/circuit_breaker.h"
#include "runtime/resilience/retry.h"
#include "runtime/router.h"

namespace mambogo::gateway {

using runtime::ClientError;
using runtime::ClientResult;
using runtime::Header;
using runtime::Method;
using runtime::Request;
using runtime::Responder;
using runtime::Response;
using runtime::iequals;
namespace auth = runtime::auth;

// Runs callbacks after a delay on one thread (retry backoff without holding an I/O or executor
// thread). Pending callbacks are dropped, not run, on destruction.
class Gateway::Timers {
 public:
  Timers() : thread_([this] { run(); }) {}
  ~Timers() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  void after(std::chrono::milliseconds delay, std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace(std::chrono::steady_clock::now() + delay, std::move(fn));
    }
    wake_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (queue_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto first = queue_.begin();
      if (std::chrono::steady_clock::now() < first->first) {
        wake_.wait_until(lock, first->first);
        continue;
      }
      auto fn = std::move(first->second);
      queue_.erase(first);
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> queue_;  // guarded
  bool stopping_ = false;                                                                // guarded
  std::thread thread_;
};

struct Gateway::Metrics {
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* upstream_seconds = nullptr;
};

struct Gateway::RouteState {
  RouteSpec spec;
  EndpointSet* service = nullptr;
  std::unique_ptr<runtime::CircuitBreaker> breaker;  // null when disabled
  std::unique_ptr<runtime::RetryBudget> budget;
  std::unique_ptr<runtime::Retry> retry;
  prometheus::Histogram* upstream_seconds = nullptr;
  // gateway_requests_total{route,status} by status - 100, found once: a label lookup per
  // request locks the family and builds its label map.
  std::array<std::atomic<prometheus::Counter*>, 500> requests_by_status{};
};

struct Gateway::Exchange {
  RouteState* route = nullptr;
  Request request;  // a copy: the server's may be gone when a late upstream answer arrives
  Responder responder{nullptr};
  std::optional<auth::Identity> identity;
  std::vector<Header> extra_headers;  // X-RateLimit-* for every answer after the limiter
  RateLimitSpec rate_limit;           // the route's, with the run-time overrides applied
  std::optional<runtime::Retry::Call> call;
  bool breaker_permit = false;
  bool idempotent = false;
  runtime::Clock::time_point started{};
  std::string cache_state;  // "", HIT, MISS
  std::shared_ptr<Endpoint> upstream;  // last endpoint tried (named only in the access log)
  double upstream_ms = 0;
};

// What one attempt produced.
struct UpstreamAnswer {
  ClientResult result;
  std::shared_ptr<Endpoint> endpoint;
};

namespace {

constexpr Method kMethods[] = {Method::get, Method::post, Method::put, Method::patch,
                               Method::delete_, Method::options};

// (A constant table: a braced list of string literals measured each name with strlen on every
// call, twice per proxied request for each header.)
constexpr std::string_view kHopByHop[] = {"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
                                          "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
                                          "Content-Length", "Host"};

bool hop_by_hop(std::string_view name) {
  return std::any_of(std::begin(kHopByHop), std::end(kHopByHop), [name](std::string_view h) { return iequals(name, h); });
}

// "/a/../b", "/a/./b", "/a/%2e%2e/b": refused rather than guessed at.
bool has_dot_segment(std::string_view path) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    std::string decoded = runtime::percent_decode(seg);
    if (decoded == "." || decoded == "..") return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

std::string client_ip(const std::string& remote) {
  auto colon = remote.rfind(':');
  std::string ip = colon == std::string::npos ? remote : remote.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

bool is_idempotent(const Request& r) {
  switch (r.method) {
    case Method::get:
    case Method::head:
    case Method::options:
    case Method::put:
    case Method::delete_:
      return true;
    default:
      return r.header("X-Idempotency-Key").has_value();
  }
}

bool retryable_transport(ClientError e) {
  return e == ClientError::connect_failed || e == ClientError::connect_timeout ||
         e == ClientError::connection_closed;
}

Response transport_error_response(const ClientResult& r, const Request& req) {
  switch (r.error) {
    case ClientError::timeout:
      return Response::error(504, "upstream_timeout", "the service did not answer in time", req.request_id);
    case ClientError::overflow:
      return Response::error(503, "upstream_overflow", "too many requests waiting for this service",
                             req.request_id)
          .with_header("x-envoy-overloaded", "true")
          .with_header("Retry-After", "1");
    case ClientError::shutting_down:
      return Response::error(503, "shutting_down", "the gateway is shutting down", req.request_id);
    default:
      return Response::error(502, "bad_gateway",
                             "the service could not be reached (" +
                                 std::string(runtime::to_string(r.error)) + ")",
                             req.request_id);
  }
}

EndpointOutcome outcome_of(const ClientResult& r) {
  if (r.ok()) return r.response.status >= 500 ? EndpointOutcome::server_error : EndpointOutcome::success;
  switch (r.error) {
    case ClientError::connect_failed:
    case ClientError::connect_timeout:
    case ClientError::connection_closed:
    case ClientError::protocol_error:
      return EndpointOutcome::connect_failure;
    default:
      return EndpointOutcome::local_error;
  }
}

runtime::CircuitBreakerConfig breaker_config(const RouteSpec& r) {
  runtime::CircuitBreakerConfig c;
  c.name = r.id;
  c.failure_rate_threshold = r.breaker.failure_rate_threshold;
  c.sliding_window_size = r.breaker.sliding_window_size;
  c.minimum_number_of_calls = r.breaker.minimum_number_of_calls;
  c.wait_interval_in_open_state = runtime::IntervalFunction::fixed(r.breaker.wait_duration_in_open_state);
  c.permitted_number_of_calls_in_half_open_state = r.breaker.permitted_number_of_calls_in_half_open_state;
  return c;
}

}  // namespace

Gateway::Gateway(GatewaySettings settings, Dependencies deps)
    : settings_(std::move(settings)),
      deps_(deps),
      client_(std::make_unique<runtime::HttpClient>(
          runtime::ClientOptions{settings_.client_io_threads, settings_.client_caller_thread}, &deps.metrics)),
      timers_(std::make_unique<Timers>()),
      metrics_(std::make_unique<Metrics>()),
      rate_limit_on_(settings_.rate_limit_enabled && deps.limiter != nullptr),
      cache_on_(settings_.cache_enabled) {
  auto& registry = deps_.metrics.registry();
  metrics_->requests = &prometheus::BuildCounter()
                            .Name("gateway_requests_total")
                            .Help("Requests answered by the gateway, by route and status")
                            .Register(registry);
  metrics_->upstream_seconds = &prometheus::BuildHistogram()
                                    .Name("gateway_upstream_seconds")
                                    .Help("Time from sending to a service until its answer, by route")
                                    .Register(registry);
  cache_ = std::make_unique<ResponseCache>(settings_.cache, &registry, deps_.clock);
  for (const RouteSpec& spec : settings_.routes) {
    auto& set = services_[spec.service];
    if (!set) {
      set = std::make_unique<EndpointSet>(spec.service, settings_.lb_policy, settings_.outlier,
                                          settings_.limits.max_requests, deps_.clock, &registry);
      auto it = settings_.static_endpoints.find(spec.service);
      if (!settings_.kubernetes && it != settings_.static_endpoints.end())
        set_endpoints(*set, it->second);
    }
    auto state = std::make_unique<RouteState>();
    state->spec = spec;
    state->service = set.get();
    if (spec.breaker.enabled)
      state->breaker = std::make_unique<runtime::CircuitBreaker>(breaker_config(spec), deps_.clock, &registry);
    state->budget = std::make_unique<runtime::RetryBudget>();
    runtime::RetryConfig rc;
    rc.name = spec.id;
    rc.max_attempts = spec.retry.max_attempts;
    rc.interval = runtime::IntervalFunction::exponential_random(spec.retry.backoff);
    rc.retry_on_statuses = spec.retry.statuses;
    state->retry = std::make_unique<runtime::Retry>(rc, state->budget.get(), &registry);
    state->upstream_seconds = &metrics_->upstream_seconds->Add(
        {{"route", spec.id}}, prometheus::Histogram::BucketBoundaries{
                                  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    routes_.push_back(std::move(state));
  }
}

void Gateway::shutdown() { closing_.store(true); }

Gateway::~Gateway() {
  closing_.store(true);
  watchers_.clear();
  client_.reset();  // completes what is in flight with shutting_down; nobody is answered
  timers_.reset();
}

void Gateway::set_endpoints(EndpointSet& set, const std::vector<EndpointAddress>& addresses) {
  std::vector<std::shared_ptr<Endpoint>> list;
  for (const auto& a : addresses) {
    if (auto existing = set.find(a)) {
      list.push_back(std::move(existing));
      continue;
    }
    runtime::UpstreamOptions o;
    o.name = set.service() + "/" + a.to_string();
    o.host = a.host;
    o.port = a.port;
    o.max_connections = settings_.limits.max_connections;
    o.max_pending_requests = settings_.limits.max_pending;
    o.connect_timeout = settings_.limits.connect_timeout;
    o.request_timeout = std::chrono::minutes(10);  // every request sets the route's own
    list.push_back(std::make_shared<Endpoint>(a, &client_->upstream(o)));
  }
  set.set_endpoints(std::move(list));
}

EndpointSet* Gateway::endpoints(const std::string& service) {
  auto it = services_.find(service);
  return it == services_.end() ? nullptr : it->second.get();
}

void Gateway::start_discovery() {
  if (!settings_.kubernetes) return;
  for (auto& [service, set] : services_) {
    KubeWatchOptions o = settings_.kube;
    o.endpoints_name = service;
    EndpointSet* target = set.get();
    watchers_.push_back(std::make_unique<KubeEndpointsWatcher>(
        o,
        [this, target](std::vector<EndpointAddress> addresses) {
          deps_.logger.info("endpoints changed", {{"service", target->service()}, {"count", addresses.size()}});
          set_endpoints(*target, addresses);
        },
        deps_.logger));
    watchers_.back()->start();
  }
}

void Gateway::install_routes(runtime::Router& router) {
  for (auto& state : routes_) {
    RouteState* route = state.get();
    for (const std::string& path : route->spec.paths)
      for (Method m : kMethods)
        router.add_async(m, path, [this, route](Request& r, Responder responder) {
          handle(*route, r, std::move(responder));
        });
  }
}

void Gateway::add_health_checks(runtime::Health& health) {
  health.add_check(
      "rateLimiter",
      [this]() {
        if (!deps_.limiter) return runtime::CheckResult{runtime::HealthStatus::up, {{"enabled", false}}};
        auto r = deps_.limiter->health_check();
        r.details["enabled"] = rate_limit_on_.load();
        return r;
      },
      false);
  health.add_check(
      "upstreams",
      [this]() {
        runtime::CheckResult r;
        for (auto& [service, set] : services_) {
          nlohmann::json list = nlohmann::json::array();
          int healthy = 0;
          for (const auto& e : set->status()) {
            list.push_back({{"address", e.address.to_string()},
                            {"ejected", e.ejected},
                            {"timesEjected", e.times_ejected},
                            {"activeRequests", e.active_requests}});
            healthy += e.ejected ? 0 : 1;
          }
          r.details[service] = {{"policy", std::string(to_string(set->policy()))},
                                {"healthy", healthy},
                                {"endpoints", list}};
          if (healthy == 0) r.status = runtime::HealthStatus::degraded;
        }
        r.details["discovery"] = settings_.kubernetes ? "kubernetes" : "static";
        for (const auto& w : watchers_)
          if (!w->synced()) r.status = runtime::HealthStatus::degraded;
        return r;
      },
      false);
}

void Gateway::add_switches(runtime::RuntimeSettings& switches) {
  switches.add_bool(
      "gateway.ratelimit.enabled", "Redis rate limiting on every route that has it",
      [this] { return rate_limit_on_.load(); },
      [this](bool on) { rate_limit_on_.store(on && deps_.limiter != nullptr); });
  // The manifests give the load room (10000/s); a drill lowers the bucket to the guide's
  // 100/s, burst 200, to show a noisy user being limited. 0: each route's configured value.
  switches.add_integer(
      "gateway.ratelimit.replenish-rate", "token bucket refill per second on every limited route (0: as configured)", 0,
      1'000'000'000, [this] { return std::int64_t(replenish_override_.load()); },
      [this](std::int64_t v) { replenish_override_.store(int(v)); });
  switches.add_integer(
      "gateway.ratelimit.burst-capacity", "token bucket size on every limited route (0: as configured)", 0,
      1'000'000'000, [this] { return std::int64_t(burst_override_.load()); },
      [this](std::int64_t v) { burst_override_.store(int(v)); });
  switches.add_bool(
      "gateway.cache.enabled", "response cache on cacheable routes", [this] { return cache_on_.load(); },
      [this](bool on) { cache_on_.store(on); });
}

void Gateway::handle(RouteState& route, Request& in, Responder responder) {
  auto ex = std::make_shared<Exchange>();
  ex->route = &route;
  // The exchange outlives the server's copy (retries, a handler timeout), so it keeps its own.
  // The headers and body, the bulk of it (a bearer token alone is ~700 bytes), are taken
  // rather than copied: the server needs only the request line, id and peer back (router.h).
  ex->request.method = in.method;
  ex->request.method_token = in.method_token;
  ex->request.target = in.target;
  ex->request.request_id = in.request_id;
  ex->request.remote_address = in.remote_address;
  ex->request.path_params = in.path_params;
  ex->request.headers = std::move(in.headers);
  ex->request.body = std::move(in.body);
  const Request& request = ex->request;
  ex->responder = std::move(responder);
  ex->started = deps_.clock.now();
  ex->idempotent = is_idempotent(request);

  if (has_dot_segment(request.path()))
    return finish(ex, Response::error(400, "bad_request", "dot segments are not allowed in the path",
                                      request.request_id));

  const Access access = route.spec.access;
  const bool read = request.method == Method::get || request.method == Method::head;
  const bool anonymous_ok = access == Access::public_ ||
                            (access == Access::public_read && read && settings_.public_products);
  if (!anonymous_ok || request.header("Authorization")) {  // required, or presented: it must be valid
    auth::VerifyResult verified = deps_.verifier.verify(request);
    if (!verified) return finish(ex, auth::unauthorized(verified, request));
    if (!anonymous_ok) {
      const std::string_view role = access == Access::admin ? auth::kRoleAdmin : auth::kRoleUser;
      if (!verified.identity->has_role(role)) return finish(ex, auth::forbidden(role, request));
    }
    ex->identity = std::move(verified.identity);
  }
  rate_limit_then_continue(ex);
}

void Gateway::rate_limit_then_continue(const std::shared_ptr<Exchange>& ex) {
  ex->rate_limit = ex->route->spec.rate_limit;
  if (const int v = replenish_override_.load(); v > 0) ex->rate_limit.replenish_rate = v;
  if (const int v = burst_override_.load(); v > 0) ex->rate_limit.burst_capacity = v;
  const RateLimitSpec& spec = ex->rate_limit;
  if (!spec.enabled || !rate_limit_on_.load()) return serve(ex);
  auto decided = [this, ex](const RateLimitDecision& d) {
    if (closing_.load()) return;
    RedisRateLimiter::add_response_headers(d, ex->rate_limit, ex->extra_headers);
    if (d.allowed) return serve(ex);
    if (d.redis_failed)
      return finish(ex, Response::error(503, "rate_limiter_unavailable",
                                        "rate limiting is unavailable and configured to fail closed",
                                        ex->request.request_id)
                            .with_header("Retry-After", "1"));
    finish(ex, Response::error(429, "too_many_requests", "rate limit exceeded", ex->request.request_id));
  };
  std::string key = ex->identity ? ex->identity->subject : "ip:" + client_ip(ex->request.remote_address);
  // Pipelined on this I/O thread when the limiter has the async client; else on the executor.
  if (deps_.limiter->has_async()) return deps_.limiter->allow_async(key, spec, std::move(decided));
  auto task = [this, ex, key = std::move(key), decided = std::move(decided)] {
    decided(deps_.limiter->allow(key, ex->rate_limit));
  };
  if (deps_.executor.submit(std::move(task)) == runtime::BoundedExecutor::Submitted::rejected)
    finish(ex, Response::error(503, "overloaded", "executor queue is full", ex->request.request_id)
                   .with_header("Retry-After", "1"));
}

void Gateway::serve(const std::shared_ptr<Exchange>& ex) {
  RouteState& route = *ex->route;
  const std::string user = ex->identity ? ex->identity->subject : std::string();
  if (route.spec.cache && cache_on_.load() && ex->request.method == Method::get) {
    if (auto hit = cache_->lookup(ex->request, user)) {
      ex->cache_state = "HIT";
      auto inm = ex->request.header("If-None-Match");
      Response r = std::move(hit->response);
      if (inm && if_none_match_matches(*inm, hit->etag)) {
        r.status = 304;
        r.body.clear();
      }
      r.headers.push_back({"Age", std::to_string(hit->age.count())});
      return finish(ex, std::move(r));
    }
    ex->cache_state = "MISS";
  }
  if (route.breaker && !route.breaker->try_acquire_permission()) {
    const auto snap = route.breaker->snapshot();
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(snap.open_until - deps_.clock.now());
    const long long retry_after = std::max<long long>(1, wait.count() + 1);
    return finish(ex, Response::error(503, "circuit_open",
                                      "the circuit breaker of route " + route.spec.id +
                                          " is open: the service is failing, try again later",
                                      ex->request.request_id)
                          .with_header("Retry-After", std::to_string(retry_after)));
  }
  ex->breaker_permit = route.breaker != nullptr;
  ex->call.emplace(route.retry->start());
  attempt(ex);
}

void Gateway::attempt(const std::shared_ptr<Exchange>& ex) {
  if (closing_.load()) return;
  RouteState& route = *ex->route;
  Pick pick = route.service->pick();
  if (pick.result != Pick::Result::ok) {
    ex->call->on_failure();
    const bool overflow = pick.result == Pick::Result::overflow;
    Response r = overflow ? Response::error(503, "upstream_overflow",
                                            "every endpoint of " + route.spec.service + " is at its request limit",
                                            ex->request.request_id)
                                .with_header("x-envoy-overloaded", "true")
                                .with_header("Retry-After", "1")
                          : Response::error(503, "no_healthy_upstream",
                                            "no endpoint of " + route.spec.service + " is available",
                                            ex->request.request_id)
                                .with_header("Retry-After", "1");
    if (ex->breaker_permit) {
      ex->breaker_permit = false;
      const auto elapsed = deps_.clock.now() - ex->started;
      if (overflow) route.breaker->on_ignored_error(elapsed);  // our limit, not its failure
      else route.breaker->on_error(elapsed, true);
    }
    return finish(ex, std::move(r));
  }
  ex->upstream = pick.endpoint;

  runtime::OutgoingRequest out;
  out.method = ex->request.method;
  out.method_token = ex->request.method_token;
  out.target = upstream_target(route.spec, ex->request.target);
  out.body = ex->request.body;
  out.timeout = route.spec.timeout;
  const bool own_conditionals = route.spec.cache && cache_on_.load() && ex->request.method == Method::get;
  std::string forwarded_for;
  out.headers.reserve(ex->request.headers.size() + 4);
  for (const Header& h : ex->request.headers) {
    if (hop_by_hop(h.name) || iequals(h.name, "X-Request-Id") || iequals(h.name, "X-Forwarded-Proto") ||
        iequals(h.name, "X-Forwarded-Host"))
      continue;
    if (iequals(h.name, "X-Forwarded-For")) {
      forwarded_for = h.value;
      continue;
    }
    if (own_conditionals && (iequals(h.name, "If-None-Match") || iequals(h.name, "If-Modified-Since")))
      continue;
    out.headers.push_back(h);
  }
  const std::string ip = client_ip(ex->request.remote_address);
  out.headers.push_back({"X-Forwarded-For", forwarded_for.empty() ? ip : forwarded_for + ", " + ip});
  out.headers.push_back({"X-Forwarded-Proto", "http"});
  if (auto host = ex->request.header("Host")) out.headers.push_back({"X-Forwarded-Host", std::string(*host)});
  out.headers.push_back({"X-Request-Id", ex->request.request_id});

  runtime::Upstream& upstream = *pick.endpoint->upstream();
  client_->send(upstream, std::move(out), [this, ex, endpoint = pick.endpoint](ClientResult r) {
    on_upstream_result(ex, UpstreamAnswer{std::move(r), endpoint});
  });
}

void Gateway::on_upstream_result(const std::shared_ptr<Exchange>& ex, UpstreamAnswer answer) {
  if (closing_.load()) return;
  RouteState& route = *ex->route;
  ClientResult& r = answer.result;
  route.service->release(*answer.endpoint, outcome_of(r));
  if (r.ok()) {
    const double seconds = std::chrono::duration<double>(r.elapsed).count();
    route.upstream_seconds->Observe(seconds);
    ex->upstream_ms += seconds * 1000.0;
  }
  const bool retryable = ex->idempotent && (r.ok() ? route.retry->is_retryable_status(r.response.status)
                                                   : retryable_transport(r.error));
  if (retryable) {
    if (auto wait = ex->call->on_retryable_failure()) {
      timers_->after(*wait, [this, ex] { attempt(ex); });
      return;
    }
  }
  const bool failed = !r.ok() || r.response.status >= 500;
  if (failed) ex->call->on_failure();
  else ex->call->on_success();
  if (ex->breaker_permit) {
    ex->breaker_permit = false;
    const auto elapsed = deps_.clock.now() - ex->started;
    if (failed && r.error != ClientError::overflow) route.breaker->on_error(elapsed, true);
    else if (r.error == ClientError::overflow) route.breaker->on_ignored_error(elapsed);
    else route.breaker->on_success(elapsed);
  }
  if (!r.ok()) return finish(ex, transport_error_response(r, ex->request));

  // The service's answer is passed on as it is, less what this hop writes itself.
  Response response = std::move(r.response);
  response.close_connection = false;  // the service's connection, not the client's
  std::erase_if(response.headers, [](const Header& h) {
    return hop_by_hop(h.name) || iequals(h.name, "Content-Type") || iequals(h.name, "Date") ||
           iequals(h.name, "X-Request-Id");
  });
  if (ex->cache_state == "MISS") {
    const std::string user = ex->identity ? ex->identity->subject : std::string();
    const std::string etag = cache_->store(ex->request, user, response);
    auto inm = ex->request.header("If-None-Match");
    if (response.status == 200 && inm && if_none_match_matches(*inm, etag)) {
      response.status = 304;
      response.body.clear();
    }
  }
  finish(ex, std::move(response));
}

prometheus::Counter& Gateway::request_counter(RouteState& route, int status) {
  auto add = [&] { return &metrics_->requests->Add({{"route", route.spec.id}, {"status", std::to_string(status)}}); };
  if (status < 100 || status > 599) return *add();
  auto& slot = route.requests_by_status[static_cast<std::size_t>(status - 100)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (!counter) {
    counter = add();  // the family returns the same counter to every thread
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

void Gateway::finish(const std::shared_ptr<Exchange>& ex, Response response) {
  // Taken, not copied: the exchange ends here (a retry never gets past a finish).
  response.headers.reserve(response.headers.size() + ex->extra_headers.size() + 1);
  for (auto& h : ex->extra_headers) response.headers.push_back(std::move(h));
  ex->extra_headers.clear();
  if (!ex->cache_state.empty()) response.headers.push_back({"X-Gateway-Cache", ex->cache_state});
  const int status = response.status;
  request_counter(*ex->route, status).Increment();
  if (settings_.access_log && deps_.logger.enabled(runtime::LogLevel::info)) {
    nlohmann::json fields{{"type", "proxy"},
                          {"route", ex->route->spec.id},
                          {"method", ex->request.method_token},
                          {"path", ex->request.target},
                          {"status", status},
                          {"request_id", ex->request.request_id},
                          {"duration_ms", std::chrono::duration<double, std::milli>(deps_.clock.now() - ex->started).count()}};
    if (ex->upstream) {
      fields["upstream"] = ex->upstream->address().to_string();
      fields["upstream_ms"] = ex->upstream_ms;
      fields["attempts"] = ex->call ? ex->call->attempts() : 0;
    }
    if (!ex->cache_state.empty()) fields["cache"] = ex->cache_state;
    if (ex->identity) fields["user"] = ex->identity->subject;
    deps_.logger.info("proxy", fields);
  }
  ex->responder.send(std::move(response));
}

}  // namespace mambogo::gateway
