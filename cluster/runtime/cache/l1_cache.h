// The in-process first cache layer, in the spirit of Caffeine's
// `maximumSize(n).expireAfterWrite(d).recordStats()` (the seed: 1000 entries, 10 minutes).
//
// Keys and values are byte strings (a service caches its serialized JSON), so a hit is one
// hash lookup and one copy, with no deserialization.
//
// Eviction: LRU, per shard. Keys are spread over `shards` independently locked shards by
// hash; each shard holds at most its share of maximum_size (the shares add up to exactly
// maximum_size, so the bound is exact), and when full it evicts its own least recently used
// entry. That is an approximation of a global LRU (Caffeine's W-TinyLFU is an approximation
// too, of something smarter); with shards = 1 it is an exact LRU.
// Expiry: an entry older than expire_after_write (measured on the injected clock from its
// last put) is never returned; it is removed when next touched or when its shard evicts.
//
// Metrics (registry may be null), all labelled cache=<name>:
//   cache_gets_total{cache,layer="l1",result=hit|miss}
//   cache_puts_total{cache,layer="l1"}
//   cache_evictions_total{cache,layer="l1",cause=size|expired}
//   cache_size{cache,layer="l1"}   entries held, expired-but-not-yet-removed included
//
// Thread-safety: every public member may be called from any thread; an operation locks one
// shard only (invalidate_all() locks them one after the other). The clock must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/clock.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mambogo::runtime::cache {

struct L1CacheOptions {
  std::string name = "default";  // `cache` label
  std::size_t maximum_size = 1000;
  std::chrono::milliseconds expire_after_write{std::chrono::minutes(10)};
  int shards = 16;  // reduced to maximum_size when that is smaller
};

struct L1CacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t puts = 0;
  std::uint64_t size_evictions = 0;
  std::uint64_t expirations = 0;
  std::size_t size = 0;
};

class L1Cache {
 public:
  // Throws std::invalid_argument when maximum_size is 0, shards < 1 or the TTL is not positive.
  L1Cache(L1CacheOptions options, prometheus::Registry* registry, const Clock& clock);
  ~L1Cache();
  L1Cache(const L1Cache&) = delete;
  L1Cache& operator=(const L1Cache&) = delete;

  // The value if present and fresh (counts a hit, makes it most recently used), else nullopt
  // (counts a miss; an expired entry is removed).
  std::optional<std::string> get(std::string_view key) { return get(key, true); }
  // As get(), but a miss is not counted: for a fast path whose miss is followed by a get()
  // (which counts it), so each lookup counts exactly once.
  std::optional<std::string> get_if_present(std::string_view key) { return get(key, false); }
  // Inserts or replaces; the entry's age restarts. May evict the shard's LRU entry.
  void put(std::string_view key, std::string value);
  // Removes the key; true when it was present (fresh or not).
  bool invalidate(std::string_view key);
  void invalidate_all();

  std::size_t size() const { return size_.load(std::memory_order_relaxed); }
  L1CacheStats stats() const;
  const L1CacheOptions& options() const { return options_; }

 private:
  std::optional<std::string> get(std::string_view key, bool count_miss);
  struct Shard;
  Shard& shard_for(std::string_view key);
  void erased(std::size_t n);

  // Constant after construction.
  const L1CacheOptions options_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Shard>> shards_;
  prometheus::Counter* hit_counter_ = nullptr;
  prometheus::Counter* miss_counter_ = nullptr;
  prometheus::Counter* put_counter_ = nullptr;
  prometheus::Counter* size_eviction_counter_ = nullptr;
  prometheus::Counter* expiry_counter_ = nullptr;
  prometheus::Gauge* size_gauge_ = nullptr;

  // Lock-free tallies (the prometheus counters are optional, stats() is not).
  std::atomic<std::size_t> size_{0};
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> puts_{0};
  std::atomic<std::uint64_t> size_evictions_{0};
  std::atomic<std::uint64_t> expirations_{0};
};

}  // namespace mambogo::runtime::cache
