// The payment as payment-service's API and storage see it, and the pure rules about it:
// reading a POST /api/payments body (every way it can be wrong is a 400 naming the field),
// money as integer cents, canonical UUIDs, the JSON answer. No I/O here.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "runtime/values.h"

namespace mambogo::payment {

enum class PaymentStatus { pending, captured, declined };
std::string_view to_string(PaymentStatus status);  // "PENDING" | "CAPTURED" | "DECLINED"
// nullopt for anything else.
std::optional<PaymentStatus> parse_payment_status(std::string_view text);

// POST /api/payments, validated.
struct PaymentRequest {
  std::string order_id;  // canonical lower-case UUID
  std::string user_id;   // 1..128 bytes, no control characters, not blank
  std::int64_t amount_cents = 0;
  std::string currency = "USD";  // three upper-case letters
  std::string payment_method;    // 1..64 bytes, no control characters, not blank
};

struct PaymentRecord {
  std::string id;
  std::string order_id;
  std::string user_id;
  std::int64_t amount_cents = 0;
  std::string currency;
  std::string payment_method;
  PaymentStatus status = PaymentStatus::pending;
  std::string provider_reference;  // empty while none
  int attempts = 0;
  std::string failure_reason;      // empty while none
  std::string created_at;          // ISO 8601 UTC
  std::string updated_at;
};

struct RequestError {
  std::string field;    // the offending field ("amount"), for the message
  std::string message;  // for humans: what is accepted
};

// Validates the body of POST /api/payments. `currency` defaults to "USD" when absent.
std::variant<PaymentRequest, RequestError> parse_payment_request(const nlohmann::json& body);

// UUIDs and timestamps as every service writes them (runtime/values.h).
using runtime::canonical_uuid;
using runtime::new_uuid;
using runtime::utc_now_iso;

// A JSON number with at most two decimals, > 0 and <= 10 000 000.00, as cents; nullopt else.
std::optional<std::int64_t> amount_to_cents(const nlohmann::json& amount);
double cents_to_amount(std::int64_t cents);


// Which fields of an existing payment differ from a request for the same order ("amount",
// "userId", "currency"), comma-separated; empty when they match. paymentMethod may differ
// (the caller may retry with another card only after a decline, which is terminal anyway).
std::string mismatched_fields(const PaymentRecord& existing, const PaymentRequest& request);

// The API's JSON for a payment: paymentId, orderId, userId, status, amount, currency,
// paymentMethod, attempts, providerReference, failureReason (null when none), createdAt,
// updatedAt.
nlohmann::json to_json(const PaymentRecord& payment);

}  // namespace mambogo::payment
