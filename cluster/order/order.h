// The order domain of order-service as plain values and pure functions, testable without a
// database or a socket:
//   - OrderStatus and the state machine: which transitions exist, which states are terminal;
//   - the POST /api/orders body: validation (quantity as a number or a numeric string, as
//     Artillery's templates send it), the canonical request hash behind idempotency;
//   - the contract's JSON shapes (cluster/README.md, order-service), money as cents, times as
//     milliseconds since the Unix epoch rendered in ISO 8601 UTC.
//
// Thread-safety: value types and pure functions (new_order_id() draws from OpenSSL's CSPRNG,
// which is thread-safe). Errors: parse/validation failures are returned, never thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/values.h"

namespace mambogo::order {

//   PENDING ──reserve──► INVENTORY_RESERVED ──charge──► CONFIRMED
//      │ \                   │        │
//      │  expire ► EXPIRED   │        └─unavailable─► PENDING_PAYMENT ──charge──► CONFIRMED
//      └─business failure────┴─declined──────────────────────┴────────► FAILED
// A PENDING order whose reservation is unavailable stays PENDING and is retried later; a
// PENDING_PAYMENT one likewise stays PENDING_PAYMENT. CONFIRMED, FAILED and EXPIRED are terminal.
enum class OrderStatus { pending, inventory_reserved, pending_payment, confirmed, failed, expired };
inline constexpr int kOrderStatusCount = 6;

std::string_view to_string(OrderStatus s);  // "PENDING", ..., as stored and sent
std::optional<OrderStatus> parse_status(std::string_view text);
bool is_terminal(OrderStatus s);
// True when the state machine above has an edge from -> to (a state to itself is allowed for
// the two waiting states only: PENDING and PENDING_PAYMENT are rescheduled in place).
bool can_transition(OrderStatus from, OrderStatus to);

// Failure reasons (failureReason, and the bounded `reason` label of orders_failed_total).
namespace reason {
inline constexpr std::string_view kInsufficientStock = "insufficient_stock";
inline constexpr std::string_view kUnknownProduct = "unknown_product";
inline constexpr std::string_view kInventoryRejected = "inventory_rejected";  // other 4xx
inline constexpr std::string_view kPaymentDeclined = "payment_declined";
inline constexpr std::string_view kPaymentRejected = "payment_rejected";      // other 4xx
inline constexpr std::string_view kExpired = "expired";
}  // namespace reason

struct OrderItem {
  std::string product_id;                     // canonical lower-case UUID
  std::int64_t quantity = 0;                  // 1..kMaxQuantity
  std::optional<std::int64_t> unit_price_cents;  // known once the reservation priced it
  friend bool operator==(const OrderItem&, const OrderItem&) = default;
};

inline constexpr std::int64_t kMaxQuantity = 999;
inline constexpr std::size_t kMaxItems = 100;
inline constexpr std::size_t kMaxShippingAddress = 500;
inline constexpr std::size_t kMaxPaymentMethod = 64;
inline constexpr std::size_t kMaxIdempotencyKey = 128;

// A validated POST /api/orders body.
struct OrderRequest {
  std::vector<OrderItem> items;
  std::string shipping_address;
  std::string payment_method;
};

// Validates the body; on failure returns nullopt and sets `problem` to a sentence naming the
// field ("items[1].quantity must be an integer from 1 to 999"). Unknown fields are ignored.
std::optional<OrderRequest> parse_order_request(const nlohmann::json& body, std::string& problem);

// 1..128 characters, printable ASCII without spaces at either end.
bool valid_idempotency_key(std::string_view key);

// SHA-256 (hex) of the request's canonical form: the same order asked twice hashes the same
// whatever the JSON spelling (quantity 2 or "2", key order, whitespace); any difference in
// items, their order, quantities, address or payment method changes it.
std::string request_hash(const OrderRequest& request);

using runtime::is_uuid;                        // runtime/values.h: 8-4-4-4-12 hex digits
inline std::string lower_uuid(std::string_view text) {  // precondition: is_uuid(text)
  return runtime::canonical_uuid(text).value_or(std::string(text));
}
std::string new_order_id();                   // random (version 4) UUID, lower-case

struct Order {
  std::string id;
  std::string user_id;
  std::string idempotency_key;
  std::string request_hash;
  OrderStatus status = OrderStatus::pending;
  std::vector<OrderItem> items;
  std::optional<std::int64_t> total_cents;
  std::string currency = "USD";
  std::string shipping_address;
  std::string payment_method;
  std::string payment_id;      // empty until charged
  std::string failure_reason;  // empty unless FAILED / EXPIRED
  int attempts = 0;            // processing passes claimed so far
  std::optional<std::int64_t> next_attempt_at_ms;  // nullopt: nothing left to do
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t expires_at_ms = 0;
  std::int64_t version = 0;
};

// A new PENDING order for `request`, due for processing at once.
Order make_order(std::string id, std::string user_id, std::string idempotency_key,
                 OrderRequest request, std::int64_t now_ms, std::int64_t expiry_ms);

// "2026-11-26T20:54:28.123Z".
std::string format_timestamp(std::int64_t epoch_ms);
// Cents as a JSON number with two decimals' worth of precision (1999 -> 19.99).
nlohmann::json money(std::int64_t cents);
// A JSON money amount (number, or numeric string) to cents; nullopt when not money.
std::optional<std::int64_t> parse_money(const nlohmann::json& value);

// Items as stored: [{"productId", "quantity", "unitPrice"(cents)}]; and back. parse_items
// returns nullopt for text that is not such an array.
std::string items_to_storage(const std::vector<OrderItem>& items);
std::optional<std::vector<OrderItem>> items_from_storage(std::string_view text);

// GET /api/orders/{id}: the contract's full shape.
nlohmann::json order_json(const Order& order);
// POST /api/orders: {"orderId", "status", "createdAt", "expiresAt"}.
nlohmann::json order_created_json(const Order& order);

}  // namespace mambogo::order
