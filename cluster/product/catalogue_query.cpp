#include "product/catalogue_query.h"

#include "runtime/values.h"

namespace mambogo::product {

using runtime::canonical_uuid;
using runtime::parse_money;

namespace {

std::optional<std::int64_t> parse_count(const std::string& text, std::int64_t min, std::int64_t max) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

std::optional<QueryProblem> parse_sort(const std::string& text, CatalogueQuery& q) {
  const auto comma = text.find(',');
  const std::string field = text.substr(0, comma);
  const std::string direction = comma == std::string::npos ? "asc" : text.substr(comma + 1);
  if (field == "name") q.sort = SortField::name;
  else if (field == "price") q.sort = SortField::price;
  else if (field == "createdAt") q.sort = SortField::created_at;
  else return QueryProblem{"sort", "sort must be price, name or createdAt, optionally followed by ,asc or ,desc"};
  if (direction != "asc" && direction != "desc")
    return QueryProblem{"sort", "sort direction must be asc or desc"};
  q.descending = direction == "desc";
  return std::nullopt;
}

std::optional<QueryProblem> parse_price(const runtime::Request& request, const char* name,
                                        std::optional<std::int64_t>& out) {
  auto text = request.query_param(name);
  if (!text) return std::nullopt;
  out = parse_money(*text);
  if (!out) return QueryProblem{name, std::string(name) + " must be a non-negative amount with at most two decimals"};
  return std::nullopt;
}

std::optional<QueryProblem> parse_into(const runtime::Request& request, CatalogueQuery& q) {
  if (auto category = request.query_param("category")) {
    if (category->empty() || category->size() > CatalogueQuery::kMaxTextLength)
      return QueryProblem{"category", "category must be a category name or id of 1 to 100 characters"};
    if (auto id = canonical_uuid(*category)) q.category_id = *id;
    else q.category_name = *category;
  }
  if (auto p = parse_price(request, "minPrice", q.min_price_cents)) return p;
  if (auto p = parse_price(request, "maxPrice", q.max_price_cents)) return p;
  if (q.min_price_cents && q.max_price_cents && *q.min_price_cents > *q.max_price_cents)
    return QueryProblem{"minPrice", "minPrice must not be greater than maxPrice"};
  if (auto in_stock = request.query_param("inStock")) {
    if (*in_stock != "true" && *in_stock != "false")
      return QueryProblem{"inStock", "inStock must be true or false"};
    q.in_stock = *in_stock == "true";
  }
  if (auto prefix = request.query_param("q")) {
    if (prefix->size() > CatalogueQuery::kMaxTextLength)
      return QueryProblem{"q", "q must be at most 100 characters"};
    if (!prefix->empty()) q.name_prefix = *prefix;
  }
  if (auto sort = request.query_param("sort"))
    if (auto p = parse_sort(*sort, q)) return p;
  if (auto page = request.query_param("page")) {
    auto value = parse_count(*page, 0, CatalogueQuery::kMaxPage);
    if (!value) return QueryProblem{"page", "page must be an integer from 0 to 1000000"};
    q.page = *value;
  }
  if (auto size = request.query_param("size")) {
    auto value = parse_count(*size, 1, CatalogueQuery::kMaxSize);
    if (!value) return QueryProblem{"size", "size must be an integer from 1 to 100"};
    q.size = *value;
  }
  return std::nullopt;
}

// LIKE pattern for a prefix: the prefix lower-cased with its wildcards escaped, then '%'.
std::string prefix_pattern(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  out.push_back('%');
  return out;
}

class WhereBuilder {
 public:
  explicit WhereBuilder(db::Params& params) : params_(params) {}
  std::string placeholder(db::Param value) {
    params_.push_back(std::move(value));
    return "$" + std::to_string(params_.size());
  }
  void add(const std::string& condition) { sql_ += " AND " + condition; }
  const std::string& sql() const { return sql_; }

 private:
  db::Params& params_;
  // The partial indexes' predicates, written as they are in the migration, so that both
  // planners can prove the index applies.
  std::string sql_ = " WHERE p.is_active = TRUE";
};

std::string where_clause(const CatalogueQuery& q, db::Params& params) {
  WhereBuilder w(params);
  if (q.category_id) w.add("p.category_id = " + w.placeholder(*q.category_id));
  if (q.category_name)
    w.add("p.category_id = (SELECT id FROM categories WHERE LOWER(name) = LOWER(CAST(" +
          w.placeholder(*q.category_name) + " AS TEXT)))");
  if (q.in_stock) w.add("p.stock_quantity > 0");
  if (q.min_price_cents) w.add("p.price_cents >= " + w.placeholder(*q.min_price_cents));
  if (q.max_price_cents) w.add("p.price_cents <= " + w.placeholder(*q.max_price_cents));
  if (q.name_prefix)
    w.add("LOWER(p.name) LIKE CAST(" + w.placeholder(prefix_pattern(*q.name_prefix)) + " AS TEXT) ESCAPE '\\'");
  return w.sql();
}

std::string order_by(const CatalogueQuery& q) {
  const char* column = q.sort == SortField::price ? "p.price_cents" : q.sort == SortField::name ? "p.name" : "p.created_at";
  const char* direction = q.descending ? " DESC" : " ASC";
  // The id breaks ties, so that pages never overlap or skip a product.
  return std::string(" ORDER BY ") + column + direction + ", p.id" + direction;
}

std::string timestamp(db::Dialect dialect, const char* column) {
  if (dialect == db::Dialect::sqlite) return column;
  return std::string("to_char(") + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

}  // namespace

std::variant<CatalogueQuery, QueryProblem> parse_catalogue_query(const runtime::Request& request) {
  CatalogueQuery q;
  if (auto problem = parse_into(request, q)) return *problem;
  return q;
}

std::string product_columns(db::Dialect dialect) {
  return "p.id, p.name, p.description, p.category_id, c.name, p.price_cents, p.stock_quantity, p.is_active, " +
         timestamp(dialect, "p.created_at") + ", " + timestamp(dialect, "p.updated_at") + ", p.version";
}

CatalogueStatements catalogue_statements(const CatalogueQuery& query, db::Dialect dialect) {
  CatalogueStatements s;
  s.count.sql = "SELECT COUNT(*) FROM products p" + where_clause(query, s.count.params);
  s.page.sql = "SELECT " + product_columns(dialect) + " FROM products p JOIN categories c ON c.id = p.category_id" +
               where_clause(query, s.page.params) + order_by(query);
  const auto n = s.page.params.size();
  s.page.sql += " LIMIT $" + std::to_string(n + 1) + " OFFSET $" + std::to_string(n + 2);
  s.page.params.emplace_back(query.size);
  s.page.params.emplace_back(query.page * query.size);
  return s;
}

}  // namespace mambogo::product
