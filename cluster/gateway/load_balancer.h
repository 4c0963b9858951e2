// Client-side load balancing over one service's endpoints, with Envoy's outlier ejection and
// per-endpoint request limits (../shared/anchors/resilience.md §3).
//
// Policies:
//   round_robin    the next healthy endpoint in turn (Envoy's default);
//   random         a uniformly random healthy endpoint (the seed's RandomLoadBalancer);
//   least_request  power of two choices: two distinct random healthy endpoints, the one with
//                  fewer requests in flight wins (Envoy's LEAST_REQUEST, choice_count 2).
// Outlier ejection: `consecutive_5xx` 5xx answers or connect failures in a row eject an
// endpoint for base_ejection_time x (times it has been ejected), capped by max_ejection_time
// (but never below base). At most max_ejection_percent of the endpoints are ejected at once,
// but at least one may be. An ejected endpoint returns once its time has passed (noticed at
// the next pick, dated by the injected Clock). When every endpoint is ejected the set
// picks among all of them (Envoy's panic routing).
// Limits: an endpoint already carrying max_requests requests in flight is not used; the pick
// fails with `overflow` (the caller answers 503, Envoy's "UO").
//
// Metrics (registry optional), labelled {service}: gateway_endpoints{service,state=healthy|ejected}
// (gauges, set at every change), gateway_outlier_ejections_total, gateway_upstream_overflow_total.
//
// Ownership: endpoints are shared between the set and the requests using them, so an
// endpoint removed by discovery stays valid until its last request finishes. `upstream` is a
// pool owned by the gateway's HttpClient (null in unit tests).
// Thread-safety: every public member may be called from any thread (one mutex, O(endpoints)).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/clock.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mambogo::runtime {
class Upstream;
}

namespace mambogo::gateway {

enum class LbPolicy { round_robin, random, least_request };
std::string_view to_string(LbPolicy p);
// "round_robin" | "random" | "least_request"; throws std::invalid_argument otherwise.
LbPolicy parse_lb_policy(std::string_view name);

struct OutlierSettings {
  int consecutive_5xx = 5;  // 0 disables ejection
  std::chrono::milliseconds base_ejection_time{30'000};
  std::chrono::milliseconds max_ejection_time{300'000};
  int max_ejection_percent = 10;
};

struct EndpointAddress {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const EndpointAddress&) const = default;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

class Endpoint {
 public:
  Endpoint(EndpointAddress address, runtime::Upstream* upstream)
      : address_(std::move(address)), upstream_(upstream) {}
  const EndpointAddress& address() const { return address_; }
  runtime::Upstream* upstream() const { return upstream_; }
  int active_requests() const { return active_.load(std::memory_order_relaxed); }

 private:
  friend class EndpointSet;
  const EndpointAddress address_;
  runtime::Upstream* const upstream_;
  std::atomic<int> active_{0};
  // Guarded by the owning set's mutex.
  int consecutive_failures_ = 0;
  int times_ejected_ = 0;
  bool ejected_ = false;
  runtime::Clock::time_point ejected_until_{};
};

// What became of one request sent to an endpoint.
enum class EndpointOutcome {
  success,        // any answer below 500
  server_error,   // a 5xx answer
  connect_failure,// no connection (refused, connect timeout, reset before an answer)
  local_error,    // the gateway's own limit or timeout: says nothing about the endpoint
};

struct Pick {
  enum class Result { ok, no_endpoints, overflow } result = Result::no_endpoints;
  std::shared_ptr<Endpoint> endpoint;  // set when ok; the request counts as in flight on it
};

struct EndpointStatus {
  EndpointAddress address;
  bool ejected = false;
  int times_ejected = 0;
  int active_requests = 0;
};

class EndpointSet {
 public:
  // max_requests_per_endpoint >= 1. registry may be null; clock must outlive the set.
  EndpointSet(std::string service, LbPolicy policy, OutlierSettings outlier,
              int max_requests_per_endpoint, const runtime::Clock& clock,
              prometheus::Registry* registry, std::uint64_t seed = std::random_device{}());
  ~EndpointSet();
  EndpointSet(const EndpointSet&) = delete;
  EndpointSet& operator=(const EndpointSet&) = delete;

  // Replaces the endpoint list; an endpoint whose address was already present keeps its
  // object and its outlier state.
  void set_endpoints(std::vector<std::shared_ptr<Endpoint>> endpoints);
  // The endpoint for `address` if present, for reuse when discovery rebuilds the list.
  std::shared_ptr<Endpoint> find(const EndpointAddress& address) const;

  Pick pick();
  // Exactly once per successful pick.
  void release(Endpoint& endpoint, EndpointOutcome outcome);

  std::vector<EndpointStatus> status();
  const std::string& service() const { return service_; }
  LbPolicy policy() const { return policy_; }

 private:
  void return_expired_locked(runtime::Clock::time_point now);
  bool may_eject_locked() const;
  void publish_locked();

  // Constant after construction.
  const std::string service_;
  const LbPolicy policy_;
  const OutlierSettings outlier_;
  const int max_requests_;
  const runtime::Clock& clock_;
  prometheus::Gauge* healthy_gauge_ = nullptr;
  prometheus::Gauge* ejected_gauge_ = nullptr;
  prometheus::Counter* ejections_ = nullptr;
  prometheus::Counter* overflows_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Endpoint>> endpoints_;
  std::vector<Endpoint*> healthy_;  // scratch for pick()
  std::uint64_t next_ = 0;          // round robin position
  std::mt19937_64 rng_;
  int ejected_count_ = 0;
};

}  // namespace mambogo::gateway
