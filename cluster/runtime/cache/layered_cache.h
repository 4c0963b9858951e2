// The seed's three cache layers behind one call: L1 in-process (L1Cache), L2 Redis
// (`<key_prefix><key>` written with SET ... PX l2_ttl, 30 minutes by default), L3 the loader
// the caller passes (the database).
//
//   get(key, loader):
//     L1 on and fresh          -> value (Redis untouched)
//     L2 on and Redis has it   -> value, copied into L1 when L1 is on
//     otherwise                -> loader(); a found value is written to L2 and L1 (those on)
//   Concurrent misses of one key in this process share one flight: one L2 lookup and at most
//   one loader call; the other callers wait for its result (or its exception).
//   A loader answer of nullopt ("no such row") is returned and never cached, as the seed's
//   `unless = "#result == null"`.
//
// Degradation: Redis unavailable (down, timeout, pool exhausted) or answering an error never
// fails get(); L2 is skipped for that call and cache_bypass_total{cache,layer="l2",reason=
// unavailable|error} counts it. RedisPool's fail-fast keeps that cheap while Redis is down.
//
// Switches: set_l1_enabled()/set_l2_enabled() take effect for the next call, so a drill can
// compare "L1+L2", "L2 only" and "none". Switching L1 off also empties it (switching it back
// on starts cold, as a restart would).
//
// invalidate(key) removes the key from L1 and deletes it from Redis whatever the switches say
// (a layer switched off must not come back stale). A flight in progress for that key is
// disowned: whatever it wrote is removed again, and later callers start a new flight.
//
// Metrics (registry may be null), besides L1Cache's:
//   cache_gets_total{cache,layer="l2",result=hit|miss}
//   cache_loads_total{cache,result=found|not_found|failure}   loader calls (L3)
//   cache_coalesced_total{cache}                              callers that joined a flight
//   cache_bypass_total{cache,layer="l2",reason=unavailable|error}
//
// Thread-safety: every public member may be called from any thread. The loader runs on the
// calling thread of the flight's leader and must not call get() for the same key (it would
// wait for itself). The pool (may be null: no L2) and the clock must outlive the cache.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "runtime/clock.h"
#include "runtime/cache/l1_cache.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::runtime::redis {
class RedisPool;
}  // namespace mambogo::runtime::redis

namespace mambogo::runtime::cache {

using redis::RedisPool;

struct LayeredCacheOptions {
  L1CacheOptions l1;  // l1.name is the `cache` label of every metric
  std::string key_prefix = "cache:";  // the product service uses "product:"
  std::chrono::milliseconds l2_ttl{std::chrono::minutes(30)};
  bool l1_enabled = true;
  bool l2_enabled = true;
};

enum class CacheLayer { l1, l2, loader };
const char* to_string(CacheLayer layer);

class LayeredCache {
 public:
  using Loader = std::function<std::optional<std::string>()>;

  struct Lookup {
    std::optional<std::string> value;
    CacheLayer source = CacheLayer::loader;  // where the value (or its absence) came from
  };

  // Throws std::invalid_argument on a non-positive l2_ttl (and what L1Cache refuses).
  LayeredCache(LayeredCacheOptions options, RedisPool* redis, prometheus::Registry* registry,
               const Clock& clock);
  ~LayeredCache();
  LayeredCache(const LayeredCache&) = delete;
  LayeredCache& operator=(const LayeredCache&) = delete;

  // Rethrows what the loader throws (to every caller sharing the flight).
  Lookup lookup(const std::string& key, const Loader& loader);
  std::optional<std::string> get(const std::string& key, const Loader& loader) {
    return lookup(key, loader).value;
  }

  // L1 alone, never blocking (for an I/O thread): the value on an L1 hit (counted as
  // lookup() counts it), else nullopt and nothing counted, because the lookup() that follows
  // a miss counts it.
  std::optional<std::string> peek_l1(const std::string& key) {
    return l1_enabled_ ? l1_.get_if_present(key) : std::nullopt;
  }

  // Removes the key from every layer. True when Redis confirmed the delete (or there is no
  // L2); false when Redis was unavailable, so L2 may still hold the old value until its TTL.
  bool invalidate(const std::string& key);

  void set_l1_enabled(bool on);
  void set_l2_enabled(bool on) { l2_enabled_ = on; }
  bool l1_enabled() const { return l1_enabled_; }
  bool l2_enabled() const { return l2_enabled_ && redis_ != nullptr; }

  L1Cache& l1() { return l1_; }
  const LayeredCacheOptions& options() const { return options_; }

 private:
  struct Flight {
    std::shared_future<Lookup> result;
    bool disowned = false;  // guarded by flights_mutex_
  };

  Lookup load(const std::string& key, const Loader& loader);
  std::optional<std::string> l2_get(const std::string& key, bool& bypassed);
  void l2_put(const std::string& key, const std::string& value);
  bool l2_delete(const std::string& key);
  void bypass(bool unavailable);

  // Constant after construction.
  const LayeredCacheOptions options_;
  RedisPool* const redis_;
  prometheus::Counter* l2_hit_counter_ = nullptr;
  prometheus::Counter* l2_miss_counter_ = nullptr;
  prometheus::Counter* load_found_counter_ = nullptr;
  prometheus::Counter* load_not_found_counter_ = nullptr;
  prometheus::Counter* load_failure_counter_ = nullptr;
  prometheus::Counter* coalesced_counter_ = nullptr;
  prometheus::Counter* bypass_unavailable_counter_ = nullptr;
  prometheus::Counter* bypass_error_counter_ = nullptr;

  L1Cache l1_;  // thread-safe itself
  std::atomic<bool> l1_enabled_;
  std::atomic<bool> l2_enabled_;

  // Guarded by flights_mutex_.
  std::mutex flights_mutex_;
  std::map<std::string, std::shared_ptr<Flight>, std::less<>> flights_;
};

}  // namespace mambogo::runtime::cache
