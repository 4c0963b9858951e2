// GET /api/products as a value: its query parameters parsed and validated, and the SQL that
// answers it (one statement for the page, one for the total), for either dialect. Both are
// pure functions, so every rule is unit-tested without a database, and the integration tests
// EXPLAIN exactly the statements the service runs.
//
// Parameters (cluster/README.md): category (name, case-insensitive, or id), minPrice,
// maxPrice (money, two decimals at most), inStock (true|false), q (name prefix,
// case-insensitive), sort (price|name|createdAt[,asc|desc]; default name,asc), page
// (0-based), size (1..100, default 20). Unknown parameters are ignored. Only active products
// are ever listed.
//
// Thread-safety: pure functions, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "runtime/db/connection.h"
#include "runtime/http_message.h"

namespace mambogo::product {

enum class SortField { name, price, created_at };

struct CatalogueQuery {
  std::optional<std::string> category_id;    // canonical UUID
  std::optional<std::string> category_name;  // when the parameter was not a UUID
  std::optional<std::int64_t> min_price_cents;
  std::optional<std::int64_t> max_price_cents;
  bool in_stock = false;
  std::optional<std::string> name_prefix;
  SortField sort = SortField::name;
  bool descending = false;
  std::int64_t page = 0;
  std::int64_t size = 20;

  static constexpr std::int64_t kMaxSize = 100;
  static constexpr std::int64_t kMaxPage = 1'000'000;
  static constexpr std::size_t kMaxTextLength = 100;  // category, q
};

// A parameter that cannot be accepted: its name and a sentence saying what is accepted.
struct QueryProblem {
  std::string parameter;
  std::string message;
};

std::variant<CatalogueQuery, QueryProblem> parse_catalogue_query(const runtime::Request& request);

struct Statement {
  std::string sql;
  db::Params params;
};

struct CatalogueStatements {
  Statement page;   // the page's products, columns as product_columns()
  Statement count;  // one row, one column: the total of matching products
};

CatalogueStatements catalogue_statements(const CatalogueQuery& query, db::Dialect dialect);

// The select list of a product row (products p JOIN categories c), in this order:
// id, name, description, category_id, category name, price_cents, stock_quantity, is_active,
// created_at, updated_at, version. Timestamps come out as ISO 8601 UTC text on both dialects.
std::string product_columns(db::Dialect dialect);

}  // namespace mambogo::product
