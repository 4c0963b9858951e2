// What an upstream's answer means for an order, as pure functions (the processing pipeline's
// decisions, testable without sockets):
//   reserve (product-service POST /api/inventory/reserve):
//     200 with prices          -> reserved (items priced, total known)
//     409 insufficient_stock,
//     422 unknown_product,
//     other 4xx but 401/403/408/429 -> rejected with that reason (the order FAILS)
//     anything else (no answer, 5xx, 401/403/408/429, an unreadable 200) -> unavailable (retry later)
//   charge (payment-service POST /api/payments):
//     200/201 CAPTURED         -> charged
//     402 payment_declined,
//     other 4xx but 401/403/408/429 -> rejected (FAILS)
//     anything else            -> unavailable (PENDING_PAYMENT, retried later)
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "order/order.h"

namespace mambogo::order {

// One logical upstream call after resilience (retries, breaker, time limiter): the final HTTP
// answer, or none (failure says why: "circuit_open", "timeout", "connect_failed", ...).
struct UpstreamAnswer {
  std::optional<int> status;
  std::string body;
  std::string failure;
};

struct ReserveOutcome {
  enum class Kind { reserved, rejected, unavailable } kind = Kind::unavailable;
  std::string reason;               // rejected: a failure reason (order.h); else a log hint
  std::vector<OrderItem> priced;    // reserved: the order's items with unit prices
  std::int64_t total_cents = 0;     // reserved
};
ReserveOutcome classify_reserve(const UpstreamAnswer& answer, const std::vector<OrderItem>& ordered);

struct ChargeOutcome {
  enum class Kind { charged, rejected, unavailable } kind = Kind::unavailable;
  std::string reason;      // rejected: a failure reason; else a log hint
  std::string payment_id;  // charged
};
ChargeOutcome classify_charge(const UpstreamAnswer& answer);

// The JSON bodies order-service sends (cluster/README.md).
std::string reserve_body(const Order& order);
std::string release_body(const std::string& order_id);
std::string charge_body(const Order& order);

}  // namespace mambogo::order
