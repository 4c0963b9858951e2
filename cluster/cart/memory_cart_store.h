// The in-process cart store: what cart-service uses without Redis (the embedded default) or
// while Redis is down. Bounded: at most max_carts carts; beyond, the least recently used cart
// is dropped. The same sliding TTL as in Redis, read from the injected clock.
//
// Metrics (registry may be null): cart_memory_store_carts (gauge), cart_memory_store_evictions_total{cause=size|expired}.
// Thread-safety: every member may be called from any thread (one mutex, O(lines) under it).
// The clock must outlive the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cart/cart_store.h"
#include "runtime/clock.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace mambogo::cart {

class MemoryCartStore final : public CartStore {
 public:
  // Throws std::invalid_argument when max_carts is 0 or ttl is not positive.
  MemoryCartStore(std::size_t max_carts, std::chrono::milliseconds ttl, const runtime::Clock& clock,
                  prometheus::Registry* registry);

  Cart get(const std::string& user_id) override;
  Cart change_line(const std::string& user_id, const CartLine& line, LineChange how, const CartLimits& limits,
                   const std::string& now) override;
  Cart remove_line(const std::string& user_id, const std::string& product_id, const std::string& now) override;
  void clear(const std::string& user_id) override;

  std::size_t size() const;

 private:
  struct Entry {
    Cart cart;
    runtime::Clock::time_point expires_at;
    std::list<std::string>::iterator recency;
  };
  // The live entry for the user (expired ones are removed), touched; null when none.
  Entry* find_locked(const std::string& user_id);
  Entry& find_or_create_locked(const std::string& user_id);
  void erase_locked(const std::string& user_id);
  void publish_locked();

  // Constant after construction.
  const std::size_t max_carts_;
  const std::chrono::milliseconds ttl_;
  const runtime::Clock& clock_;
  prometheus::Gauge* carts_gauge_ = nullptr;
  prometheus::Counter* size_evictions_ = nullptr;
  prometheus::Counter* expirations_ = nullptr;

  // Guarded by mutex_.
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> carts_;
  std::list<std::string> recency_;  // front: most recently used
};

}  // namespace mambogo::cart
