#include "runtime/cache/layered_cache.h"

#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "runtime/redis/redis_pool.h"

namespace mambogo::runtime::cache {

using redis::RedisReply;

const char* to_string(CacheLayer layer) {
  switch (layer) {
    case CacheLayer::l1: return "l1";
    case CacheLayer::l2: return "l2";
    case CacheLayer::loader: return "loader";
  }
  return "unknown";
}

LayeredCache::LayeredCache(LayeredCacheOptions options, RedisPool* redis, prometheus::Registry* registry,
                           const Clock& clock)
    : options_(std::move(options)),
      redis_(redis),
      l1_(options_.l1, registry, clock),
      l1_enabled_(options_.l1_enabled),
      l2_enabled_(options_.l2_enabled) {
  if (options_.l2_ttl <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("layered cache '" + options_.l1.name + "': l2_ttl must be positive");
  if (!registry) return;
  const std::string& name = options_.l1.name;
  auto& gets = prometheus::BuildCounter()
                   .Name("cache_gets_total")
                   .Help("Cache lookups by layer and result")
                   .Register(*registry);
  l2_hit_counter_ = &gets.Add({{"cache", name}, {"layer", "l2"}, {"result", "hit"}});
  l2_miss_counter_ = &gets.Add({{"cache", name}, {"layer", "l2"}, {"result", "miss"}});
  auto& loads = prometheus::BuildCounter()
                    .Name("cache_loads_total")
                    .Help("Loader (L3, database) calls by outcome")
                    .Register(*registry);
  load_found_counter_ = &loads.Add({{"cache", name}, {"result", "found"}});
  load_not_found_counter_ = &loads.Add({{"cache", name}, {"result", "not_found"}});
  load_failure_counter_ = &loads.Add({{"cache", name}, {"result", "failure"}});
  coalesced_counter_ = &prometheus::BuildCounter()
                            .Name("cache_coalesced_total")
                            .Help("Lookups that joined another caller's load of the same key")
                            .Register(*registry)
                            .Add({{"cache", name}});
  auto& bypass = prometheus::BuildCounter()
                     .Name("cache_bypass_total")
                     .Help("Cache layer operations skipped because the layer failed")
                     .Register(*registry);
  bypass_unavailable_counter_ = &bypass.Add({{"cache", name}, {"layer", "l2"}, {"reason", "unavailable"}});
  bypass_error_counter_ = &bypass.Add({{"cache", name}, {"layer", "l2"}, {"reason", "error"}});
}

LayeredCache::~LayeredCache() = default;

void LayeredCache::set_l1_enabled(bool on) {
  l1_enabled_ = on;
  if (!on) l1_.invalidate_all();
}

LayeredCache::Lookup LayeredCache::lookup(const std::string& key, const Loader& loader) {
  if (l1_enabled_) {
    if (auto hit = l1_.get(key)) return {std::move(hit), CacheLayer::l1};
  }

  std::promise<Lookup> promise;
  auto flight = std::make_shared<Flight>();
  {
    std::unique_lock lock(flights_mutex_);
    if (auto it = flights_.find(key); it != flights_.end()) {
      std::shared_future<Lookup> joined = it->second->result;
      lock.unlock();
      if (coalesced_counter_) coalesced_counter_->Increment();
      return joined.get();
    }
    flight->result = promise.get_future().share();
    flights_.emplace(key, flight);
  }

  // Whatever happens, the flight leaves the map (unless invalidate() took it out already).
  auto land = [&] {
    std::lock_guard lock(flights_mutex_);
    if (auto it = flights_.find(key); it != flights_.end() && it->second == flight) flights_.erase(it);
    return flight->disowned;
  };
  try {
    Lookup result = load(key, loader);
    if (land()) {
      // invalidate() ran while we loaded: what we just wrote may predate the change.
      l1_.invalidate(key);
      l2_delete(key);
    }
    promise.set_value(result);
    return result;
  } catch (...) {
    land();
    promise.set_exception(std::current_exception());
    throw;
  }
}

LayeredCache::Lookup LayeredCache::load(const std::string& key, const Loader& loader) {
  const bool use_l2 = l2_enabled();
  bool l2_unavailable = false;
  if (use_l2) {
    if (auto hit = l2_get(key, l2_unavailable)) {
      if (l1_enabled_) l1_.put(key, *hit);
      return {std::move(hit), CacheLayer::l2};
    }
  }
  std::optional<std::string> value;
  try {
    value = loader();
  } catch (...) {
    if (load_failure_counter_) load_failure_counter_->Increment();
    throw;
  }
  if (!value) {
    if (load_not_found_counter_) load_not_found_counter_->Increment();
    return {std::nullopt, CacheLayer::loader};
  }
  if (load_found_counter_) load_found_counter_->Increment();
  if (use_l2 && !l2_unavailable) l2_put(key, *value);
  if (l1_enabled_) l1_.put(key, *value);
  return {std::move(value), CacheLayer::loader};
}

std::optional<std::string> LayeredCache::l2_get(const std::string& key, bool& unavailable) {
  RedisReply reply = redis_->command("GET", options_.key_prefix + key);
  switch (reply.type) {
    case RedisReply::Type::string:
      if (l2_hit_counter_) l2_hit_counter_->Increment();
      return std::move(reply.str);
    case RedisReply::Type::nil:
      if (l2_miss_counter_) l2_miss_counter_->Increment();
      return std::nullopt;
    case RedisReply::Type::unavailable:
      unavailable = true;
      bypass(true);
      return std::nullopt;
    default:  // an error reply (WRONGTYPE, OOM, ...) or a value that is not ours
      bypass(false);
      return std::nullopt;
  }
}

void LayeredCache::l2_put(const std::string& key, const std::string& value) {
  const RedisReply reply =
      redis_->command("SET", options_.key_prefix + key, value, "PX", std::to_string(options_.l2_ttl.count()));
  if (!reply.ok()) bypass(reply.is_unavailable());
}

bool LayeredCache::l2_delete(const std::string& key) {
  if (!redis_) return true;
  const RedisReply reply = redis_->command("DEL", options_.key_prefix + key);
  if (!reply.ok()) bypass(reply.is_unavailable());
  return reply.ok();
}

bool LayeredCache::invalidate(const std::string& key) {
  {
    std::lock_guard lock(flights_mutex_);
    if (auto it = flights_.find(key); it != flights_.end()) {
      it->second->disowned = true;
      flights_.erase(it);
    }
  }
  l1_.invalidate(key);
  return l2_delete(key);
}

void LayeredCache::bypass(bool unavailable) {
  if (auto* c = unavailable ? bypass_unavailable_counter_ : bypass_error_counter_) c->Increment();
}

}  // namespace mambogo::runtime::cache
