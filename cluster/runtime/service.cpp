#include "runtime/service.h"

#include <algorithm>
#include <csignal>
#include <iostream>
#include <thread>

namespace mambogo::runtime {

using std::chrono::milliseconds;

ServiceSettings read_service_settings(Config& c, std::uint16_t default_port) {
  ServiceSettings s;
  auto& srv = s.server;
  srv.address = c.string("SERVER_ADDRESS", "0.0.0.0", "address to listen on");
  srv.port = static_cast<std::uint16_t>(c.integer("SERVER_PORT", default_port, 0, 65535, "port to listen on; 0 picks a free one"));
  srv.io_threads = static_cast<int>(c.integer("SERVER_IO_THREADS", 1, 1, 64, "I/O threads"));
  srv.header_limit = static_cast<std::size_t>(c.integer("SERVER_MAX_HEADER_BYTES", 8 * 1024, 1024, 1024 * 1024, "largest accepted request header block (431 beyond)"));
  srv.body_limit = static_cast<std::size_t>(c.integer("SERVER_MAX_BODY_BYTES", 1024 * 1024, 0, 1024LL * 1024 * 1024, "largest accepted request body (413 beyond)"));
  srv.header_timeout = c.duration("SERVER_HEADER_TIMEOUT", milliseconds(10'000), milliseconds(10), milliseconds(3'600'000), "time allowed from a request's first byte to the end of its headers (408 beyond)");
  srv.body_timeout = c.duration("SERVER_BODY_TIMEOUT", milliseconds(30'000), milliseconds(10), milliseconds(3'600'000), "time allowed to receive a request body (408 beyond)");
  srv.idle_timeout = c.duration("SERVER_IDLE_TIMEOUT", milliseconds(60'000), milliseconds(10), milliseconds(3'600'000), "keep-alive connection idle time before it is closed");
  srv.keepalive_requests = static_cast<int>(c.integer("SERVER_KEEPALIVE_REQUESTS", 1000, 1, 1'000'000'000, "requests one keep-alive connection serves before the answer closes it (nginx keepalive_requests)"));
  srv.keepalive_time = c.duration("SERVER_KEEPALIVE_TIME", milliseconds(3'600'000), milliseconds(1), milliseconds(86'400'000), "age of a keep-alive connection after which the next answer closes it, so a client behind a Service reconnects to any replica (nginx keepalive_time)");
  srv.handler_timeout = c.duration("SERVER_HANDLER_TIMEOUT", milliseconds(30'000), milliseconds(1), milliseconds(3'600'000), "time a handler may take before the request gets 503");
  srv.write_timeout = c.duration("SERVER_WRITE_TIMEOUT", milliseconds(30'000), milliseconds(10), milliseconds(3'600'000), "time allowed to send a response");
  srv.max_connections = static_cast<int>(c.integer("SERVER_MAX_CONNECTIONS", 10'000, 1, 1'000'000, "open connections beyond which new ones get 503"));
  srv.access_log = c.boolean("ACCESS_LOG", true, "log every request as a JSON line");
  auto& ex = s.executor;
  ex.core_threads = static_cast<int>(c.integer("EXECUTOR_CORE_SIZE", 10, 0, 1000, "threads kept for blocking work"));
  ex.max_threads = static_cast<int>(c.integer("EXECUTOR_MAX_SIZE", 50, 1, 1000, "threads at most for blocking work"));
  ex.queue_capacity = static_cast<int>(c.integer("EXECUTOR_QUEUE_CAPACITY", 100, 0, 1'000'000, "blocking tasks that may wait for a thread"));
  ex.keep_alive = c.duration("EXECUTOR_KEEP_ALIVE", milliseconds(60'000), milliseconds(1), milliseconds(3'600'000), "idle time after which threads above the core size exit");
  ex.policy = c.choice("EXECUTOR_REJECTION_POLICY", "caller-runs", {"caller-runs", "reject"}, "when pool and queue are full: run in the I/O thread, or answer 503") == "reject" ? RejectionPolicy::reject : RejectionPolicy::caller_runs;
  if (ex.max_threads < ex.core_threads) {
    c.report_invalid("EXECUTOR_MAX_SIZE", std::to_string(ex.max_threads),
                     "an integer from EXECUTOR_CORE_SIZE (" + std::to_string(ex.core_threads) + ") to 1000");
    ex.max_threads = ex.core_threads;
  }
  s.log_level = parse_log_level(c.choice("LOG_LEVEL", "info", {"debug", "info", "warn", "error", "off"}, "log level"));
  s.shutdown_grace = c.duration("SHUTDOWN_GRACE", milliseconds(30'000), milliseconds(0), milliseconds(3'600'000), "time in-flight requests get to finish on SIGTERM");
  s.readiness_delay = c.duration("SHUTDOWN_READINESS_DELAY", milliseconds(0), milliseconds(0), milliseconds(600'000), "time between readiness turning DOWN and the listener closing");
  return s;
}

Service::Service(std::string name, Config& config, std::uint16_t default_port)
    : name_(std::move(name)),
      config_(config),
      settings_(read_service_settings(config, default_port)),
      logger_(std::make_unique<Logger>(name_, settings_.log_level)),
      switches_(&metrics_, logger_.get()) {
  ExecutorOptions ex = settings_.executor;
  ex.name = "blocking";
  executor_ = std::make_unique<BoundedExecutor>(ex, &metrics_.registry());
  auto resize = [this](int core, int max, int queue) { executor_->resize(core, max, queue); };
  switches_.add_integer("executor.core-threads", "threads kept for blocking work", 0, 1000,
                        [this] { return executor_->options().core_threads; },
                        [this, resize](std::int64_t v) {
                          const auto o = executor_->options();
                          resize(static_cast<int>(v), std::max(o.max_threads, static_cast<int>(v)), o.queue_capacity);
                        });
  switches_.add_integer("executor.max-threads", "threads at most for blocking work", 1, 1000,
                        [this] { return executor_->options().max_threads; },
                        [this, resize](std::int64_t v) {
                          const auto o = executor_->options();
                          resize(std::min(o.core_threads, static_cast<int>(v)), static_cast<int>(v), o.queue_capacity);
                        });
  switches_.add_integer("executor.queue-capacity", "blocking tasks that may wait for a thread", 0, 1'000'000,
                        [this] { return executor_->options().queue_capacity; },
                        [this, resize](std::int64_t v) {
                          const auto o = executor_->options();
                          resize(o.core_threads, o.max_threads, static_cast<int>(v));
                        });
}

bool Service::ready_to_build() {
  if (config_.help_requested()) return false;
  config_.finish();
  return true;
}

Service::~Service() {
  if (server_) server_->stop();
  executor_->shutdown();
  while (!kept_.empty()) kept_.pop_back();
}

std::uint16_t Service::start() {
  health_.install_routes(router_);
  if (admin_guard_) switches_.install_routes(router_, admin_guard_);
  router_.add(Method::get, "/metrics", [this](const Request&) {
    Response r = Response::text(200, metrics_.serialize());
    r.content_type = MetricsRegistry::kContentType;
    return r;
  });
  router_.add(Method::get, "/actuator/prometheus", router_.match(Method::get, "/metrics").route->handler);
  server_ = std::make_unique<HttpServer>(settings_.server, router_, executor_.get(), metrics_, *logger_);
  server_->start();
  logger_->info("started", {{"port", server_->port()},
                            {"address", settings_.server.address},
                            {"io_threads", settings_.server.io_threads},
                            {"executor", {{"core", settings_.executor.core_threads},
                                          {"max", settings_.executor.max_threads},
                                          {"queue", settings_.executor.queue_capacity}}}});
  return server_->port();
}

DrainResult Service::shutdown() {
  health_.set_draining();
  if (settings_.readiness_delay.count() > 0) std::this_thread::sleep_for(settings_.readiness_delay);
  DrainResult r = server_->drain(settings_.shutdown_grace);
  executor_->shutdown();
  logger_->info("stopped", {{"drained", r.completed}, {"abandoned_requests", r.abandoned}});
  logger_->flush();
  return r;
}

int Service::run_until_signal() {
  int signo = server_->wait_for_signal();
  logger_->info("shutting down", {{"signal", signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "none"},
                                  {"grace_ms", settings_.shutdown_grace.count()}});
  shutdown();
  return 0;
}

int service_main(const std::string& name, int argc, char** argv,
                 const std::function<void(Service&)>& setup, std::uint16_t default_port) {
  try {
    Config config = Config::from_process(argc, argv);
    Service service(name, config, default_port);
    try {
      setup(service);
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception&) {
      // A bad value often makes setup fail; the value, not its consequence, is the news.
      if (!config.help_requested()) config.finish();
      else {
        std::cout << name << "\n\n" << config.usage();
        return 0;
      }
      throw;
    }
    if (config.help_requested()) {
      std::cout << name << "\n\n" << config.usage();
      return 0;
    }
    config.finish();
    service.start();
    return service.run_until_signal();
  } catch (const ConfigError& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << name << ": cannot start: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace mambogo::runtime
