// Run-time switches: the knobs a drill turns while the service runs (cache layers, pool
// size, replica routing, executor sizes, provider failure profile, batch size, ...).
//
// A service registers each switch once, with its type, accepted range, help, and a getter
// and setter over the component that owns the value. Then:
//   GET   /admin/settings        {"name": {"value": v, "type": "bool|integer|number|choice",
//                                 "help": "...", "min"/"max"/"allowed": ...}, ...}
//   PATCH /admin/settings        body {"name": value, ...}: every value is validated first and
//   (PUT is accepted the same)   applied only if all are valid (all or nothing); 400 naming
//                                each bad name or value; 200 with the new snapshot.
// Both pass through the guard given to install_routes() first (the services use
// auth::admin_guard: a token with the admin role, else 401 / 403). Each change is logged (who,
// what, old → new) and counted: mambogo_setting_changes_total{setting}. Every setting's
// current numeric value is exported as mambogo_setting{setting} (bools as 0/1; choices are
// not exported), so a chart can mark when a drill flipped a switch.
//
// Thread-safety: add_*() during set-up; snapshot()/apply() from any thread (serialised).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/http_message.h"

namespace mambogo::runtime {
class Router;
class Logger;
class MetricsRegistry;
struct Request;
struct Response;

class RuntimeSettings {
 public:
  explicit RuntimeSettings(MetricsRegistry* metrics = nullptr, Logger* logger = nullptr);
  ~RuntimeSettings();

  void add_bool(std::string name, std::string help, std::function<bool()> get,
                std::function<void(bool)> set);
  void add_integer(std::string name, std::string help, std::int64_t min, std::int64_t max,
                   std::function<std::int64_t()> get, std::function<void(std::int64_t)> set);
  void add_number(std::string name, std::string help, double min, double max,
                  std::function<double()> get, std::function<void(double)> set);
  void add_choice(std::string name, std::string help, std::vector<std::string> allowed,
                  std::function<std::string()> get, std::function<void(const std::string&)> set);

  nlohmann::json snapshot() const;

  struct ApplyResult {
    bool ok = false;
    std::vector<std::string> problems;  // one line per bad name or value
    nlohmann::json snapshot;            // after applying (unchanged when !ok)
  };
  // `actor` names who changed it in the log. A setter that throws std::exception after the
  // validation passed is reported as a problem (values already applied stay applied).
  ApplyResult apply(const nlohmann::json& changes, const std::string& actor = "");

  // Decides whether a request may read or change settings: nullopt lets it through, a
  // response (401, 403) refuses it. The returned string names the actor for the log.
  using Guard = std::function<std::optional<Response>(const Request&, std::string& actor)>;
  // GET/PATCH/PUT /admin/settings behind the guard.
  void install_routes(Router& router, Guard guard);

 private:
  struct Setting;
  void publish(const Setting& s);
  std::map<std::string, std::unique_ptr<Setting>> settings_;
  MetricsRegistry* metrics_;
  Logger* logger_;
  mutable std::mutex mutex_;
};

}  // namespace mambogo::runtime
