// The cart as cart-service's API and stores see it, and the pure rules about it: quantities,
// product ids, the product answer from product-service, the JSON answer, the upstream URL.
// No I/O here.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/values.h"

namespace mambogo::cart {

inline constexpr int kMaxQuantity = 99;

struct CartLine {
  std::string product_id;
  std::string name;                   // snapshot taken when the line was last added or set
  std::int64_t unit_price_cents = 0;  // snapshot likewise
  int quantity = 0;
};

struct Cart {
  std::string user_id;
  std::vector<CartLine> lines;  // ordered by product_id
  std::string updated_at;       // ISO 8601 UTC; empty for a cart that does not exist
};

// What product-service says about a product (GET /api/products/{id}).
struct ProductInfo {
  std::string id;
  std::string name;
  std::int64_t price_cents = 0;
  bool active = true;
};

// UUIDs and timestamps as every service writes them (runtime/values.h).
using runtime::canonical_uuid;
using runtime::utc_now_iso;

// A quantity given as a JSON integer or a numeric string ("3", as Artillery templates send),
// within [min, max]; nullopt otherwise (floats, booleans, out of range, absent).
std::optional<int> parse_quantity(const nlohmann::json* value, int min, int max);

// A product-service Product body; nullopt when id, name or price is missing or malformed.
std::optional<ProductInfo> parse_product(const nlohmann::json& product);

// GET /api/cart's shape: {"userId", "items": [{"productId", "name", "quantity", "unitPrice",
// "lineTotal"}], "totalAmount", "updatedAt"} (updatedAt null for an empty, never-written cart).
nlohmann::json to_json(const Cart& cart);

// "http://host:port" (port defaults to 80) → host and port; nullopt when malformed or not http.
struct HostPort {
  std::string host;
  std::uint16_t port = 80;
};
std::optional<HostPort> parse_http_url(std::string_view url);


}  // namespace mambogo::cart
