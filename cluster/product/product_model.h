// The product service's values and their JSON (the shapes of cluster/README.md, camelCase,
// money with two decimals): products, categories, catalogue pages, reservations.
//
// Plain values; the writers are pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mambogo::product {

struct Product {
  std::string id;  // canonical UUID
  std::string name;
  std::string description;
  std::string category_id;
  std::string category_name;
  std::int64_t price_cents = 0;
  std::int64_t stock_quantity = 0;
  bool is_active = true;
  std::string created_at;  // ISO 8601 UTC, milliseconds: 2026-01-01T00:00:00.000Z
  std::string updated_at;
  std::int64_t version = 0;
};

struct Category {
  std::string id;
  std::string name;
  std::int64_t product_count = 0;  // active products
};

struct ProductPage {
  std::vector<Product> content;
  std::int64_t page = 0;
  std::int64_t size = 20;
  std::int64_t total_elements = 0;
};

// One line of a reservation request (quantities of one product already summed).
struct ReservationItem {
  std::string product_id;
  std::int64_t quantity = 0;
};

// One line of a granted reservation, at the price of the moment.
struct ReservedItem {
  std::string product_id;
  std::int64_t quantity = 0;
  std::int64_t unit_price_cents = 0;
};

// {"id", "name", "description", "category", "categoryId", "price", "stockQuantity",
//  "isActive", "createdAt", "updatedAt"}
std::string product_json(const Product& p);
// {"content": [...], "page", "size", "totalElements", "totalPages"}
std::string page_json(const ProductPage& page);
// [{"id", "name", "productCount"}, ...]
std::string categories_json(const std::vector<Category>& categories);
// {"orderId", "reserved": true, "items": [{"productId", "quantity", "unitPrice"}], "totalAmount"}
std::string reservation_json(const std::string& order_id, const std::vector<ReservedItem>& items);

}  // namespace mambogo::product
