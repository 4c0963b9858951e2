#include "gateway/load_balancer.h"

#include <algorithm>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::gateway {

std::string_view to_string(LbPolicy p) {
  switch (p) {
    case LbPolicy::round_robin: return "round_robin";
    case LbPolicy::random: return "random";
    case LbPolicy::least_request: return "least_request";
  }
  return "round_robin";
}

LbPolicy parse_lb_policy(std::string_view name) {
  if (name == "round_robin") return LbPolicy::round_robin;
  if (name == "random") return LbPolicy::random;
  if (name == "least_request") return LbPolicy::least_request;
  throw std::invalid_argument("unknown load-balancing policy: " + std::string(name));
}

EndpointSet::EndpointSet(std::string service, LbPolicy policy, OutlierSettings outlier,
                         int max_requests_per_endpoint, const runtime::Clock& clock,
                         prometheus::Registry* registry, std::uint64_t seed)
    : service_(std::move(service)),
      policy_(policy),
      outlier_(outlier),
      max_requests_(max_requests_per_endpoint),
      clock_(clock),
      rng_(seed) {
  if (max_requests_ < 1) throw std::invalid_argument("max requests per endpoint must be >= 1");
  if (registry) {
    auto& gauges = prometheus::BuildGauge()
                       .Name("gateway_endpoints")
                       .Help("Endpoints of a service by outlier state")
                       .Register(*registry);
    healthy_gauge_ = &gauges.Add({{"service", service_}, {"state", "healthy"}});
    ejected_gauge_ = &gauges.Add({{"service", service_}, {"state", "ejected"}});
    ejections_ = &prometheus::BuildCounter()
                      .Name("gateway_outlier_ejections_total")
                      .Help("Endpoints ejected by outlier detection")
                      .Register(*registry)
                      .Add({{"service", service_}});
    overflows_ = &prometheus::BuildCounter()
                      .Name("gateway_upstream_overflow_total")
                      .Help("Requests refused because the endpoint's request limit was reached")
                      .Register(*registry)
                      .Add({{"service", service_}});
  }
}

EndpointSet::~EndpointSet() = default;

void EndpointSet::set_endpoints(std::vector<std::shared_ptr<Endpoint>> endpoints) {
  std::lock_guard lock(mutex_);
  endpoints_ = std::move(endpoints);
  ejected_count_ = 0;
  for (const auto& e : endpoints_) ejected_count_ += e->ejected_ ? 1 : 0;
  publish_locked();
}

std::shared_ptr<Endpoint> EndpointSet::find(const EndpointAddress& address) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : endpoints_)
    if (e->address() == address) return e;
  return nullptr;
}

void EndpointSet::return_expired_locked(runtime::Clock::time_point now) {
  if (ejected_count_ == 0) return;
  bool changed = false;
  for (const auto& e : endpoints_) {
    if (e->ejected_ && now >= e->ejected_until_) {
      e->ejected_ = false;
      e->consecutive_failures_ = 0;
      --ejected_count_;
      changed = true;
    }
  }
  if (changed) publish_locked();
}

Pick EndpointSet::pick() {
  std::lock_guard lock(mutex_);
  return_expired_locked(clock_.now());
  healthy_.clear();
  for (const auto& e : endpoints_)
    if (!e->ejected_) healthy_.push_back(e.get());
  if (healthy_.empty())  // panic routing: everything ejected, use everything
    for (const auto& e : endpoints_) healthy_.push_back(e.get());
  if (healthy_.empty()) return {};

  Endpoint* chosen = nullptr;
  const std::size_t n = healthy_.size();
  switch (policy_) {
    case LbPolicy::round_robin:
      chosen = healthy_[next_++ % n];
      break;
    case LbPolicy::random:
      chosen = healthy_[std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_)];
      break;
    case LbPolicy::least_request: {
      if (n == 1) {
        chosen = healthy_[0];
        break;
      }
      std::size_t a = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
      std::size_t b = std::uniform_int_distribution<std::size_t>(0, n - 2)(rng_);
      if (b >= a) ++b;  // two distinct choices
      chosen = healthy_[b];
      if (healthy_[a]->active_requests() <= healthy_[b]->active_requests()) chosen = healthy_[a];
      break;
    }
  }
  if (chosen->active_.load(std::memory_order_relaxed) >= max_requests_) {
    if (overflows_) overflows_->Increment();
    return Pick{Pick::Result::overflow, nullptr};
  }
  chosen->active_.fetch_add(1, std::memory_order_relaxed);
  for (const auto& e : endpoints_)
    if (e.get() == chosen) return Pick{Pick::Result::ok, e};
  return {};  // unreachable: chosen came from endpoints_
}

bool EndpointSet::may_eject_locked() const {
  const int allowed = std::max<int>(
      1, static_cast<int>(endpoints_.size()) * outlier_.max_ejection_percent / 100);
  return ejected_count_ < allowed;
}

void EndpointSet::release(Endpoint& endpoint, EndpointOutcome outcome) {
  endpoint.active_.fetch_sub(1, std::memory_order_relaxed);
  if (outcome == EndpointOutcome::local_error || outlier_.consecutive_5xx <= 0) return;
  std::lock_guard lock(mutex_);
  if (outcome == EndpointOutcome::success) {
    endpoint.consecutive_failures_ = 0;
    return;
  }
  if (++endpoint.consecutive_failures_ < outlier_.consecutive_5xx || endpoint.ejected_) return;
  const bool member = std::any_of(endpoints_.begin(), endpoints_.end(),
                                  [&](const auto& e) { return e.get() == &endpoint; });
  if (!member || !may_eject_locked()) return;
  endpoint.consecutive_failures_ = 0;
  endpoint.ejected_ = true;
  ++endpoint.times_ejected_;
  auto duration = outlier_.base_ejection_time * endpoint.times_ejected_;
  duration = std::min(duration, std::max(outlier_.base_ejection_time, outlier_.max_ejection_time));
  endpoint.ejected_until_ = clock_.now() + duration;
  ++ejected_count_;
  if (ejections_) ejections_->Increment();
  publish_locked();
}

std::vector<EndpointStatus> EndpointSet::status() {
  std::lock_guard lock(mutex_);
  return_expired_locked(clock_.now());
  std::vector<EndpointStatus> out;
  for (const auto& e : endpoints_)
    out.push_back({e->address(), e->ejected_, e->times_ejected_, e->active_requests()});
  return out;
}

void EndpointSet::publish_locked() {
  if (!healthy_gauge_) return;
  healthy_gauge_->Set(static_cast<double>(endpoints_.size()) - ejected_count_);
  ejected_gauge_->Set(ejected_count_);
}

}  // namespace mambogo::gateway
