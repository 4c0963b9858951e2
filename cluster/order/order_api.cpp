#include "order/order_api.h"

#include <charconv>
#include <memory>

#include "runtime/db/db_error.h"
#include "runtime/json_body.h"

namespace mambogo::order {
namespace {

using runtime::Request;
using runtime::Response;

Response store_unavailable(const std::string& request_id, std::string_view message) {
  return Response::error(503, "storage_unavailable", message, request_id).with_header("Retry-After", "1");
}

Response insert_response(InsertResult r, const std::string& request_id) {
  switch (r.kind) {
    case InsertResult::Kind::created:
    case InsertResult::Kind::replayed:
      return Response::json(r.kind == InsertResult::Kind::created ? 201 : 200, order_created_json(r.order).dump())
          .with_header("Location", "/api/orders/" + r.order.id);
    case InsertResult::Kind::key_reused:
      return Response::error(422, "idempotency_key_reused",
                             "X-Idempotency-Key was already used for a different order", request_id);
    case InsertResult::Kind::overloaded:
      return Response::error(503, "overloaded", r.message, request_id).with_header("Retry-After", "1");
    case InsertResult::Kind::unavailable:
      break;
  }
  return store_unavailable(request_id, r.message);
}

// An integer query parameter in [min, max]; nullopt sets `error` naming it.
std::optional<std::int64_t> int_param(const Request& r, const char* name, std::int64_t fallback, std::int64_t min,
                                      std::int64_t max, Response& error) {
  const auto text = r.query_param(name);
  if (!text) return fallback;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (text->empty() || ec != std::errc{} || ptr != text->data() + text->size() || v < min || v > max) {
    error = Response::error(400, "bad_request",
                            std::string(name) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max),
                            r.request_id);
    return std::nullopt;
  }
  return v;
}

}  // namespace

OrderApi::OrderApi(OrderRepository& repository, BatchWriter& writer, const runtime::auth::TokenVerifier& verifier,
                   WallClock now, std::chrono::milliseconds expiry)
    : repository_(repository), writer_(writer), verifier_(verifier), now_(std::move(now)), expiry_(expiry) {}

void OrderApi::install(runtime::Router& router) {
  router.add_async(runtime::Method::post, "/api/orders",
                   [this](const Request& r, runtime::Responder responder) { create(r, std::move(responder)); });
  router.add(runtime::Method::get, "/api/orders/{id}", [this](const Request& r) { return get(r); },
             runtime::Dispatch::blocking);
  router.add(runtime::Method::get, "/api/orders", [this](const Request& r) { return list(r); },
             runtime::Dispatch::blocking);
}

void OrderApi::create(const Request& r, runtime::Responder responder) {
  Response error;
  const auto who = runtime::auth::require_role(verifier_, r, runtime::auth::kRoleUser, error);
  if (!who) return responder.send(std::move(error));
  const auto key = r.header("X-Idempotency-Key");
  if (!key)
    return responder.send(Response::error(400, "missing_idempotency_key", "the X-Idempotency-Key header is required", r.request_id));
  if (!valid_idempotency_key(*key))
    return responder.send(Response::error(400, "invalid_idempotency_key",
                                          "X-Idempotency-Key must be 1 to 128 printable ASCII characters", r.request_id));
  const auto body = runtime::parse_json_object(r, error);
  if (!body) return responder.send(std::move(error));
  std::string problem;
  auto request = parse_order_request(*body, problem);
  if (!request) return responder.send(Response::error(400, "bad_request", problem, r.request_id));
  Order order = make_order(new_order_id(), who->subject, std::string(*key), std::move(*request), now_(), expiry_.count());
  auto shared = std::make_shared<runtime::Responder>(std::move(responder));
  writer_.submit(std::move(order), [shared, request_id = r.request_id](InsertResult result) {
    shared->send(insert_response(std::move(result), request_id));
  });
}

Response OrderApi::get(const Request& r) {
  Response error;
  const auto who = runtime::auth::require_role(verifier_, r, runtime::auth::kRoleUser, error);
  if (!who) return error;
  const auto id = r.path_param("id");
  if (!is_uuid(id)) return Response::error(400, "bad_request", "the order id must be a UUID", r.request_id);
  try {
    const auto order = repository_.find_for_user(lower_uuid(id), who->subject);
    if (!order) return Response::error(404, "not_found", "no such order", r.request_id);
    return Response::json(200, order_json(*order).dump());
  } catch (const db::DbError&) {
    return store_unavailable(r.request_id, "the order store is unavailable");
  }
}

Response OrderApi::list(const Request& r) {
  Response error;
  const auto who = runtime::auth::require_role(verifier_, r, runtime::auth::kRoleUser, error);
  if (!who) return error;
  std::optional<OrderStatus> status;
  if (const auto text = r.query_param("status"); text && !text->empty()) {
    status = parse_status(*text);
    if (!status)
      return Response::error(400, "bad_request",
                             "status must be one of PENDING, INVENTORY_RESERVED, PENDING_PAYMENT, CONFIRMED, FAILED, EXPIRED",
                             r.request_id);
  }
  const auto page = int_param(r, "page", 0, 0, 1'000'000, error);
  if (!page) return error;
  const auto size = int_param(r, "size", 20, 1, 100, error);
  if (!size) return error;
  try {
    const auto result = repository_.list_for_user(who->subject, status, *page, *size);
    nlohmann::json content = nlohmann::json::array();
    for (const auto& o : result.content) content.push_back(order_json(o));
    const nlohmann::json body = {{"content", std::move(content)},
                                 {"page", *page},
                                 {"size", *size},
                                 {"totalElements", result.total},
                                 {"totalPages", (result.total + *size - 1) / *size}};
    return Response::json(200, body.dump());
  } catch (const db::DbError&) {
    return store_unavailable(r.request_id, "the order store is unavailable");
  }
}

}  // namespace mambogo::order
