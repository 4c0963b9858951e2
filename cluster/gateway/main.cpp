// mambogo-gateway: the cluster's entry point (SERVER_PORT 8080). Routes, authentication, Redis
// rate limiting, response cache, circuit breakers, retries and client-side load balancing, as
// gateway.h describes; configuration in gateway_config.h, plus the runtime's common variables,
// AUTH_* (runtime/auth/token.h) and REDIS_* (runtime/redis/redis_config.h).
//
// Written out instead of runtime::service_main() for one reason: the gateway (and its HTTP
// client, whose metrics live in the service's registry) must be destroyed before the Service.
#include <iostream>
#include <memory>

#include "gateway/gateway.h"
#include "runtime/auth/token.h"
#include "runtime/redis/async_redis.h"
#include "runtime/redis/redis_config.h"
#include "runtime/service.h"

using namespace mambogo;
using runtime::Config;
using runtime::ConfigError;
using runtime::Service;

namespace {

constexpr const char* kName = "gateway";

// Everything the gateway adds to a Service; destroyed before it.
struct GatewayApp {
  explicit GatewayApp(Service& s)
      : settings(gateway::read_gateway_settings(s.config())),
        verifier(runtime::auth::read_key_set(s.config())),
        redis(runtime::redis::read_redis_settings(s.config()), &s.metrics(), &s.health()),
        async_redis(redis.pool() && settings.ratelimit_pipelined
                        ? std::make_unique<runtime::redis::AsyncRedis>(redis.pool()->options(),
                                                                       &s.metrics().registry(), runtime::system_clock())
                        : nullptr),
        limiter(redis.pool(), settings.failure_mode, &s.metrics().registry(), s.logger(), async_redis.get(),
                settings.ratelimit_prefetch),
        gateway(settings, gateway::Gateway::Dependencies{verifier, s.executor(), redis.pool() ? &limiter : nullptr, s.metrics(),
                                                         s.logger(), runtime::system_clock()}) {
    gateway.install_routes(s.router());
    gateway.add_health_checks(s.health());
    gateway.add_switches(s.switches());
    s.set_admin_guard(runtime::auth::admin_guard(verifier));
    if (!redis.pool() && settings.rate_limit_enabled)
      s.logger().warn("rate limiting is off: no REDIS_URL configured");
  }

  ~GatewayApp() {
    // Rate-limit calls still pipelined when the server stopped are answered now, to a gateway
    // that drops them, rather than later to one that is gone.
    gateway.shutdown();
    async_redis.reset();
  }

  gateway::GatewaySettings settings;
  runtime::auth::TokenVerifier verifier;
  runtime::redis::ServiceRedis redis;
  std::unique_ptr<runtime::redis::AsyncRedis> async_redis;  // the limiter's, on the I/O threads
  gateway::RedisRateLimiter limiter;
  gateway::Gateway gateway;
};

void print_usage(const Config& config) { std::cout << kName << "\n\n" << config.usage(); }

}  // namespace

int main(int argc, char** argv) {
  try {
    Config config = Config::from_process(argc, argv);
    Service service(kName, config, 8080);
    std::unique_ptr<GatewayApp> app;
    try {
      app = std::make_unique<GatewayApp>(service);
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception&) {
      // A bad value often makes set-up fail; the value, not its consequence, is the news.
      if (config.help_requested()) {
        print_usage(config);
        return 0;
      }
      config.finish();
      throw;
    }
    if (config.help_requested()) {
      print_usage(config);
      return 0;
    }
    config.finish();
    app->gateway.start_discovery();  // before serving: /health reads the watcher list
    service.start();
    const int code = service.run_until_signal();
    app.reset();
    return code;
  } catch (const ConfigError& e) {
    std::cerr << kName << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << kName << ": cannot start: " << e.what() << "\n";
    return 1;
  }
}
