#include "product/product_api.h"

#include <chrono>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "product/inventory_request.h"
#include "runtime/values.h"
#include "runtime/auth/token.h"
#include "runtime/cache/layered_cache.h"
#include "runtime/db/db_error.h"
#include "runtime/json_body.h"
#include "runtime/logging.h"

namespace mambogo::product {

using runtime::canonical_uuid;

namespace {

using runtime::Request;
using runtime::Response;

const char* x_cache(runtime::cache::CacheLayer layer) {
  switch (layer) {
    case runtime::cache::CacheLayer::l1: return "L1";
    case runtime::cache::CacheLayer::l2: return "L2";
    case runtime::cache::CacheLayer::loader: return "DB";
  }
  return "DB";
}

// Storage trouble becomes 503 (try again) when it is an outage, 500 when it is a bug.
template <typename F>
Response guarded(const Request& request, runtime::Logger* logger, F&& handle) {
  try {
    return handle();
  } catch (const db::DbError& e) {
    const bool outage = e.kind() == db::DbErrorKind::connection_lost || e.kind() == db::DbErrorKind::timeout;
    if (logger)
      logger->error("storage failure", {{"requestId", request.request_id}, {"kind", db::to_string(e.kind())},
                                        {"error", e.what()}});
    if (outage)
      return Response::error(503, "database_unavailable", "the database is unavailable, try again later",
                             request.request_id)
          .with_header("Retry-After", "1");
    return Response::error(500, "internal_error", "storage error", request.request_id);
  }
}

constexpr std::size_t index_of(ReserveOutcome::Result r) { return static_cast<std::size_t>(r); }

}  // namespace

ProductApi::ProductApi(ProductRepository& repository, runtime::cache::LayeredCache& cache,
                       const runtime::auth::TokenVerifier& verifier, ProductApiOptions options,
                       prometheus::Registry* registry, runtime::Logger* logger)
    : repository_(repository), cache_(cache), verifier_(verifier), options_(options), logger_(logger) {
  if (!registry) return;
  reservation_seconds_ = &prometheus::BuildHistogram()
                              .Name("inventory_reservation_time_seconds")
                              .Help("Time taken to reserve inventory (every reserve call, whatever its result)")
                              .Register(*registry)
                              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                               0.1, 0.25, 0.5, 1, 2.5, 5});
  auto& outcomes = prometheus::BuildCounter()
                       .Name("inventory_reservations_total")
                       .Help("Inventory reservation requests by result")
                       .Register(*registry);
  for (auto r : {ReserveOutcome::Result::reserved, ReserveOutcome::Result::replayed,
                 ReserveOutcome::Result::insufficient_stock, ReserveOutcome::Result::unknown_product})
    reservations_[index_of(r)] = &outcomes.Add({{"result", to_string(r)}});
}

std::optional<Response> ProductApi::read_denied(const Request& request) const {
  if (options_.public_read) return std::nullopt;
  Response denied;
  if (runtime::auth::authenticate(verifier_, request, denied)) return std::nullopt;
  return denied;
}

std::optional<Response> ProductApi::inventory_denied(const Request& request) const {
  Response denied;
  auto identity = runtime::auth::authenticate(verifier_, request, denied);
  if (!identity) return denied;
  if (identity->has_role(runtime::auth::kRoleService) || identity->has_role(runtime::auth::kRoleAdmin))
    return std::nullopt;
  return Response::error(403, "forbidden", "inventory endpoints need the service or admin role", request.request_id);
}

Response ProductApi::list_products(const Request& request) {
  if (auto denied = read_denied(request)) return std::move(*denied);
  auto parsed = parse_catalogue_query(request);
  if (auto* problem = std::get_if<QueryProblem>(&parsed))
    return Response::error(400, "bad_request", problem->message, request.request_id);
  return guarded(request, logger_, [&] {
    return Response::json(200, page_json(repository_.search(std::get<CatalogueQuery>(parsed))));
  });
}

Response ProductApi::get_product(const Request& request) {
  if (auto denied = read_denied(request)) return std::move(*denied);
  auto id = canonical_uuid(request.path_param("id"));
  if (!id) return Response::error(400, "bad_request", "product id must be a UUID", request.request_id);
  return guarded(request, logger_, [&] {
    auto found = cache_.lookup(*id, [&]() -> std::optional<std::string> {
      auto product = repository_.find(*id);
      if (!product) return std::nullopt;
      return product_json(*product);
    });
    if (!found.value)
      return Response::error(404, "not_found", "no product " + *id, request.request_id);
    return Response::json(200, std::move(*found.value)).with_header("X-Cache", x_cache(found.source));
  });
}

std::optional<Response> ProductApi::get_product_without_blocking(const Request& request) {
  if (auto denied = read_denied(request)) return denied;
  auto id = canonical_uuid(request.path_param("id"));
  if (!id) return Response::error(400, "bad_request", "product id must be a UUID", request.request_id);
  auto hit = cache_.peek_l1(*id);
  if (!hit) return std::nullopt;
  return Response::json(200, std::move(*hit)).with_header("X-Cache", x_cache(runtime::cache::CacheLayer::l1));
}

Response ProductApi::list_categories(const Request& request) {
  if (auto denied = read_denied(request)) return std::move(*denied);
  return guarded(request, logger_, [&] { return Response::json(200, categories_json(repository_.categories())); });
}

Response ProductApi::reserve(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  Response response = reserve_checked(request);
  if (reservation_seconds_)
    reservation_seconds_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

Response ProductApi::reserve_checked(const Request& request) {
  if (auto denied = inventory_denied(request)) return std::move(*denied);
  Response error;
  auto body = runtime::parse_json_object(request, error);
  if (!body) return error;
  auto parsed = parse_reserve_request(*body);
  if (auto* problem = std::get_if<BodyProblem>(&parsed))
    return Response::error(400, "bad_request", problem->message, request.request_id);
  const auto& order = std::get<ReserveRequest>(parsed);
  return guarded(request, logger_, [&] {
    ReserveOutcome out = repository_.reserve(order.order_id, order.items);
    count(out.result);
    switch (out.result) {
      case ReserveOutcome::Result::reserved:
        invalidate(out.products);
        return Response::json(200, std::move(out.answer));
      case ReserveOutcome::Result::replayed:
        return Response::json(200, std::move(out.answer));
      case ReserveOutcome::Result::insufficient_stock:
        return Response::error(409, "insufficient_stock", "insufficient stock for product " + out.product_id,
                               request.request_id);
      case ReserveOutcome::Result::unknown_product:
        break;
    }
    return Response::error(422, "unknown_product", "unknown or inactive product " + out.product_id,
                           request.request_id);
  });
}

Response ProductApi::release(const Request& request) {
  if (auto denied = inventory_denied(request)) return std::move(*denied);
  Response error;
  auto body = runtime::parse_json_object(request, error);
  if (!body) return error;
  auto parsed = parse_release_request(*body);
  if (auto* problem = std::get_if<BodyProblem>(&parsed))
    return Response::error(400, "bad_request", problem->message, request.request_id);
  const auto& order_id = std::get<std::string>(parsed);
  return guarded(request, logger_, [&] {
    ReleaseOutcome out = repository_.release(order_id);
    invalidate(out.products);
    return Response::json(200, nlohmann::json{{"orderId", order_id}, {"released", out.released}}.dump());
  });
}

void ProductApi::invalidate(const std::vector<std::string>& products) {
  for (const auto& id : products) {
    if (!cache_.invalidate(id) && logger_)
      logger_->warn("cache invalidation did not reach redis; L2 may serve the old stock until its TTL",
                    {{"productId", id}});
  }
}

void ProductApi::count(ReserveOutcome::Result result) {
  if (auto* c = reservations_[index_of(result)]) c->Increment();
}

}  // namespace mambogo::product
