// A service's Redis, opened from configuration: REDIS_URL ("redis://host:port", or
// "host:port"; empty = no Redis, the service runs on its in-process layers), REDIS_POOL_SIZE
// (8), REDIS_CONNECT_TIMEOUT (1s), REDIS_COMMAND_TIMEOUT (500ms). The pool is registered as
// the non-critical health check "redis" (DEGRADED, never DOWN, when it is unreachable) and
// pinged every REDIS_PING_INTERVAL (2s) so the check stays fresh while idle.
//
// Ownership: the returned ServiceRedis owns the pool and its pinger thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "runtime/redis/redis_pool.h"

namespace mambogo::runtime {
class Config;
class Health;
class MetricsRegistry;
}  // namespace mambogo::runtime

namespace mambogo::runtime::redis {

struct RedisSettings {
  std::optional<RedisOptions> options;  // nullopt: no Redis configured
  std::chrono::milliseconds ping_interval{2000};
};

// Declares and reads the variables above. A malformed URL is a config problem.
RedisSettings read_redis_settings(Config& config);
// Parses "redis://host:port" or "host:port" (port defaults to 6379); nullopt when malformed.
std::optional<RedisOptions> parse_redis_url(const std::string& url);

class ServiceRedis {
 public:
  // pool() is null when settings.options is empty. metrics, health may be null.
  ServiceRedis(const RedisSettings& settings, MetricsRegistry* metrics, Health* health);
  ~ServiceRedis();
  ServiceRedis(const ServiceRedis&) = delete;
  ServiceRedis& operator=(const ServiceRedis&) = delete;

  RedisPool* pool() { return pool_.get(); }

 private:
  struct Pinger;
  std::unique_ptr<RedisPool> pool_;
  std::unique_ptr<Pinger> pinger_;
};

}  // namespace mambogo::runtime::redis
