#include "product/product_repository.h"

#include <algorithm>
#include <map>

#include "runtime/db/datasource.h"

namespace mambogo::product {

namespace {

using db::Connection;
using db::Dialect;

const char* now_expression(Dialect d) {
  return d == Dialect::sqlite ? "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" : "now()";
}

bool parse_bool(const db::Field& f) { return f && (*f == "1" || *f == "t" || *f == "true"); }

Product product_from(const db::Row& row) {
  Product p;
  p.id = row.text(0);
  p.name = row.text(1);
  p.description = row.text(2);
  p.category_id = row.text(3);
  p.category_name = row.text(4);
  p.price_cents = row.integer(5).value_or(0);
  p.stock_quantity = row.integer(6).value_or(0);
  p.is_active = parse_bool(row[7]);
  p.created_at = row.text(8);
  p.updated_at = row.text(9);
  p.version = row.integer(10).value_or(0);
  return p;
}

std::optional<std::string> stored_answer(Connection& c, const std::string& order_id) {
  auto r = c.query("SELECT answer FROM inventory_reservation_answers WHERE order_id = $1", {order_id});
  if (r.empty()) return std::nullopt;
  return r[0].text(0);
}

ReserveOutcome refused(Connection& c, const std::string& product_id) {
  auto r = c.query("SELECT is_active FROM products WHERE id = $1", {product_id});
  ReserveOutcome out;
  out.result = r.empty() || !parse_bool(r[0][0]) ? ReserveOutcome::Result::unknown_product
                                                 : ReserveOutcome::Result::insufficient_stock;
  out.product_id = product_id;
  return out;
}

// The body of the reserve transaction; commits nothing itself.
ReserveOutcome reserve_in(Connection& c, const std::string& order_id, const std::vector<ReservationItem>& items) {
  if (auto answer = stored_answer(c, order_id)) return {ReserveOutcome::Result::replayed, *answer, {}, {}};
  std::vector<const ReservationItem*> lock_order;
  for (const auto& item : items) lock_order.push_back(&item);
  std::sort(lock_order.begin(), lock_order.end(),
            [](const auto* a, const auto* b) { return a->product_id < b->product_id; });

  const std::string take = std::string("UPDATE products SET stock_quantity = stock_quantity - $2, version = version + 1, "
                                       "updated_at = ") + now_expression(c.dialect()) +
                           " WHERE id = $1 AND is_active = TRUE AND stock_quantity >= $2 RETURNING price_cents";
  std::map<std::string, std::int64_t> prices;
  for (const auto* item : lock_order) {
    auto r = c.query(take, {item->product_id, item->quantity});
    if (r.empty()) return refused(c, item->product_id);
    prices[item->product_id] = r[0].integer(0).value_or(0);
  }

  const std::string record = std::string("INSERT INTO inventory_reservations (order_id, product_id, quantity, "
                                         "unit_price_cents, state, created_at) VALUES ($1, $2, $3, $4, 'RESERVED', ") +
                             now_expression(c.dialect()) + ")";
  ReserveOutcome out;
  std::vector<ReservedItem> reserved;
  for (const auto& item : items) {
    const std::int64_t price = prices.at(item.product_id);
    c.execute(record, {order_id, item.product_id, item.quantity, price});
    reserved.push_back({item.product_id, item.quantity, price});
    out.products.push_back(item.product_id);
  }
  out.answer = reservation_json(order_id, reserved);
  c.execute("INSERT INTO inventory_reservation_answers (order_id, answer) VALUES ($1, $2)", {order_id, out.answer});
  return out;
}

}  // namespace

const char* to_string(ReserveOutcome::Result r) {
  switch (r) {
    case ReserveOutcome::Result::reserved: return "reserved";
    case ReserveOutcome::Result::replayed: return "replayed";
    case ReserveOutcome::Result::insufficient_stock: return "insufficient_stock";
    case ReserveOutcome::Result::unknown_product: return "unknown_product";
  }
  return "unknown";
}

SqlProductRepository::SqlProductRepository(db::Datasource& datasource) : datasource_(datasource) {}

std::optional<Product> SqlProductRepository::find(const std::string& id) {
  auto c = datasource_.read_your_write();
  auto r = c->query("SELECT " + product_columns(c->dialect()) +
                        " FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1",
                    {id});
  if (r.empty()) return std::nullopt;
  return product_from(r[0]);
}

ProductPage SqlProductRepository::search(const CatalogueQuery& query) {
  auto c = datasource_.read();
  const CatalogueStatements s = catalogue_statements(query, c->dialect());
  ProductPage page;
  page.page = query.page;
  page.size = query.size;
  page.total_elements = c->query(s.count.sql, s.count.params)[0].integer(0).value_or(0);
  for (const auto& row : c->query(s.page.sql, s.page.params).rows) page.content.push_back(product_from(row));
  return page;
}

std::vector<Category> SqlProductRepository::categories() {
  auto c = datasource_.read();
  auto r = c->query(
      "SELECT c.id, c.name, COUNT(p.id) FROM categories c "
      "LEFT JOIN products p ON p.category_id = c.id AND p.is_active = TRUE "
      "GROUP BY c.id, c.name ORDER BY c.name");
  std::vector<Category> out;
  for (const auto& row : r.rows) out.push_back({row.text(0), row.text(1), row.integer(2).value_or(0)});
  return out;
}

ReserveOutcome SqlProductRepository::reserve(const std::string& order_id, const std::vector<ReservationItem>& items) {
  auto lease = datasource_.write();
  Connection& c = *lease;
  ReserveOutcome out;
  try {
    c.begin();
    out = reserve_in(c, order_id, items);
    if (out.result == ReserveOutcome::Result::reserved) c.commit();
    else c.rollback();
  } catch (const db::DbError& e) {
    if (c.in_transaction()) c.rollback();
    // Another reserve of the same order committed while we worked (PostgreSQL): its answer
    // is the answer. Anything else is a real failure.
    if (e.kind() != db::DbErrorKind::unique_violation) throw;
    if (auto answer = stored_answer(c, order_id)) return {ReserveOutcome::Result::replayed, *answer, {}, {}};
    throw;
  }
  // Refused because a concurrent reserve of this very order took the stock first: that one
  // is the answer to this order, not a refusal.
  if (out.result == ReserveOutcome::Result::insufficient_stock || out.result == ReserveOutcome::Result::unknown_product)
    if (auto answer = stored_answer(c, order_id)) return {ReserveOutcome::Result::replayed, *answer, {}, {}};
  return out;
}

ReleaseOutcome SqlProductRepository::release(const std::string& order_id) {
  auto lease = datasource_.write();
  return db::in_transaction(*lease, [&](Connection& c) {
    const std::string now = now_expression(c.dialect());
    auto r = c.query("UPDATE inventory_reservations SET state = 'RELEASED', released_at = " + now +
                         " WHERE order_id = $1 AND state = 'RESERVED' RETURNING product_id, quantity",
                     {order_id});
    std::vector<std::pair<std::string, std::int64_t>> lines;
    for (const auto& row : r.rows) lines.emplace_back(row.text(0), row.integer(1).value_or(0));
    std::sort(lines.begin(), lines.end());  // the reservations' lock order
    ReleaseOutcome out;
    for (const auto& [product_id, quantity] : lines) {
      c.execute("UPDATE products SET stock_quantity = stock_quantity + $2, version = version + 1, updated_at = " +
                    now + " WHERE id = $1",
                {product_id, quantity});
      out.products.push_back(product_id);
    }
    out.released = !lines.empty();
    return out;
  });
}

}  // namespace mambogo::product
