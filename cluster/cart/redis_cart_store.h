// Carts in Redis: one hash per user, key "cart:<userId>", a field per product (value: JSON
// {"quantity", "name", "unitPriceCents"}) plus the field "updatedAt", and a time to live that
// every read and write sets again (PEXPIRE), so an abandoned cart disappears on its own.
//
// Each operation is one Lua script (EVAL): the read-modify-write of a line (sum, limits) and
// the TTL refresh happen atomically, whatever other instances of cart-service do at the same
// time, in one round trip.
//
// Errors: StoreUnavailable when the pool has no answer (Redis down, timeout) or Redis answers
// with an error (a foreign value under the key); CartLimitError as the interface says.
// Thread-safety: any thread (the pool is). The pool must outlive the store.
#pragma once

#include <chrono>
#include <string>

#include "cart/cart_store.h"
#include "runtime/redis/redis_pool.h"

namespace mambogo::cart {

class RedisCartStore final : public CartStore {
 public:
  RedisCartStore(runtime::redis::RedisPool& pool, std::chrono::milliseconds ttl);

  Cart get(const std::string& user_id) override;
  Cart change_line(const std::string& user_id, const CartLine& line, LineChange how, const CartLimits& limits,
                   const std::string& now) override;
  Cart remove_line(const std::string& user_id, const std::string& product_id, const std::string& now) override;
  void clear(const std::string& user_id) override;

  static std::string key(const std::string& user_id) { return "cart:" + user_id; }

 private:
  runtime::redis::RedisReply run(std::initializer_list<std::string_view> args);

  runtime::redis::RedisPool& pool_;
  const std::string ttl_ms_;
};

}  // namespace mambogo::cart
