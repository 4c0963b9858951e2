// cart-service: what it adds to a runtime::Service (cluster/README.md, "cart-service"). Every
// route needs a token with the "user" role; the cart is the caller's (sub = userId).
//
//   GET    /api/cart                       the cart (empty when there is none)
//   POST   /api/cart/items                 {"productId", "quantity" 1..99} adds (sums) → 200 cart
//   PUT    /api/cart/items/{productId}     {"quantity" 0..99} sets (0 removes) → 200 cart
//   DELETE /api/cart/items/{productId}     → 200 cart
//   DELETE /api/cart                       → 204
// Adds and sets (quantity > 0) are validated against product-service (ProductClient):
// 422 unknown_product, 422 product_inactive, 503 product_unavailable + Retry-After when it
// cannot answer. 400 bad_request for a malformed id, body or quantity (also when the sum
// would exceed 99), 422 cart_full beyond CART_MAX_ITEMS products.
//
// Storage: Redis (REDIS_URL) with the in-process store as fallback (FailoverCartStore),
// sliding TTL CART_TTL (7 days), CART_MEMORY_MAX_CARTS carts at most in process.
// Upstream: PRODUCT_SERVICE_URL (http://127.0.0.1:8081), PRODUCT_SERVICE_TIMEOUT (2s),
// PRODUCT_CACHE_TTL (60s). Health: "cart-store" (non-critical), plus the runtime's "redis".
//
// Ownership: borrows the Service, which must outlive it; owns the stores, the Redis pool, the
// HTTP client and the product client. Construct after Config::finish(), before
// Service::start(); destroy after the service has drained.
// Thread-safety: handlers run on the service's bounded executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "cart/failover_cart_store.h"
#include "cart/memory_cart_store.h"
#include "cart/product_client.h"
#include "cart/redis_cart_store.h"
#include "runtime/auth/token.h"
#include "runtime/http_client.h"
#include "runtime/redis/redis_config.h"
#include "runtime/service.h"

namespace mambogo::cart {

struct CartSettings {
  std::chrono::milliseconds ttl{std::chrono::hours(24 * 7)};
  std::size_t memory_max_carts = 100'000;
  CartLimits limits;
  ProductClientOptions product;
  runtime::redis::RedisSettings redis;
  runtime::auth::KeySet keys;
};

// Declares and reads every cart-service variable; problems are left in config.
CartSettings read_cart_settings(runtime::Config& config);

class CartService {
 public:
  // Throws std::invalid_argument when the key set cannot issue service tokens.
  CartService(runtime::Service& service, const CartSettings& settings);
  ~CartService();
  CartService(const CartService&) = delete;
  CartService& operator=(const CartService&) = delete;

 private:
  runtime::Response get_cart(const runtime::Request& request);
  runtime::Response add_item(const runtime::Request& request);
  runtime::Response set_item(const runtime::Request& request);
  runtime::Response remove_item(const runtime::Request& request);
  runtime::Response clear_cart(const runtime::Request& request);
  // The line for a validated product, or the 422/503 answer in `refused`.
  std::optional<CartLine> validated_line(const std::string& product_id, int quantity, const runtime::Request& request,
                                         runtime::Response& refused);
  runtime::Response change(const std::string& user_id, const CartLine& line, LineChange how,
                           const runtime::Request& request);

  // Constant after construction.
  const CartLimits limits_;
  runtime::auth::TokenVerifier verifier_;
  runtime::auth::TokenIssuer issuer_;
  runtime::redis::ServiceRedis redis_;
  std::unique_ptr<RedisCartStore> redis_store_;  // null without Redis
  MemoryCartStore memory_store_;
  FailoverCartStore store_;
  runtime::HttpClient http_;
  ProductClient products_;
};

}  // namespace mambogo::cart
