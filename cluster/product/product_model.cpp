#include "product/product_model.h"

#include <nlohmann/json.hpp>

#include "runtime/values.h"

namespace mambogo::product {

using runtime::append_money;

namespace {

void append_string(std::string& out, const std::string& s) { out += nlohmann::json(s).dump(); }

void append_product(std::string& out, const Product& p) {
  out += "{\"id\":";
  append_string(out, p.id);
  out += ",\"name\":";
  append_string(out, p.name);
  out += ",\"description\":";
  append_string(out, p.description);
  out += ",\"category\":";
  append_string(out, p.category_name);
  out += ",\"categoryId\":";
  append_string(out, p.category_id);
  out += ",\"price\":";
  append_money(out, p.price_cents);
  out += ",\"stockQuantity\":";
  out += std::to_string(p.stock_quantity);
  out += ",\"isActive\":";
  out += p.is_active ? "true" : "false";
  out += ",\"createdAt\":";
  append_string(out, p.created_at);
  out += ",\"updatedAt\":";
  append_string(out, p.updated_at);
  out += '}';
}

}  // namespace

std::string product_json(const Product& p) {
  std::string out;
  out.reserve(256 + p.description.size());
  append_product(out, p);
  return out;
}

std::string page_json(const ProductPage& page) {
  std::string out = "{\"content\":[";
  for (std::size_t i = 0; i < page.content.size(); ++i) {
    if (i) out += ',';
    append_product(out, page.content[i]);
  }
  const std::int64_t total_pages = page.size > 0 ? (page.total_elements + page.size - 1) / page.size : 0;
  out += "],\"page\":" + std::to_string(page.page) + ",\"size\":" + std::to_string(page.size) +
         ",\"totalElements\":" + std::to_string(page.total_elements) +
         ",\"totalPages\":" + std::to_string(total_pages) + "}";
  return out;
}

std::string categories_json(const std::vector<Category>& categories) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : categories) out.push_back({{"id", c.id}, {"name", c.name}, {"productCount", c.product_count}});
  return out.dump();
}

std::string reservation_json(const std::string& order_id, const std::vector<ReservedItem>& items) {
  std::string out = "{\"orderId\":";
  append_string(out, order_id);
  out += ",\"reserved\":true,\"items\":[";
  std::int64_t total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += "{\"productId\":";
    append_string(out, items[i].product_id);
    out += ",\"quantity\":" + std::to_string(items[i].quantity) + ",\"unitPrice\":";
    append_money(out, items[i].unit_price_cents);
    out += '}';
    total += items[i].quantity * items[i].unit_price_cents;
  }
  out += "],\"totalAmount\":";
  append_money(out, total);
  out += '}';
  return out;
}

}  // namespace mambogo::product
