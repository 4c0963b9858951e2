#include "order/order.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <set>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace mambogo::order {
namespace {

constexpr std::array<std::string_view, kOrderStatusCount> kStatusNames = {
    "PENDING", "INVENTORY_RESERVED", "PENDING_PAYMENT", "CONFIRMED", "FAILED", "EXPIRED"};

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 0xf]);
  }
  return out;
}

// A whole number from a JSON number or a numeric string ("3", as Artillery sends it).
std::optional<std::int64_t> integer_value(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  if (!v.is_string()) return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  std::int64_t n = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, n);
  if (s.empty() || ec != std::errc{} || ptr != last) return std::nullopt;
  return n;
}

bool printable_text(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<std::string> text_field(const nlohmann::json& body, const char* name, std::size_t max,
                                      std::string& problem) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    problem = std::string(name) + " is required and must be a string";
    return std::nullopt;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.find_first_not_of(" \t") == std::string::npos || s.size() > max || !printable_text(s)) {
    problem = std::string(name) + " must be 1 to " + std::to_string(max) + " printable characters";
    return std::nullopt;
  }
  return s;
}

std::optional<OrderItem> parse_item(const nlohmann::json& item, std::size_t index, std::string& problem) {
  const std::string where = "items[" + std::to_string(index) + "]";
  if (!item.is_object()) {
    problem = where + " must be an object";
    return std::nullopt;
  }
  auto pid = item.find("productId");
  if (pid == item.end() || !pid->is_string() || !is_uuid(pid->get_ref<const std::string&>())) {
    problem = where + ".productId must be a UUID";
    return std::nullopt;
  }
  auto qty = item.find("quantity");
  std::optional<std::int64_t> q = qty == item.end() ? std::nullopt : integer_value(*qty);
  if (!q || *q < 1 || *q > kMaxQuantity) {
    problem = where + ".quantity must be an integer from 1 to " + std::to_string(kMaxQuantity);
    return std::nullopt;
  }
  return OrderItem{lower_uuid(pid->get_ref<const std::string&>()), *q, std::nullopt};
}

}  // namespace

std::string_view to_string(OrderStatus s) { return kStatusNames.at(static_cast<std::size_t>(s)); }

std::optional<OrderStatus> parse_status(std::string_view text) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == text) return static_cast<OrderStatus>(i);
  return std::nullopt;
}

bool is_terminal(OrderStatus s) {
  return s == OrderStatus::confirmed || s == OrderStatus::failed || s == OrderStatus::expired;
}

bool can_transition(OrderStatus from, OrderStatus to) {
  using S = OrderStatus;
  switch (from) {
    case S::pending:
      return to == S::pending || to == S::inventory_reserved || to == S::failed || to == S::expired;
    case S::inventory_reserved:
      return to == S::confirmed || to == S::pending_payment || to == S::failed;
    case S::pending_payment:
      return to == S::pending_payment || to == S::confirmed || to == S::failed;
    case S::confirmed:
    case S::failed:
    case S::expired:
      return false;
  }
  return false;
}

std::optional<OrderRequest> parse_order_request(const nlohmann::json& body, std::string& problem) {
  if (!body.is_object()) {
    problem = "the body must be a JSON object";
    return std::nullopt;
  }
  auto items = body.find("items");
  if (items == body.end() || !items->is_array() || items->empty() || items->size() > kMaxItems) {
    problem = "items must be an array of 1 to " + std::to_string(kMaxItems) + " items";
    return std::nullopt;
  }
  OrderRequest request;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = parse_item((*items)[i], i, problem);
    if (!item) return std::nullopt;
    if (!seen.insert(item->product_id).second) {
      problem = "items[" + std::to_string(i) + "].productId repeats an earlier item; give each product once";
      return std::nullopt;
    }
    request.items.push_back(std::move(*item));
  }
  auto address = text_field(body, "shippingAddress", kMaxShippingAddress, problem);
  if (!address) return std::nullopt;
  auto method = text_field(body, "paymentMethod", kMaxPaymentMethod, problem);
  if (!method) return std::nullopt;
  request.shipping_address = std::move(*address);
  request.payment_method = std::move(*method);
  return request;
}

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKey) return false;
  if (key.front() == ' ' || key.back() == ' ') return false;
  for (unsigned char c : key)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string request_hash(const OrderRequest& request) {
  nlohmann::json canonical = nlohmann::json::object();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : request.items) items.push_back({{"productId", i.product_id}, {"quantity", i.quantity}});
  canonical["items"] = std::move(items);
  canonical["paymentMethod"] = request.payment_method;
  canonical["shippingAddress"] = request.shipping_address;
  const std::string text = canonical.dump();  // object keys are sorted: a canonical spelling
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  return hex(digest, length);
}

std::string new_order_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Order make_order(std::string id, std::string user_id, std::string idempotency_key, OrderRequest request,
                 std::int64_t now_ms, std::int64_t expiry_ms) {
  Order o;
  o.request_hash = order::request_hash(request);
  o.id = std::move(id);
  o.user_id = std::move(user_id);
  o.idempotency_key = std::move(idempotency_key);
  o.items = std::move(request.items);
  o.shipping_address = std::move(request.shipping_address);
  o.payment_method = std::move(request.payment_method);
  o.next_attempt_at_ms = now_ms;
  o.created_at_ms = o.updated_at_ms = now_ms;
  o.expires_at_ms = now_ms + expiry_ms;
  return o;
}

std::string format_timestamp(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(epoch_ms % 1000));
  return std::string(buf, n) + millis;
}

nlohmann::json money(std::int64_t cents) { return static_cast<double>(cents) / 100.0; }

std::optional<std::int64_t> parse_money(const nlohmann::json& value) {
  double d = 0;
  if (value.is_number()) {
    d = value.get<double>();
  } else if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(d) || d < 0 || d > 1e13) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(d * 100.0));
}

std::string items_to_storage(const std::vector<OrderItem>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : items) {
    nlohmann::json j = {{"productId", i.product_id}, {"quantity", i.quantity}};
    if (i.unit_price_cents) j["unitPrice"] = *i.unit_price_cents;
    out.push_back(std::move(j));
  }
  return out.dump();
}

std::optional<std::vector<OrderItem>> items_from_storage(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<OrderItem> items;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("productId") || !e["productId"].is_string() ||
        !e.contains("quantity") || !e["quantity"].is_number_integer())
      return std::nullopt;
    OrderItem item{e["productId"].get<std::string>(), e["quantity"].get<std::int64_t>(), std::nullopt};
    if (e.contains("unitPrice") && e["unitPrice"].is_number_integer()) item.unit_price_cents = e["unitPrice"].get<std::int64_t>();
    items.push_back(std::move(item));
  }
  return items;
}

nlohmann::json order_json(const Order& o) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& i : o.items)
    items.push_back({{"productId", i.product_id},
                     {"quantity", i.quantity},
                     {"unitPrice", i.unit_price_cents ? money(*i.unit_price_cents) : nlohmann::json(nullptr)}});
  return {{"orderId", o.id},
          {"userId", o.user_id},
          {"status", to_string(o.status)},
          {"items", std::move(items)},
          {"totalAmount", o.total_cents ? money(*o.total_cents) : nlohmann::json(nullptr)},
          {"shippingAddress", o.shipping_address},
          {"paymentMethod", o.payment_method},
          {"failureReason", o.failure_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.failure_reason)},
          {"createdAt", format_timestamp(o.created_at_ms)},
          {"updatedAt", format_timestamp(o.updated_at_ms)},
          {"expiresAt", format_timestamp(o.expires_at_ms)}};
}

nlohmann::json order_created_json(const Order& o) {
  return {{"orderId", o.id},
          {"status", to_string(o.status)},
          {"createdAt", format_timestamp(o.created_at_ms)},
          {"expiresAt", format_timestamp(o.expires_at_ms)}};
}

}  // namespace mambogo::order
