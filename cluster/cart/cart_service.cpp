#include "cart/cart_service.h"

#include "runtime/json_body.h"

namespace mambogo::cart {

using runtime::Request;
using runtime::Response;
namespace auth = runtime::auth;
using std::chrono::milliseconds;

namespace {

Response bad_request(const std::string& message, const Request& r) {
  return Response::error(400, "bad_request", message, r.request_id);
}

Response cart_answer(const Cart& cart) { return Response::json(200, to_json(cart).dump()); }

}  // namespace

CartSettings read_cart_settings(runtime::Config& c) {
  CartSettings s;
  s.ttl = c.duration("CART_TTL", std::chrono::hours(24 * 7), milliseconds(1'000), std::chrono::hours(24 * 365),
                     "a cart untouched this long disappears (every read or write restarts it)");
  s.memory_max_carts = static_cast<std::size_t>(
      c.integer("CART_MEMORY_MAX_CARTS", 100'000, 1, 10'000'000, "carts the in-process store keeps at most (LRU beyond)"));
  s.limits.max_items = static_cast<int>(c.integer("CART_MAX_ITEMS", 100, 1, 10'000, "different products per cart"));
  const std::string url = c.string("PRODUCT_SERVICE_URL", "http://127.0.0.1:8081", "product-service base URL (http://host:port)");
  if (auto address = parse_http_url(url))
    s.product.address = *address;
  else
    c.report_invalid("PRODUCT_SERVICE_URL", url, "http://host:port");
  s.product.timeout = c.duration("PRODUCT_SERVICE_TIMEOUT", milliseconds(2'000), milliseconds(10), milliseconds(60'000),
                                 "time limit of one product-service call");
  s.product.cache_ttl = c.duration("PRODUCT_CACHE_TTL", milliseconds(60'000), milliseconds(1), std::chrono::hours(24),
                                   "how long a validated product (price, name) is reused");
  s.redis = runtime::redis::read_redis_settings(c);
  s.keys = auth::read_key_set(c);
  return s;
}

CartService::CartService(runtime::Service& service, const CartSettings& settings)
    : limits_(settings.limits),
      verifier_(settings.keys),
      issuer_(settings.keys),
      redis_(settings.redis, &service.metrics(), &service.health()),
      redis_store_(redis_.pool() ? std::make_unique<RedisCartStore>(*redis_.pool(), settings.ttl) : nullptr),
      memory_store_(settings.memory_max_carts, settings.ttl, runtime::system_clock(), &service.metrics().registry()),
      store_(redis_store_.get(), redis_.pool(), memory_store_, &service.metrics().registry()),
      http_(runtime::ClientOptions{}, &service.metrics()),
      products_(http_, settings.product, issuer_, runtime::system_clock(), &service.metrics().registry()) {
  auto blocking = runtime::Dispatch::blocking;
  auto bind = [this](Response (CartService::*handler)(const Request&)) {
    return [this, handler](const Request& r) { return (this->*handler)(r); };
  };
  service.router()
      .add(runtime::Method::get, "/api/cart", bind(&CartService::get_cart), blocking)
      .add(runtime::Method::delete_, "/api/cart", bind(&CartService::clear_cart), blocking)
      .add(runtime::Method::post, "/api/cart/items", bind(&CartService::add_item), blocking)
      .add(runtime::Method::put, "/api/cart/items/{productId}", bind(&CartService::set_item), blocking)
      .add(runtime::Method::delete_, "/api/cart/items/{productId}", bind(&CartService::remove_item), blocking);
  service.health().add_check("cart-store", [this] { return store_.health(); }, false);
  service.set_admin_guard(auth::admin_guard(verifier_));
}

CartService::~CartService() = default;

std::optional<CartLine> CartService::validated_line(const std::string& product_id, int quantity, const Request& r,
                                                    Response& refused) {
  ProductLookup found = products_.lookup(product_id);
  switch (found.status) {
    case ProductLookup::Status::not_found:
      refused = Response::error(422, "unknown_product", "no product " + product_id, r.request_id);
      return std::nullopt;
    case ProductLookup::Status::unavailable:
      refused = Response::error(503, "product_unavailable",
                                "cannot validate the product now: " + found.detail + "; retry later", r.request_id)
                    .with_header("Retry-After", "1");
      return std::nullopt;
    case ProductLookup::Status::found:
      break;
  }
  if (!found.product.active) {
    refused = Response::error(422, "product_inactive", "product " + product_id + " is not for sale", r.request_id);
    return std::nullopt;
  }
  return CartLine{product_id, found.product.name, found.product.price_cents, quantity};
}

Response CartService::change(const std::string& user_id, const CartLine& line, LineChange how, const Request& r) {
  try {
    return cart_answer(store_.change_line(user_id, line, how, limits_, utc_now_iso()));
  } catch (const CartLimitError& e) {
    if (e.kind() == CartLimitError::Kind::items) return Response::error(422, "cart_full", e.what(), r.request_id);
    return bad_request(e.what(), r);
  }
}

Response CartService::get_cart(const Request& r) {
  Response denied;
  auto caller = auth::require_role(verifier_, r, auth::kRoleUser, denied);
  if (!caller) return denied;
  return cart_answer(store_.get(caller->subject));
}

Response CartService::add_item(const Request& r) {
  Response denied;
  auto caller = auth::require_role(verifier_, r, auth::kRoleUser, denied);
  if (!caller) return denied;
  auto body = runtime::parse_json_object(r, denied);
  if (!body) return denied;
  auto product_field = body->find("productId");
  auto product_id = product_field != body->end() && product_field->is_string()
                        ? canonical_uuid(product_field->get<std::string>())
                        : std::nullopt;
  if (!product_id) return bad_request("productId must be a UUID", r);
  auto quantity_field = body->find("quantity");
  auto quantity = parse_quantity(quantity_field == body->end() ? nullptr : &*quantity_field, 1, limits_.max_quantity);
  if (!quantity) return bad_request("quantity must be an integer from 1 to " + std::to_string(limits_.max_quantity), r);
  auto line = validated_line(*product_id, *quantity, r, denied);
  if (!line) return denied;
  return change(caller->subject, *line, LineChange::add, r);
}

Response CartService::set_item(const Request& r) {
  Response denied;
  auto caller = auth::require_role(verifier_, r, auth::kRoleUser, denied);
  if (!caller) return denied;
  auto product_id = canonical_uuid(r.path_param("productId"));
  if (!product_id) return bad_request("productId must be a UUID", r);
  auto body = runtime::parse_json_object(r, denied);
  if (!body) return denied;
  auto quantity_field = body->find("quantity");
  auto quantity = parse_quantity(quantity_field == body->end() ? nullptr : &*quantity_field, 0, limits_.max_quantity);
  if (!quantity) return bad_request("quantity must be an integer from 0 to " + std::to_string(limits_.max_quantity), r);
  if (*quantity == 0) return cart_answer(store_.remove_line(caller->subject, *product_id, utc_now_iso()));
  auto line = validated_line(*product_id, *quantity, r, denied);
  if (!line) return denied;
  return change(caller->subject, *line, LineChange::set, r);
}

Response CartService::remove_item(const Request& r) {
  Response denied;
  auto caller = auth::require_role(verifier_, r, auth::kRoleUser, denied);
  if (!caller) return denied;
  auto product_id = canonical_uuid(r.path_param("productId"));
  if (!product_id) return bad_request("productId must be a UUID", r);
  return cart_answer(store_.remove_line(caller->subject, *product_id, utc_now_iso()));
}

Response CartService::clear_cart(const Request& r) {
  Response denied;
  auto caller = auth::require_role(verifier_, r, auth::kRoleUser, denied);
  if (!caller) return denied;
  store_.clear(caller->subject);
  Response done;
  done.status = 204;
  done.content_type.clear();
  return done;
}

}  // namespace mambogo::cart
