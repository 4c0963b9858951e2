#include "order/outcomes.h"

#include <map>

namespace mambogo::order {
namespace {

// Statuses that say "not now" rather than "never": auth misconfiguration, timeouts, throttling.
bool transient_client_error(int status) {
  return status == 401 || status == 403 || status == 408 || status == 429;
}

bool business_rejection(int status) { return status >= 400 && status < 500 && !transient_client_error(status); }

std::string error_code(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return {};
}

std::string unavailable_hint(const UpstreamAnswer& a) {
  return a.status ? "http_" + std::to_string(*a.status) : a.failure;
}

// Prices from the reservation answer onto the order's own items; false when the answer does
// not price every ordered item.
bool apply_prices(const nlohmann::json& answer, std::vector<OrderItem>& items, std::int64_t& total) {
  std::map<std::string, std::int64_t> prices;
  if (answer.contains("items") && answer["items"].is_array())
    for (const auto& i : answer["items"]) {
      if (!i.is_object() || !i.contains("productId") || !i["productId"].is_string() || !i.contains("unitPrice")) continue;
      if (auto cents = parse_money(i["unitPrice"])) prices[lower_uuid(i["productId"].get<std::string>())] = *cents;
    }
  std::int64_t sum = 0;
  for (auto& item : items) {
    auto it = prices.find(item.product_id);
    if (it == prices.end()) return false;
    item.unit_price_cents = it->second;
    sum += it->second * item.quantity;
  }
  std::optional<std::int64_t> stated;
  if (answer.contains("totalAmount")) stated = parse_money(answer["totalAmount"]);
  total = stated.value_or(sum);
  return true;
}

}  // namespace

ReserveOutcome classify_reserve(const UpstreamAnswer& a, const std::vector<OrderItem>& ordered) {
  ReserveOutcome out;
  if (!a.status || !business_rejection(*a.status)) {
    if (a.status && *a.status >= 200 && *a.status < 300) {
      const auto j = nlohmann::json::parse(a.body, nullptr, false);
      out.priced = ordered;
      if (j.is_object() && apply_prices(j, out.priced, out.total_cents)) {
        out.kind = ReserveOutcome::Kind::reserved;
        return out;
      }
      out.priced.clear();
      out.reason = "unreadable_reservation";
      return out;
    }
    out.reason = unavailable_hint(a);
    return out;
  }
  out.kind = ReserveOutcome::Kind::rejected;
  const std::string code = error_code(a.body);
  if (*a.status == 409) out.reason = reason::kInsufficientStock;
  else if (*a.status == 422 && code == reason::kUnknownProduct) out.reason = reason::kUnknownProduct;
  else out.reason = reason::kInventoryRejected;
  return out;
}

ChargeOutcome classify_charge(const UpstreamAnswer& a) {
  ChargeOutcome out;
  if (a.status && business_rejection(*a.status)) {
    out.kind = ChargeOutcome::Kind::rejected;
    out.reason = *a.status == 402 ? reason::kPaymentDeclined : reason::kPaymentRejected;
    return out;
  }
  if (a.status && (*a.status == 200 || *a.status == 201)) {
    const auto j = nlohmann::json::parse(a.body, nullptr, false);
    if (j.is_object() && j.value("status", "") == "CAPTURED") {
      out.kind = ChargeOutcome::Kind::charged;
      if (j.contains("paymentId") && j["paymentId"].is_string()) out.payment_id = j["paymentId"].get<std::string>();
      return out;
    }
    out.reason = "unreadable_payment";
    return out;
  }
  out.reason = unavailable_hint(a);
  return out;
}

std::string reserve_body(const Order& order) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : order.items) items.push_back({{"productId", i.product_id}, {"quantity", i.quantity}});
  return nlohmann::json{{"orderId", order.id}, {"items", std::move(items)}}.dump();
}

std::string release_body(const std::string& order_id) { return nlohmann::json{{"orderId", order_id}}.dump(); }

std::string charge_body(const Order& order) {
  return nlohmann::json{{"orderId", order.id},
                        {"userId", order.user_id},
                        {"amount", money(order.total_cents.value_or(0))},
                        {"currency", order.currency},
                        {"paymentMethod", order.payment_method}}
      .dump();
}

}  // namespace mambogo::order
