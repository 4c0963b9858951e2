#include "cart/cart_model.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace mambogo::cart {

std::optional<int> parse_quantity(const nlohmann::json* value, int min, int max) {
  if (!value) return std::nullopt;
  long long q = 0;
  if (value->is_number_integer()) {
    q = value->get<long long>();
  } else if (value->is_string()) {
    const auto& s = value->get_ref<const std::string&>();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), q);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (q < min || q > max) return std::nullopt;
  return static_cast<int>(q);
}

std::optional<ProductInfo> parse_product(const nlohmann::json& p) {
  if (!p.is_object()) return std::nullopt;
  auto id = p.find("id");
  auto name = p.find("name");
  auto price = p.find("price");
  if (id == p.end() || !id->is_string() || name == p.end() || !name->is_string() || price == p.end() ||
      !price->is_number())
    return std::nullopt;
  const double value = price->get<double>();
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  ProductInfo info;
  info.id = id->get<std::string>();
  info.name = name->get<std::string>();
  info.price_cents = std::llround(value * 100.0);
  auto active = p.find("isActive");
  info.active = active == p.end() || !active->is_boolean() || active->get<bool>();
  return info;
}

nlohmann::json to_json(const Cart& cart) {
  auto money = [](std::int64_t cents) { return static_cast<double>(cents) / 100.0; };
  nlohmann::json items = nlohmann::json::array();
  std::int64_t total = 0;
  for (const auto& line : cart.lines) {
    const std::int64_t line_total = line.unit_price_cents * line.quantity;
    total += line_total;
    items.push_back({{"productId", line.product_id},
                     {"name", line.name},
                     {"quantity", line.quantity},
                     {"unitPrice", money(line.unit_price_cents)},
                     {"lineTotal", money(line_total)}});
  }
  return {{"userId", cart.user_id},
          {"items", std::move(items)},
          {"totalAmount", money(total)},
          {"updatedAt", cart.updated_at.empty() ? nlohmann::json(nullptr) : nlohmann::json(cart.updated_at)}};
}

std::optional<HostPort> parse_http_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  if (auto slash = url.find('/'); slash != std::string_view::npos) {
    if (url.substr(slash) != "/") return std::nullopt;  // a base URL has no path
    url = url.substr(0, slash);
  }
  HostPort out;
  const auto colon = url.rfind(':');
  std::string_view host = url.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = url.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return std::nullopt;
    out.port = static_cast<std::uint16_t>(value);
  }
  if (host.empty()) return std::nullopt;
  out.host = std::string(host);
  return out;
}

}  // namespace mambogo::cart
