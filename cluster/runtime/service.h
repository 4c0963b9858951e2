// Everything a service process needs, wired once: configuration (environment + command
// line), JSON logging, metrics, the bounded executor, health, the router and the HTTP
// server, plus /metrics, /health/* and the Actuator aliases. A service main is:
//
//   int main(int argc, char** argv) {
//     return mambogo::runtime::service_main("product-service", argc, argv,
//                                           [](mambogo::runtime::Service& s) { ...routes... });
//   }
//
// Shutdown on SIGTERM/SIGINT: readiness turns DOWN, SHUTDOWN_READINESS_DELAY passes (so a
// load balancer stops sending), the listener closes, in-flight requests finish within
// SHUTDOWN_GRACE, the executor drains, exit code 0.
//
// Thread-safety: construct, set up and run() from the main thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/admin/settings.h"
#include "runtime/config.h"
#include "runtime/executor.h"
#include "runtime/health.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

namespace mambogo::runtime {

struct ServiceSettings {
  ServerOptions server;
  ExecutorOptions executor;
  LogLevel log_level = LogLevel::info;
  std::chrono::milliseconds shutdown_grace{30'000};
  std::chrono::milliseconds readiness_delay{0};
};

// Declares and reads the common variables (SERVER_*, EXECUTOR_*, LOG_LEVEL, ACCESS_LOG,
// SHUTDOWN_*); problems are left in config for Config::finish().
// default_port: SERVER_PORT's default (each service has its own standalone port).
ServiceSettings read_service_settings(Config& config, std::uint16_t default_port = 8080);

class Service {
 public:
  Service(std::string name, Config& config, std::uint16_t default_port = 8080);
  ~Service();

  const std::string& name() const { return name_; }
  Config& config() { return config_; }
  Logger& logger() { return *logger_; }
  MetricsRegistry& metrics() { return metrics_; }
  BoundedExecutor& executor() { return *executor_; }
  Health& health() { return health_; }
  Router& router() { return router_; }
  const ServiceSettings& settings() const { return settings_; }
  // Run-time switches (/admin/settings). The executor's sizes are registered already
  // (executor.core-threads, executor.max-threads, executor.queue-capacity).
  RuntimeSettings& switches() { return switches_; }
  // Call in setup after reading the configuration and before opening anything (files,
  // databases, connections): throws ConfigError listing every problem so far; returns false
  // when --help was asked, and setup should return without building anything.
  bool ready_to_build();
  // Keeps an object setup built (a repository, a worker with threads, a Redis pool) alive as
  // long as the service, and stops it at the right moment: kept objects are destroyed in
  // reverse order of keep(), after the server has stopped and the executor has drained, and
  // before the metrics registry, logger and executor they use are gone.
  template <typename T>
  T& keep(std::unique_ptr<T> object) {
    T& ref = *object;
    kept_.push_back(std::shared_ptr<T>(std::move(object)));
    return ref;
  }
  // Without a guard /admin/settings is not served at all. Set before start().
  void set_admin_guard(RuntimeSettings::Guard guard) { admin_guard_ = std::move(guard); }

  // Adds the standard routes and starts serving; returns the bound port.
  std::uint16_t start();
  // Blocks until SIGTERM/SIGINT, then shuts down gracefully. Returns the exit code.
  int run_until_signal();
  // Graceful shutdown now (what a signal triggers).
  DrainResult shutdown();

 private:
  const std::string name_;
  Config& config_;
  const ServiceSettings settings_;
  std::unique_ptr<Logger> logger_;
  MetricsRegistry metrics_;
  std::unique_ptr<BoundedExecutor> executor_;
  Health health_;
  Router router_;
  RuntimeSettings switches_;
  RuntimeSettings::Guard admin_guard_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::shared_ptr<void>> kept_;  // destroyed first, last kept first
};

// Parses configuration, lets `setup` add routes and checks, prints --help or every config
// problem (exit code 2; config problems win over what setup threw because of them), then
// serves until a signal. Returns the process exit code.
int service_main(const std::string& name, int argc, char** argv,
                 const std::function<void(Service&)>& setup, std::uint16_t default_port = 8080);

}  // namespace mambogo::runtime
