#include "runtime/cache/l1_cache.h"

#include <functional>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::runtime::cache {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct L1Cache::Shard {
  struct Entry {
    std::string key;
    std::string value;
    Clock::time_point expires_at;
  };
  using Lru = std::list<Entry>;  // front: most recently used

  std::mutex mutex;
  std::size_t capacity = 0;  // constant after construction
  // Guarded by mutex.
  Lru lru;
  std::unordered_map<std::string, Lru::iterator, StringHash, std::equal_to<>> index;
};

L1Cache::L1Cache(L1CacheOptions options, prometheus::Registry* registry, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  if (options_.maximum_size == 0 || options_.shards < 1 ||
      options_.expire_after_write <= std::chrono::milliseconds::zero())
    throw std::invalid_argument("l1 cache '" + options_.name +
                                "': need maximum_size >= 1, shards >= 1, expire_after_write > 0");
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(options_.shards), options_.maximum_size);
  for (std::size_t i = 0; i < n; ++i) {
    shards_.push_back(std::make_unique<Shard>());
    // Spread the remainder so the capacities add up to maximum_size exactly.
    shards_.back()->capacity = options_.maximum_size / n + (i < options_.maximum_size % n ? 1 : 0);
  }
  if (!registry) return;
  const std::string& name = options_.name;
  auto& gets = prometheus::BuildCounter()
                   .Name("cache_gets_total")
                   .Help("Cache lookups by layer and result")
                   .Register(*registry);
  hit_counter_ = &gets.Add({{"cache", name}, {"layer", "l1"}, {"result", "hit"}});
  miss_counter_ = &gets.Add({{"cache", name}, {"layer", "l1"}, {"result", "miss"}});
  put_counter_ = &prometheus::BuildCounter()
                      .Name("cache_puts_total")
                      .Help("Entries written to a cache layer")
                      .Register(*registry)
                      .Add({{"cache", name}, {"layer", "l1"}});
  auto& evictions = prometheus::BuildCounter()
                        .Name("cache_evictions_total")
                        .Help("Entries removed by the cache itself, by cause (size bound or expiry)")
                        .Register(*registry);
  size_eviction_counter_ = &evictions.Add({{"cache", name}, {"layer", "l1"}, {"cause", "size"}});
  expiry_counter_ = &evictions.Add({{"cache", name}, {"layer", "l1"}, {"cause", "expired"}});
  size_gauge_ = &prometheus::BuildGauge()
                     .Name("cache_size")
                     .Help("Entries held by a cache layer")
                     .Register(*registry)
                     .Add({{"cache", name}, {"layer", "l1"}});
}

L1Cache::~L1Cache() = default;

L1Cache::Shard& L1Cache::shard_for(std::string_view key) {
  return *shards_[StringHash{}(key) % shards_.size()];
}

void L1Cache::erased(std::size_t n) {
  size_.fetch_sub(n, std::memory_order_relaxed);
  if (size_gauge_) size_gauge_->Decrement(static_cast<double>(n));
}

std::optional<std::string> L1Cache::get(std::string_view key, bool count_miss) {
  Shard& shard = shard_for(key);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      auto entry = it->second;
      if (clock_.now() < entry->expires_at) {
        shard.lru.splice(shard.lru.begin(), shard.lru, entry);
        std::string value = entry->value;
        ++hits_;
        if (hit_counter_) hit_counter_->Increment();
        return value;
      }
      shard.index.erase(it);
      shard.lru.erase(entry);
      erased(1);
      ++expirations_;
      if (expiry_counter_) expiry_counter_->Increment();
    }
  }
  if (!count_miss) return std::nullopt;
  ++misses_;
  if (miss_counter_) miss_counter_->Increment();
  return std::nullopt;
}

void L1Cache::put(std::string_view key, std::string value) {
  Shard& shard = shard_for(key);
  const auto expires_at = clock_.now() + options_.expire_after_write;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      it->second->value = std::move(value);
      it->second->expires_at = expires_at;
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    } else {
      if (shard.lru.size() >= shard.capacity) {
        const Shard::Entry& victim = shard.lru.back();
        const bool expired = clock_.now() >= victim.expires_at;
        shard.index.erase(victim.key);
        shard.lru.pop_back();
        erased(1);
        if (expired) {
          ++expirations_;
          if (expiry_counter_) expiry_counter_->Increment();
        } else {
          ++size_evictions_;
          if (size_eviction_counter_) size_eviction_counter_->Increment();
        }
      }
      shard.lru.push_front({std::string(key), std::move(value), expires_at});
      shard.index.emplace(shard.lru.front().key, shard.lru.begin());
      size_.fetch_add(1, std::memory_order_relaxed);
      if (size_gauge_) size_gauge_->Increment();
    }
  }
  ++puts_;
  if (put_counter_) put_counter_->Increment();
}

bool L1Cache::invalidate(std::string_view key) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) return false;
  shard.lru.erase(it->second);
  shard.index.erase(it);
  erased(1);
  return true;
}

void L1Cache::invalidate_all() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    const std::size_t n = shard->lru.size();
    shard->index.clear();
    shard->lru.clear();
    if (n) erased(n);
  }
}

L1CacheStats L1Cache::stats() const {
  return {hits_.load(), misses_.load(), puts_.load(), size_evictions_.load(), expirations_.load(), size()};
}

}  // namespace mambogo::runtime::cache
