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
ServiceSettings read_service_settings(Config& config);

class Service {
 public:
  Service(std::string name, Config& config);
  ~Service();

  const std::string& name() const { return name_; }
  Config& config() { return config_; }
  Logger& logger() { return *logger_; }
  MetricsRegistry& metrics() { return metrics_; }
  BoundedExecutor& executor() { return *executor_; }
  Health& health() { return health_; }
  Router& router() { return router_; }
  const ServiceSettings& settings() const { return settings_; }

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
  std::unique_ptr<HttpServer> server_;
};

// Parses configuration, lets `setup` add routes and checks, prints --help or every config
// problem (exit code 2), then serves until a signal. Returns the process exit code.
int service_main(const std::string& name, int argc, char** argv,
                 const std::function<void(Service&)>& setup);

}  // namespace mambogo::runtime
