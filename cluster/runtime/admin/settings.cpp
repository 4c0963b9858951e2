#include "runtime/admin/settings.h"

#include <cmath>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "runtime/json_body.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

namespace mambogo::runtime {

using nlohmann::json;

struct RuntimeSettings::Setting {
  std::string name;
  std::string type;  // bool | integer | number | choice
  std::string help;
  double min = 0, max = 0;
  std::vector<std::string> allowed;
  std::function<json()> get;
  std::function<void(const json&)> set;
  prometheus::Gauge* gauge = nullptr;
  prometheus::Counter* changes = nullptr;

  // Why `v` is not acceptable, or empty.
  std::string check(const json& v) const {
    if (type == "bool") return v.is_boolean() ? "" : "expects true or false";
    if (type == "choice") {
      if (v.is_string())
        for (const auto& a : allowed)
          if (a == v.get<std::string>()) return "";
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return "expects one of: " + list;
    }
    const bool integral = v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (!v.is_number() || (type == "integer" && !integral))
      return type == "integer" ? "expects an integer" : "expects a number";
    const double d = v.get<double>();
    if (d < min || d > max) {
      json lo = min, hi = max;
      if (type == "integer") lo = static_cast<std::int64_t>(min), hi = static_cast<std::int64_t>(max);
      return "expects a value in [" + lo.dump() + ", " + hi.dump() + "]";
    }
    return "";
  }

  json describe() const {
    json d{{"value", get()}, {"type", type}, {"help", help}};
    if (type == "integer") d["min"] = static_cast<std::int64_t>(min), d["max"] = static_cast<std::int64_t>(max);
    if (type == "number") d["min"] = min, d["max"] = max;
    if (type == "choice") d["allowed"] = allowed;
    return d;
  }
};

RuntimeSettings::RuntimeSettings(MetricsRegistry* metrics, Logger* logger) : metrics_(metrics), logger_(logger) {}
RuntimeSettings::~RuntimeSettings() = default;

namespace {

template <typename Family>
Family& family(prometheus::Registry& r, const char* name, const char* help) {
  if constexpr (std::is_same_v<Family, prometheus::Family<prometheus::Gauge>>)
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  else
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

void RuntimeSettings::publish(const Setting& s) {
  if (!s.gauge) return;
  const json v = s.get();
  s.gauge->Set(v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : v.get<double>());
}

void RuntimeSettings::add_bool(std::string name, std::string help, std::function<bool()> get,
                               std::function<void(bool)> set) {
  auto s = std::make_unique<Setting>();
  s->type = "bool";
  s->get = [get] { return json(get()); };
  s->set = [set](const json& v) { set(v.get<bool>()); };
  s->name = name;
  s->help = std::move(help);
  settings_[std::move(name)] = std::move(s);
}

void RuntimeSettings::add_integer(std::string name, std::string help, std::int64_t min, std::int64_t max,
                                  std::function<std::int64_t()> get, std::function<void(std::int64_t)> set) {
  auto s = std::make_unique<Setting>();
  s->type = "integer";
  s->min = static_cast<double>(min);
  s->max = static_cast<double>(max);
  s->get = [get] { return json(get()); };
  s->set = [set](const json& v) { set(static_cast<std::int64_t>(v.get<double>())); };
  s->name = name;
  s->help = std::move(help);
  settings_[std::move(name)] = std::move(s);
}

void RuntimeSettings::add_number(std::string name, std::string help, double min, double max,
                                 std::function<double()> get, std::function<void(double)> set) {
  auto s = std::make_unique<Setting>();
  s->type = "number";
  s->min = min;
  s->max = max;
  s->get = [get] { return json(get()); };
  s->set = [set](const json& v) { set(v.get<double>()); };
  s->name = name;
  s->help = std::move(help);
  settings_[std::move(name)] = std::move(s);
}

void RuntimeSettings::add_choice(std::string name, std::string help, std::vector<std::string> allowed,
                                 std::function<std::string()> get, std::function<void(const std::string&)> set) {
  auto s = std::make_unique<Setting>();
  s->type = "choice";
  s->allowed = std::move(allowed);
  s->get = [get] { return json(get()); };
  s->set = [set](const json& v) { set(v.get<std::string>()); };
  s->name = name;
  s->help = std::move(help);
  settings_[std::move(name)] = std::move(s);
}

json RuntimeSettings::snapshot() const {
  std::lock_guard lock(mutex_);
  json out = json::object();
  for (const auto& [name, s] : settings_) out[name] = s->describe();
  return out;
}

RuntimeSettings::ApplyResult RuntimeSettings::apply(const json& changes, const std::string& actor) {
  ApplyResult result;
  std::lock_guard lock(mutex_);
  if (!changes.is_object()) {
    result.problems.push_back("the body must be a JSON object of setting names to values");
  } else {
    for (const auto& [name, value] : changes.items()) {
      const auto it = settings_.find(name);
      if (it == settings_.end()) {
        result.problems.push_back(name + ": no such setting");
        continue;
      }
      if (auto why = it->second->check(value); !why.empty()) result.problems.push_back(name + ": " + why);
    }
  }
  if (result.problems.empty()) {
    for (const auto& [name, value] : changes.items()) {
      Setting& s = *settings_.at(name);
      const json before = s.get();
      try {
        s.set(value);
      } catch (const std::exception& e) {
        result.problems.push_back(name + ": " + e.what());
        continue;
      }
      if (!s.gauge && metrics_ && s.type != "choice") {
        s.gauge = &family<prometheus::Family<prometheus::Gauge>>(metrics_->registry(), "mambogo_setting",
                                                                  "Current value of a run-time switch (bools as 0/1)")
                       .Add({{"setting", name}});
      }
      if (!s.changes && metrics_) {
        s.changes = &family<prometheus::Family<prometheus::Counter>>(metrics_->registry(), "mambogo_setting_changes_total",
                                                                     "Run-time switch changes through /admin/settings")
                         .Add({{"setting", name}});
      }
      if (s.changes) s.changes->Increment();
      publish(s);
      if (logger_) logger_->info("setting changed", {{"setting", name}, {"from", before}, {"to", s.get()}, {"actor", actor}});
    }
  }
  result.ok = result.problems.empty();
  result.snapshot = json::object();
  for (const auto& [name, s] : settings_) result.snapshot[name] = s->describe();
  return result;
}

void RuntimeSettings::install_routes(Router& router, Guard guard) {
  // Export every numeric setting from the start, so a chart has the value before any change.
  if (metrics_) {
    std::lock_guard lock(mutex_);
    for (auto& [name, s] : settings_) {
      if (s->type == "choice") continue;
      s->gauge = &family<prometheus::Family<prometheus::Gauge>>(metrics_->registry(), "mambogo_setting",
                                                                 "Current value of a run-time switch (bools as 0/1)")
                      .Add({{"setting", name}});
      publish(*s);
    }
  }
  auto shared_guard = std::make_shared<Guard>(std::move(guard));
  router.add(Method::get, "/admin/settings", [this, shared_guard](const Request& request) {
    std::string actor;
    if (auto denied = (*shared_guard)(request, actor)) return std::move(*denied);
    return Response::json(200, snapshot().dump());
  });
  auto change = [this, shared_guard](const Request& request) {
    std::string actor;
    if (auto denied = (*shared_guard)(request, actor)) return std::move(*denied);
    Response error;
    const auto body = parse_json_object(request, error);
    if (!body) return error;
    auto result = apply(*body, actor);
    if (!result.ok) {
      std::string message;
      for (const auto& p : result.problems) message += (message.empty() ? "" : "; ") + p;
      return Response::error(400, "invalid_setting", message, request.request_id);
    }
    return Response::json(200, result.snapshot.dump());
  };
  router.add(Method::patch, "/admin/settings", change);
  router.add(Method::put, "/admin/settings", change);
}

}  // namespace mambogo::runtime
