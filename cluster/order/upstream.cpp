#include "order/upstream.h"

#include <charconv>
#include <stdexcept>
#include <thread>

#include "runtime/config.h"
#include "runtime/metrics.h"

namespace mambogo::order {
namespace {

using std::chrono::milliseconds;

runtime::CircuitBreakerConfig breaker_config(const std::string& name, const ResilienceSettings& s) {
  runtime::CircuitBreakerConfig c;
  c.name = name;
  c.failure_rate_threshold = s.failure_rate_threshold;
  c.sliding_window_size = s.sliding_window_size;
  c.minimum_number_of_calls = s.minimum_number_of_calls;
  c.wait_interval_in_open_state = runtime::IntervalFunction::fixed(s.wait_in_open);
  return c;
}

runtime::RetryConfig retry_config(const std::string& name, const ResilienceSettings& s) {
  runtime::RetryConfig c;
  c.name = name;
  c.max_attempts = s.max_attempts;
  c.interval = runtime::IntervalFunction::fixed(s.retry_wait);
  c.retry_on_statuses = {500, 502, 503, 504};
  return c;
}

}  // namespace

ResilienceSettings read_resilience_settings(runtime::Config& c, const std::string& p, const std::string& what,
                                            ResilienceSettings d) {
  ResilienceSettings s;
  s.timeout = c.duration(p + "_TIMEOUT", d.timeout, milliseconds(1), milliseconds(600'000),
                         "time limiter of one " + what + " call");
  s.max_attempts = static_cast<int>(c.integer(p + "_RETRY_ATTEMPTS", d.max_attempts, 1, 10,
                                              what + " attempts per call, the first included"));
  s.retry_wait = c.duration(p + "_RETRY_WAIT", d.retry_wait, milliseconds(1), milliseconds(60'000),
                            "wait between " + what + " attempts");
  s.failure_rate_threshold = static_cast<float>(c.number(p + "_BREAKER_FAILURE_RATE", d.failure_rate_threshold, 1, 100,
                                                         "failure rate (percent) that opens the " + what + " breaker"));
  s.sliding_window_size = static_cast<int>(c.integer(p + "_BREAKER_WINDOW", d.sliding_window_size, 1, 10'000,
                                                     what + " breaker's sliding window (calls)"));
  s.minimum_number_of_calls = static_cast<int>(c.integer(p + "_BREAKER_MIN_CALLS", d.minimum_number_of_calls, 1, 10'000,
                                                         "calls the " + what + " breaker needs before it can open"));
  s.wait_in_open = c.duration(p + "_BREAKER_WAIT", d.wait_in_open, milliseconds(1), milliseconds(3'600'000),
                              "time the " + what + " breaker stays open before probing");
  return s;
}

runtime::UpstreamOptions upstream_options(const std::string& name, const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("expected http://host:port, got '" + url + "'");
  std::string rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find('/'));
  const auto colon = rest.rfind(':');
  runtime::UpstreamOptions o;
  o.name = name;
  o.host = rest.substr(0, colon);
  o.port = 80;
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535)
      throw std::invalid_argument("bad port in '" + url + "'");
    o.port = static_cast<std::uint16_t>(value);
  }
  if (o.host.empty()) throw std::invalid_argument("no host in '" + url + "'");
  return o;
}

ServiceTokens::ServiceTokens(runtime::auth::KeySet keys, std::string service_name, std::chrono::seconds ttl)
    : issuer_(std::move(keys)), service_name_(std::move(service_name)), ttl_(ttl) {}

std::string ServiceTokens::bearer() {
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  if (token_.empty() || now >= renew_at_) {
    runtime::auth::TokenRequest r;
    r.subject = service_name_;
    r.roles = {std::string(runtime::auth::kRoleService)};
    r.ttl = ttl_;
    r.now = now;
    token_ = "Bearer " + issuer_.issue(r);
    renew_at_ = now + ttl_ * 2 / 3;
  }
  return token_;
}

ResilientClient::ResilientClient(runtime::HttpClient& client, runtime::UpstreamOptions upstream,
                                 const ResilienceSettings& s, runtime::MetricsRegistry& metrics,
                                 const runtime::Clock& clock)
    : name_(upstream.name),
      client_(client),
      upstream_(client.upstream(upstream)),
      clock_(clock),
      breaker_(breaker_config(name_, s), clock, &metrics.registry()),
      retry_(retry_config(name_, s), nullptr, &metrics.registry()),
      limiter_(runtime::TimeLimiterConfig{name_, s.timeout, true}, clock, &metrics.registry()) {}

ResilientClient::Attempt ResilientClient::attempt(const std::string& target, const std::string& body,
                                                  const std::string& bearer) {
  if (!breaker_.try_acquire_permission()) return {{std::nullopt, {}, "circuit_open"}, false};
  runtime::OutgoingRequest request;
  request.method = runtime::Method::post;
  request.target = target;
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", bearer}};
  request.body = body;
  request.timeout = std::chrono::duration_cast<milliseconds>(limiter_.config().timeout_duration);
  const auto started = limiter_.start();
  runtime::ClientResult r = client_.call(upstream_, std::move(request));
  const auto elapsed = clock_.now() - started;
  if (!r.ok()) {
    if (r.error == runtime::ClientError::timeout) limiter_.on_timeout();
    else limiter_.on_complete(started, false);
    breaker_.on_error(elapsed, true);
    return {{std::nullopt, {}, std::string(runtime::to_string(r.error))}, true};
  }
  const int status = r.response.status;
  const bool server_error = status >= 500;
  limiter_.on_complete(started, !server_error);
  if (server_error) breaker_.on_error(elapsed, true);
  else breaker_.on_success(elapsed);
  return {{status, std::move(r.response.body), {}}, retry_.is_retryable_status(status)};
}

UpstreamAnswer ResilientClient::post(const std::string& target, const std::string& body, const std::string& bearer) {
  auto call = retry_.start();
  while (true) {
    Attempt a = attempt(target, body, bearer);
    if (!a.retryable) {
      if (a.answer.status) call.on_success();
      else call.on_failure();
      return std::move(a.answer);
    }
    const auto wait = call.on_retryable_failure();
    if (!wait) return std::move(a.answer);  // the fallback: the caller sees "unavailable"
    std::this_thread::sleep_for(*wait);
  }
}

}  // namespace mambogo::order
