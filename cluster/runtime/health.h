// Liveness, readiness and details, in Spring Boot Actuator's shapes so the seed's probes and
// SREs' habits work unchanged:
//   /health/live  (= /actuator/health/liveness)   UP unless the process declared itself broken
//   /health/ready (= /actuator/health/readiness)  UP when no critical check is DOWN and the
//                                                  service is not draining; DEGRADED is ready
//   /health       (= /actuator/health)             every check with its details
// Checks must not block: they report state their component already keeps (a pool's last
// ping, a breaker's state), because probes run on the I/O thread and time out after 1 s.
//
// Thread-safety: add_check() during set-up; everything else from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mambogo::runtime {

class Router;

enum class HealthStatus { up, degraded, down };
const char* to_string(HealthStatus s);  // "UP", "DEGRADED", "DOWN"

struct CheckResult {
  HealthStatus status = HealthStatus::up;
  nlohmann::json details = nlohmann::json::object();
};

class Health {
 public:
  using Check = std::function<CheckResult()>;

  // critical: a DOWN result makes the service not ready. Non-critical checks are reported only.
  void add_check(std::string name, Check check, bool critical = true);

  void set_draining() { draining_ = true; }
  bool draining() const { return draining_; }
  void set_broken(bool broken) { broken_ = broken; }

  HealthStatus liveness() const;
  HealthStatus readiness() const;
  nlohmann::json details() const;

  // Adds the /health* and /actuator/health* routes; readiness answers 503 when not ready.
  void install_routes(Router& router) const;

 private:
  struct Entry {
    std::string name;
    Check check;
    bool critical;
  };
  std::vector<Entry> checks_;  // constant after set-up
  std::atomic<bool> draining_{false};
  std::atomic<bool> broken_{false};
};

}  // namespace mambogo::runtime
