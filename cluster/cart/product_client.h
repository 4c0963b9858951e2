// What cart-service asks product-service: does this product exist, is it active, what does it
// cost and what is it called. GET /api/products/{id} with a service token (role "service",
// sub "cart-service", issued from the cluster's key set and renewed before it expires),
// through the runtime's pooled HTTP client with its timeouts. Found products are kept in an
// L1 cache for a short time (the price a cart snapshots may be that old); misses and failures
// are not cached.
//
// Answers: found (with the product), not_found (404 from product-service), unavailable
// (product-service down, timing out, answering 5xx/429 or nonsense): the caller answers 503.
//
// Metrics: the cache's cache_gets_total{cache="products",layer="l1",...} and the client's
// http_client_*{upstream="product-service"}, plus
// product_lookups_total{result=found|not_found|unavailable}.
//
// Thread-safety: lookup() from any thread except the HTTP client's own I/O threads (it
// blocks: call it on the bounded executor). The client, issuer and clock must outlive it.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "cart/cart_model.h"
#include "runtime/auth/token.h"
#include "runtime/cache/l1_cache.h"
#include "runtime/http_client.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace mambogo::cart {

struct ProductClientOptions {
  HostPort address{"127.0.0.1", 8081};
  std::chrono::milliseconds timeout{2'000};
  std::chrono::milliseconds cache_ttl{60'000};
  std::size_t cache_size = 10'000;
};

struct ProductLookup {
  enum class Status { found, not_found, unavailable };
  Status status = Status::unavailable;
  ProductInfo product;  // found
  std::string detail;   // unavailable: why, for the message and logs
};

class ProductClient {
 public:
  ProductClient(runtime::HttpClient& http, ProductClientOptions options, const runtime::auth::TokenIssuer& issuer,
                const runtime::Clock& clock, prometheus::Registry* registry);

  // product_id: a canonical UUID.
  ProductLookup lookup(const std::string& product_id);

 private:
  ProductLookup fetch(const std::string& product_id);
  std::string service_token();
  ProductLookup counted(ProductLookup lookup);

  // Constant after construction.
  runtime::HttpClient& http_;
  runtime::Upstream& upstream_;
  const runtime::auth::TokenIssuer& issuer_;
  prometheus::Counter* found_ = nullptr;
  prometheus::Counter* not_found_ = nullptr;
  prometheus::Counter* unavailable_ = nullptr;

  runtime::cache::L1Cache cache_;  // thread-safe by itself

  // Guarded by token_mutex_.
  std::mutex token_mutex_;
  std::string token_;
  std::chrono::system_clock::time_point token_expires_{};
};

}  // namespace mambogo::cart
