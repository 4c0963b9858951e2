// The product service assembled: configuration, storage (migrated, seeded), Redis, the
// three cache layers, identity, run-time switches and the routes, on a runtime::Service.
//
// Configuration (besides the runtime's SERVER_*, EXECUTOR_*, DB_*, REDIS_*, AUTH_*):
//   PRODUCT_PUBLIC_READ (true)   GET /api/products* and /api/categories without a token
//   PRODUCT_SEED_COUNT (10000)   demo products seeded into an empty catalogue (0..200000; 0 = none)
// Cache (the seed's values): L1 "products" 1000 entries, 10 min after write; L2 Redis
// `product:{id}`, 30 min.
// Switches (/admin/settings, admin token): cache.l1.enabled, cache.l2.enabled, plus the
// runtime's executor.* and the datasource's db.*.
//
// Ownership: install_product_service() creates the ProductService and gives it to the
// service's routes, which share it. It is therefore destroyed with the router, after the
// server and executor have stopped and before the metrics registry and logger it reports to
// (the Service declares those first, so they outlive the router).
// Thread-safety: set-up on the main thread; the handlers run on any thread.
#pragma once

#include <memory>

#include "product/product_api.h"
#include "product/seed_data.h"
#include "runtime/auth/token.h"
#include "runtime/db/datasource.h"
#include "runtime/redis/redis_config.h"

namespace mambogo::runtime {
class Config;
class Service;
namespace cache {
class LayeredCache;
}
}  // namespace mambogo::runtime

namespace mambogo::product {

struct ProductSettings {
  ProductApiOptions api;
  SeedOptions seed;
  runtime::auth::KeySet keys;
  db::DatasourceSettings datasource;
  runtime::redis::RedisSettings redis;
};

// Declares and reads every variable above; problems are left in config for finish().
ProductSettings read_product_settings(runtime::Config& config);

class ProductService {
 public:
  // Opens and migrates the database (throws db::DbError / SchemaTooNewError: the service must
  // not start without it), seeds an empty catalogue, registers health checks and switches.
  ProductService(runtime::Service& service, const ProductSettings& settings);
  ~ProductService();
  ProductService(const ProductService&) = delete;
  ProductService& operator=(const ProductService&) = delete;

  ProductApi& api() { return *api_; }
  const runtime::auth::TokenVerifier& verifier() const { return *verifier_; }

 private:
  // Destroyed in reverse: the api first, the datasource last.
  std::unique_ptr<runtime::auth::TokenVerifier> verifier_;
  std::unique_ptr<db::Datasource> datasource_;
  std::unique_ptr<runtime::redis::ServiceRedis> redis_;
  std::unique_ptr<runtime::cache::LayeredCache> cache_;
  std::unique_ptr<SqlProductRepository> repository_;
  std::unique_ptr<ProductApi> api_;
};

// Builds the ProductService, adds its routes (on the blocking executor) and the admin guard.
void install_product_service(runtime::Service& service, const ProductSettings& settings);

}  // namespace mambogo::product
