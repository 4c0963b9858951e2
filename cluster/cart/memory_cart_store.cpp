#include "cart/memory_cart_store.h"

#include <algorithm>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace mambogo::cart {

MemoryCartStore::MemoryCartStore(std::size_t max_carts, std::chrono::milliseconds ttl, const runtime::Clock& clock,
                                 prometheus::Registry* registry)
    : max_carts_(max_carts), ttl_(ttl), clock_(clock) {
  if (max_carts == 0) throw std::invalid_argument("max_carts must be at least 1");
  if (ttl.count() <= 0) throw std::invalid_argument("ttl must be positive");
  if (registry) {
    carts_gauge_ = &prometheus::BuildGauge()
                        .Name("cart_memory_store_carts")
                        .Help("Carts held by the in-process store")
                        .Register(*registry)
                        .Add({});
    auto& evictions = prometheus::BuildCounter()
                          .Name("cart_memory_store_evictions_total")
                          .Help("Carts dropped by the in-process store")
                          .Register(*registry);
    size_evictions_ = &evictions.Add({{"cause", "size"}});
    expirations_ = &evictions.Add({{"cause", "expired"}});
  }
}

MemoryCartStore::Entry* MemoryCartStore::find_locked(const std::string& user_id) {
  auto it = carts_.find(user_id);
  if (it == carts_.end()) return nullptr;
  const auto now = clock_.now();
  if (now >= it->second.expires_at) {
    erase_locked(user_id);
    if (expirations_) expirations_->Increment();
    return nullptr;
  }
  it->second.expires_at = now + ttl_;
  recency_.splice(recency_.begin(), recency_, it->second.recency);
  return &it->second;
}

MemoryCartStore::Entry& MemoryCartStore::find_or_create_locked(const std::string& user_id) {
  if (Entry* e = find_locked(user_id)) return *e;
  while (carts_.size() >= max_carts_) {
    erase_locked(recency_.back());
    if (size_evictions_) size_evictions_->Increment();
  }
  recency_.push_front(user_id);
  Entry& e = carts_[user_id];
  e.cart.user_id = user_id;
  e.expires_at = clock_.now() + ttl_;
  e.recency = recency_.begin();
  return e;
}

void MemoryCartStore::erase_locked(const std::string& user_id) {
  auto it = carts_.find(user_id);
  if (it == carts_.end()) return;
  recency_.erase(it->second.recency);
  carts_.erase(it);
}

void MemoryCartStore::publish_locked() {
  if (carts_gauge_) carts_gauge_->Set(static_cast<double>(carts_.size()));
}

Cart MemoryCartStore::get(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  Entry* e = find_locked(user_id);
  publish_locked();
  if (!e) return Cart{user_id, {}, {}};
  return e->cart;
}

Cart MemoryCartStore::change_line(const std::string& user_id, const CartLine& line, LineChange how,
                                  const CartLimits& limits, const std::string& now) {
  std::lock_guard lock(mutex_);
  Entry* existing = find_locked(user_id);
  const std::vector<CartLine> none;
  const auto& lines = existing ? existing->cart.lines : none;
  auto at = std::find_if(lines.begin(), lines.end(), [&](const CartLine& l) { return l.product_id == line.product_id; });
  const int quantity = line.quantity + (how == LineChange::add && at != lines.end() ? at->quantity : 0);
  if (quantity > limits.max_quantity)
    throw CartLimitError(CartLimitError::Kind::quantity, "the cart would hold " + std::to_string(quantity) +
                                                             " of this product; at most " +
                                                             std::to_string(limits.max_quantity));
  if (at == lines.end() && static_cast<int>(lines.size()) >= limits.max_items)
    throw CartLimitError(CartLimitError::Kind::items,
                         "a cart holds at most " + std::to_string(limits.max_items) + " different products");
  Entry& e = existing ? *existing : find_or_create_locked(user_id);
  auto& mine = e.cart.lines;
  auto pos = std::lower_bound(mine.begin(), mine.end(), line.product_id,
                              [](const CartLine& l, const std::string& id) { return l.product_id < id; });
  if (pos == mine.end() || pos->product_id != line.product_id) pos = mine.insert(pos, line);
  *pos = line;
  pos->quantity = quantity;
  e.cart.updated_at = now;
  publish_locked();
  return e.cart;
}

Cart MemoryCartStore::remove_line(const std::string& user_id, const std::string& product_id, const std::string& now) {
  std::lock_guard lock(mutex_);
  Entry* e = find_locked(user_id);
  if (!e) {
    publish_locked();
    return Cart{user_id, {}, {}};
  }
  auto& lines = e->cart.lines;
  auto at = std::find_if(lines.begin(), lines.end(), [&](const CartLine& l) { return l.product_id == product_id; });
  if (at != lines.end()) {
    lines.erase(at);
    e->cart.updated_at = now;
  }
  if (lines.empty()) {
    erase_locked(user_id);
    publish_locked();
    return Cart{user_id, {}, {}};
  }
  publish_locked();
  return e->cart;
}

void MemoryCartStore::clear(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  erase_locked(user_id);
  publish_locked();
}

std::size_t MemoryCartStore::size() const {
  std::lock_guard lock(mutex_);
  return carts_.size();
}

}  // namespace mambogo::cart
