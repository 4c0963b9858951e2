#include "runtime/health.h"

#include "runtime/router.h"

namespace mambogo::runtime {

const char* to_string(HealthStatus s) {
  switch (s) {
    case HealthStatus::up: return "UP";
    case HealthStatus::degraded: return "DEGRADED";
    case HealthStatus::down: return "DOWN";
  }
  return "UNKNOWN";
}

namespace {
CheckResult run_check(const Health::Check& check) {
  try {
    return check();
  } catch (const std::exception& e) {
    return {HealthStatus::down, {{"error", e.what()}}};
  }
}
}  // namespace

void Health::add_check(std::string name, Check check, bool critical) {
  checks_.push_back({std::move(name), std::move(check), critical});
}

HealthStatus Health::liveness() const {
  return broken_ ? HealthStatus::down : HealthStatus::up;
}

HealthStatus Health::readiness() const {
  if (draining_ || broken_) return HealthStatus::down;
  HealthStatus worst = HealthStatus::up;
  for (const auto& c : checks_) {
    HealthStatus s = run_check(c.check).status;
    if (s == HealthStatus::down && c.critical) return HealthStatus::down;
    if (s != HealthStatus::up) worst = HealthStatus::degraded;
  }
  return worst;
}

nlohmann::json Health::details() const {
  nlohmann::json components = nlohmann::json::object();
  HealthStatus overall = draining_ || broken_ ? HealthStatus::down : HealthStatus::up;
  for (const auto& c : checks_) {
    CheckResult r = run_check(c.check);
    components[c.name] = {{"status", to_string(r.status)}, {"critical", c.critical},
                          {"details", r.details}};
    if (r.status == HealthStatus::down && c.critical) overall = HealthStatus::down;
    else if (r.status != HealthStatus::up && overall == HealthStatus::up) overall = HealthStatus::degraded;
  }
  return {{"status", to_string(overall)}, {"draining", draining_.load()},
          {"components", components}};
}

void Health::install_routes(Router& router) const {
  auto answer = [](HealthStatus s, nlohmann::json body) {
    body["status"] = to_string(s);
    return Response::json(s == HealthStatus::down ? 503 : 200, body.dump());
  };
  auto live = [this, answer](const Request&) { return answer(liveness(), nlohmann::json::object()); };
  auto ready = [this, answer](const Request&) {
    return answer(readiness(), {{"draining", draining_.load()}});
  };
  auto all = [this](const Request&) {
    nlohmann::json body = details();
    return Response::json(body["status"] == "DOWN" ? 503 : 200, body.dump());
  };
  router.add(Method::get, "/health/live", live)
      .add(Method::get, "/actuator/health/liveness", live)
      .add(Method::get, "/health/ready", ready)
      .add(Method::get, "/actuator/health/readiness", ready)
      .add(Method::get, "/health", all)
      .add(Method::get, "/actuator/health", all);
}

}  // namespace mambogo::runtime
