#include "product/product_service.h"

#include "runtime/cache/layered_cache.h"
#include "runtime/service.h"
#include "schema/product.h"

namespace mambogo::product {

namespace {

using runtime::Dispatch;
using runtime::Method;
using runtime::Request;
using runtime::Response;

runtime::cache::LayeredCacheOptions cache_options() {
  runtime::cache::LayeredCacheOptions o;
  o.l1.name = "products";
  o.l1.maximum_size = 1000;
  o.l1.expire_after_write = std::chrono::minutes(10);
  o.key_prefix = "product:";
  o.l2_ttl = std::chrono::minutes(30);
  return o;
}

void seed(db::Datasource& datasource, const SeedOptions& options, runtime::Logger& logger) {
  auto lease = datasource.write();
  const std::int64_t inserted = seed_catalogue(*lease, options);
  // Fresh statistics, so that the planner sees the catalogue it has to plan for (the
  // partial indexes only pay off when it knows how selective their predicates are).
  if (inserted > 0) lease->execute("ANALYZE");
  logger.info("catalogue seeded", {{"inserted", inserted}, {"requested", options.products}});
}

void register_switches(runtime::RuntimeSettings& switches, runtime::cache::LayeredCache& cache) {
  switches.add_bool(
      "cache.l1.enabled", "L1 in-process product cache (1000 entries, 10 min); off empties it",
      [&cache] { return cache.l1_enabled(); }, [&cache](bool on) { cache.set_l1_enabled(on); });
  switches.add_bool(
      "cache.l2.enabled", "L2 Redis product cache (product:{id}, 30 min); has no effect without REDIS_URL",
      [&cache] { return cache.l2_enabled(); },
      [&cache](bool on) { cache.set_l2_enabled(on); });
}

}  // namespace

ProductSettings read_product_settings(runtime::Config& config) {
  ProductSettings s;
  s.api.public_read = config.boolean("PRODUCT_PUBLIC_READ", true,
                                     "serve GET /api/products* and /api/categories without a token");
  s.seed.products = config.integer("PRODUCT_SEED_COUNT", 10'000, 0, 200'000,
                                   "demo products seeded into an empty catalogue (20 categories); 0 = none");
  s.keys = runtime::auth::read_key_set(config);
  s.datasource = db::read_datasource_settings(config, "product");
  s.redis = runtime::redis::read_redis_settings(config);
  return s;
}

ProductService::ProductService(runtime::Service& service, const ProductSettings& settings) {
  auto& registry = service.metrics().registry();
  verifier_ = std::make_unique<runtime::auth::TokenVerifier>(settings.keys);
  datasource_ = std::make_unique<db::Datasource>(settings.datasource, schema::product_migrations(), &service.metrics(),
                                                 &service.logger(), &service.health(), &service.switches());
  seed(*datasource_, settings.seed, service.logger());
  redis_ = std::make_unique<runtime::redis::ServiceRedis>(settings.redis, &service.metrics(), &service.health());
  cache_ = std::make_unique<runtime::cache::LayeredCache>(cache_options(), redis_->pool(), &registry,
                                                         runtime::system_clock());
  repository_ = std::make_unique<SqlProductRepository>(*datasource_);
  api_ = std::make_unique<ProductApi>(*repository_, *cache_, *verifier_, settings.api, &registry, &service.logger());
  register_switches(service.switches(), *cache_);
}

ProductService::~ProductService() = default;

void install_product_service(runtime::Service& service, const ProductSettings& settings) {
  auto product = std::make_shared<ProductService>(service, settings);
  auto route = [product](Response (ProductApi::*handler)(const Request&)) {
    return [product, handler](const Request& r) { return (product->api().*handler)(r); };
  };
  service.router()
      .add(Method::get, "/api/products", route(&ProductApi::list_products), Dispatch::blocking)
      // An L1 hit is answered on the I/O thread; anything else goes to the executor.
      .add_async(Method::get, "/api/products/{id}",
                 [product, &executor = service.executor()](const Request& r, runtime::Responder done) {
                   if (auto fast = product->api().get_product_without_blocking(r)) return done.send(std::move(*fast));
                   auto responder = std::make_shared<runtime::Responder>(std::move(done));
                   const auto submitted =
                       executor.submit([product, &r, responder] { responder->send(product->api().get_product(r)); });
                   if (submitted == runtime::BoundedExecutor::Submitted::rejected)
                     responder->send(Response::error(503, "overloaded", "the service is at capacity", r.request_id)
                                         .with_header("Retry-After", "1"));
                 })
      .add(Method::get, "/api/categories", route(&ProductApi::list_categories), Dispatch::blocking)
      .add(Method::post, "/api/inventory/reserve", route(&ProductApi::reserve), Dispatch::blocking)
      .add(Method::post, "/api/inventory/release", route(&ProductApi::release), Dispatch::blocking);
  service.set_admin_guard(runtime::auth::admin_guard(product->verifier()));
}

}  // namespace mambogo::product
