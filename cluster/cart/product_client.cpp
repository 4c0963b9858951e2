#include "cart/product_client.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

namespace mambogo::cart {
namespace {

constexpr auto kTokenTtl = std::chrono::hours(1);
constexpr auto kTokenRenewBefore = std::chrono::minutes(5);

runtime::UpstreamOptions upstream_options(const ProductClientOptions& o) {
  runtime::UpstreamOptions u;
  u.name = "product-service";
  u.host = o.address.host;
  u.port = o.address.port;
  u.request_timeout = o.timeout;
  u.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(1'000));
  return u;
}

runtime::cache::L1CacheOptions cache_options(const ProductClientOptions& o) {
  runtime::cache::L1CacheOptions c;
  c.name = "products";
  c.maximum_size = o.cache_size;
  c.expire_after_write = o.cache_ttl;
  return c;
}

ProductLookup unavailable(std::string detail) {
  ProductLookup l;
  l.status = ProductLookup::Status::unavailable;
  l.detail = std::move(detail);
  return l;
}

// A product-service body into a lookup; a body that is not a Product is an unavailable upstream.
ProductLookup from_body(const std::string& body) {
  auto product = parse_product(nlohmann::json::parse(body, nullptr, false));
  if (!product) return unavailable("product-service answered with something that is not a product");
  ProductLookup l;
  l.status = ProductLookup::Status::found;
  l.product = std::move(*product);
  return l;
}

}  // namespace

ProductClient::ProductClient(runtime::HttpClient& http, ProductClientOptions options,
                             const runtime::auth::TokenIssuer& issuer, const runtime::Clock& clock,
                             prometheus::Registry* registry)
    : http_(http),
      upstream_(http.upstream(upstream_options(options))),
      issuer_(issuer),
      cache_(cache_options(options), registry, clock) {
  if (!registry) return;
  auto& lookups = prometheus::BuildCounter()
                      .Name("product_lookups_total")
                      .Help("Product validations by result (cache hits included)")
                      .Register(*registry);
  found_ = &lookups.Add({{"result", "found"}});
  not_found_ = &lookups.Add({{"result", "not_found"}});
  unavailable_ = &lookups.Add({{"result", "unavailable"}});
}

std::string ProductClient::service_token() {
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(token_mutex_);
  if (token_.empty() || now + kTokenRenewBefore >= token_expires_) {
    runtime::auth::TokenRequest request;
    request.subject = "cart-service";
    request.roles = {std::string(runtime::auth::kRoleService)};
    request.ttl = kTokenTtl;
    request.now = now;
    token_ = issuer_.issue(request);
    token_expires_ = now + kTokenTtl;
  }
  return token_;
}

ProductLookup ProductClient::counted(ProductLookup lookup) {
  prometheus::Counter* c = lookup.status == ProductLookup::Status::found       ? found_
                           : lookup.status == ProductLookup::Status::not_found ? not_found_
                                                                               : unavailable_;
  if (c) c->Increment();
  return lookup;
}

ProductLookup ProductClient::lookup(const std::string& product_id) {
  if (auto cached = cache_.get(product_id)) return counted(from_body(*cached));
  return counted(fetch(product_id));
}

ProductLookup ProductClient::fetch(const std::string& product_id) {
  runtime::OutgoingRequest request;
  request.method = runtime::Method::get;
  request.target = "/api/products/" + product_id;
  request.headers.push_back({"Authorization", "Bearer " + service_token()});
  request.headers.push_back({"Accept", "application/json"});
  runtime::ClientResult result = http_.call(upstream_, std::move(request));
  if (!result.ok())
    return unavailable("product-service unreachable (" + std::string(runtime::to_string(result.error)) + ")");
  const int status = result.response.status;
  if (status == 404) {
    ProductLookup l;
    l.status = ProductLookup::Status::not_found;
    return l;
  }
  if (status != 200) return unavailable("product-service answered " + std::to_string(status));
  ProductLookup l = from_body(result.response.body);
  if (l.status == ProductLookup::Status::found && l.product.id == product_id) cache_.put(product_id, result.response.body);
  return l;
}

}  // namespace mambogo::cart
