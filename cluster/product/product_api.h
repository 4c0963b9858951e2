// The product service's HTTP handlers (cluster/README.md, "product-service"), as plain
// functions of a Request, so they are wired by the composition root and run on the blocking
// executor (every one may touch the database or Redis):
//   GET  /api/products           list_products    catalogue page (replica)
//   GET  /api/products/{id}      get_product      L1 -> L2 -> DB, answers X-Cache: L1|L2|DB
//   GET  /api/categories         list_categories
//   POST /api/inventory/reserve  reserve          service or admin role
//   POST /api/inventory/release  release          service or admin role
// Reads need a valid token unless options.public_read. A change of stock (reserve, release)
// invalidates the affected products in L1 and L2 before the answer leaves.
//
// Errors: the one error shape; 400 bad_request (parameters, ids, bodies; invalid_json and
// 415 from the runtime's body parser), 401/403 from runtime/auth, 404 not_found,
// 409 insufficient_stock, 422 unknown_product, 503 database_unavailable (+ Retry-After)
// when the database cannot be reached in time.
//
// Metrics (registry may be null): inventory_reservation_time_seconds (histogram, every
// reserve call), inventory_reservations_total{result=reserved|insufficient_stock|
// unknown_product|replayed}. Cache gets by layer and result are LayeredCache's
// (cache_gets_total{cache="products",layer,result}, cache_loads_total, ...).
//
// Ownership: borrows everything it is given; all of it must outlive the api.
// Thread-safety: every handler may run on any thread, concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "product/product_repository.h"
#include "runtime/http_message.h"

namespace prometheus {
class Registry;
class Counter;
class Histogram;
}  // namespace prometheus

namespace mambogo::runtime {
class Logger;
namespace auth {
class TokenVerifier;
}
namespace cache {
class LayeredCache;
}
}  // namespace mambogo::runtime

namespace mambogo::product {

struct ProductApiOptions {
  bool public_read = true;  // GET routes without a token
};

class ProductApi {
 public:
  ProductApi(ProductRepository& repository, runtime::cache::LayeredCache& cache,
             const runtime::auth::TokenVerifier& verifier, ProductApiOptions options,
             prometheus::Registry* registry, runtime::Logger* logger);

  runtime::Response list_products(const runtime::Request& request);
  runtime::Response get_product(const runtime::Request& request);
  // The part of get_product that never blocks, for the I/O thread: the answer when the token
  // or the id is refused or L1 holds the product; nullopt when get_product must run on the
  // executor (L2, then the database).
  std::optional<runtime::Response> get_product_without_blocking(const runtime::Request& request);
  runtime::Response list_categories(const runtime::Request& request);
  runtime::Response reserve(const runtime::Request& request);
  runtime::Response release(const runtime::Request& request);

 private:
  // nullopt: go ahead; otherwise the 401/403 to send.
  std::optional<runtime::Response> read_denied(const runtime::Request& request) const;
  std::optional<runtime::Response> inventory_denied(const runtime::Request& request) const;
  runtime::Response reserve_checked(const runtime::Request& request);
  void invalidate(const std::vector<std::string>& products);
  void count(ReserveOutcome::Result result);

  // Constant after construction.
  ProductRepository& repository_;
  runtime::cache::LayeredCache& cache_;
  const runtime::auth::TokenVerifier& verifier_;
  const ProductApiOptions options_;
  runtime::Logger* const logger_;
  prometheus::Histogram* reservation_seconds_ = nullptr;
  prometheus::Counter* reservations_[4] = {};  // by ReserveOutcome::Result
};

}  // namespace mambogo::product
