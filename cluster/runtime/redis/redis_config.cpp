#include "runtime/redis/redis_config.h"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/config.h"
#include "runtime/health.h"
#include "runtime/metrics.h"

namespace mambogo::runtime::redis {

using std::chrono::milliseconds;

std::optional<RedisOptions> parse_redis_url(const std::string& url) {
  std::string_view rest = url;
  if (rest.substr(0, 8) == "redis://") rest.remove_prefix(8);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("@/?") != std::string_view::npos) return std::nullopt;
  RedisOptions o;
  const auto colon = rest.rfind(':');
  o.host = std::string(rest.substr(0, colon));
  if (o.host.empty()) return std::nullopt;
  if (colon != std::string_view::npos) {
    const std::string_view port = rest.substr(colon + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) return std::nullopt;
    o.port = value;
  }
  return o;
}

RedisSettings read_redis_settings(Config& c) {
  RedisSettings s;
  const std::string url = c.string("REDIS_URL", "", "redis://host:port; empty = no Redis (in-process layers only)");
  const int pool_size = static_cast<int>(c.integer("REDIS_POOL_SIZE", 8, 1, 256, "Redis connections at most"));
  const auto connect_timeout = c.duration("REDIS_CONNECT_TIMEOUT", milliseconds(1000), milliseconds(1), milliseconds(60'000),
                                          "time to connect to Redis");
  const auto command_timeout = c.duration("REDIS_COMMAND_TIMEOUT", milliseconds(500), milliseconds(1), milliseconds(60'000),
                                          "time a Redis command may take");
  s.ping_interval = c.duration("REDIS_PING_INTERVAL", milliseconds(2000), milliseconds(10), milliseconds(600'000),
                               "how often an idle service checks that Redis answers");
  if (url.empty()) return s;
  auto options = parse_redis_url(url);
  if (!options) {
    c.report_invalid("REDIS_URL", url, "redis://host:port or host:port");
    return s;
  }
  options->pool_size = pool_size;
  options->connect_timeout = connect_timeout;
  options->command_timeout = command_timeout;
  s.options = options;
  return s;
}

struct ServiceRedis::Pinger {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::thread thread;
};

ServiceRedis::ServiceRedis(const RedisSettings& settings, MetricsRegistry* metrics, Health* health) {
  if (!settings.options) return;
  pool_ = std::make_unique<RedisPool>(*settings.options, metrics ? &metrics->registry() : nullptr, system_clock());
  if (health) health->add_check("redis", [pool = pool_.get()] { return pool->health_check(); }, false);
  pinger_ = std::make_unique<Pinger>();
  pinger_->thread = std::thread([this, interval = settings.ping_interval] {
    std::unique_lock lock(pinger_->mutex);
    while (!pinger_->stopping) {
      lock.unlock();
      pool_->ping();
      lock.lock();
      pinger_->wake.wait_for(lock, interval, [this] { return pinger_->stopping; });
    }
  });
}

ServiceRedis::~ServiceRedis() {
  if (!pinger_) return;
  {
    std::lock_guard lock(pinger_->mutex);
    pinger_->stopping = true;
  }
  pinger_->wake.notify_all();
  pinger_->thread.join();
}

}  // namespace mambogo::runtime::redis
