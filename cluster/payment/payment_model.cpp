#include "payment/payment_model.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

namespace mambogo::payment {
namespace {

constexpr std::int64_t kMaxAmountCents = 1'000'000'000;  // 10 000 000.00

bool all_of(std::string_view s, int (*pred)(int)) {
  for (unsigned char c : s)
    if (!pred(c)) return false;
  return true;
}

// Text as order-service accepts it: no control characters, not blank, at most `max` bytes.
bool plain_text(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || s.find_first_not_of(" \t") == std::string_view::npos) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

std::string_view to_string(PaymentStatus status) {
  switch (status) {
    case PaymentStatus::pending: return "PENDING";
    case PaymentStatus::captured: return "CAPTURED";
    case PaymentStatus::declined: return "DECLINED";
  }
  return "PENDING";
}

std::optional<PaymentStatus> parse_payment_status(std::string_view text) {
  if (text == "PENDING") return PaymentStatus::pending;
  if (text == "CAPTURED") return PaymentStatus::captured;
  if (text == "DECLINED") return PaymentStatus::declined;
  return std::nullopt;
}

std::optional<std::int64_t> amount_to_cents(const nlohmann::json& amount) {
  if (!amount.is_number()) return std::nullopt;
  const double value = amount.get<double>();
  if (!std::isfinite(value) || value <= 0) return std::nullopt;
  const double scaled = value * 100.0;
  const double rounded = std::round(scaled);
  if (std::fabs(scaled - rounded) > 1e-6 * std::max(1.0, rounded)) return std::nullopt;
  if (rounded > static_cast<double>(kMaxAmountCents)) return std::nullopt;
  return static_cast<std::int64_t>(rounded);
}

double cents_to_amount(std::int64_t cents) { return static_cast<double>(cents) / 100.0; }

std::variant<PaymentRequest, RequestError> parse_payment_request(const nlohmann::json& body) {
  PaymentRequest r;
  auto order_id = string_field(body, "orderId");
  auto canonical = order_id ? canonical_uuid(*order_id) : std::nullopt;
  if (!canonical) return RequestError{"orderId", "orderId must be a UUID"};
  r.order_id = *canonical;

  auto user_id = string_field(body, "userId");
  if (!user_id || !plain_text(*user_id, 128))
    return RequestError{"userId", "userId must be a string of 1..128 printable characters"};
  r.user_id = *user_id;

  auto amount = body.find("amount");
  auto cents = amount == body.end() ? std::nullopt : amount_to_cents(*amount);
  if (!cents)
    return RequestError{"amount", "amount must be a number > 0 and <= 10000000 with at most two decimals"};
  r.amount_cents = *cents;

  if (body.contains("currency")) {
    auto currency = string_field(body, "currency");
    if (!currency || currency->size() != 3 || !all_of(*currency, [](int c) { return std::isupper(c); }))
      return RequestError{"currency", "currency must be a three-letter ISO 4217 code such as USD"};
    r.currency = *currency;
  }

  auto method = string_field(body, "paymentMethod");
  if (!method || !plain_text(*method, 64))
    return RequestError{"paymentMethod", "paymentMethod must be a string of 1..64 printable characters"};
  r.payment_method = *method;
  return r;
}

std::string mismatched_fields(const PaymentRecord& existing, const PaymentRequest& request) {
  std::string out;
  auto note = [&out](bool differs, const char* field) {
    if (!differs) return;
    if (!out.empty()) out += ", ";
    out += field;
  };
  note(existing.amount_cents != request.amount_cents, "amount");
  note(existing.user_id != request.user_id, "userId");
  note(existing.currency != request.currency, "currency");
  return out;
}

nlohmann::json to_json(const PaymentRecord& p) {
  auto optional_text = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  return {{"paymentId", p.id},
          {"orderId", p.order_id},
          {"userId", p.user_id},
          {"status", to_string(p.status)},
          {"amount", cents_to_amount(p.amount_cents)},
          {"currency", p.currency},
          {"paymentMethod", p.payment_method},
          {"attempts", p.attempts},
          {"providerReference", optional_text(p.provider_reference)},
          {"failureReason", optional_text(p.failure_reason)},
          {"createdAt", p.created_at},
          {"updatedAt", p.updated_at}};
}

}  // namespace mambogo::payment
