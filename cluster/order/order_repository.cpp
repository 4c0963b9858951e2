#include "order/order_repository.h"

#include "runtime/db/db_error.h"

namespace mambogo::order {
namespace {

constexpr const char* kColumns =
    "id, user_id, idempotency_key, request_hash, status, items, total_cents, currency, shipping_address, "
    "payment_method, payment_id, failure_reason, attempts, next_attempt_at, created_at, updated_at, "
    "expires_at, version";
constexpr int kInsertColumns = 14;

db::Param optional_int(const std::optional<std::int64_t>& v) {
  return v ? db::Param{*v} : db::Param{nullptr};
}
db::Param optional_text(const std::string& v) { return v.empty() ? db::Param{nullptr} : db::Param{v}; }

Order from_row(const db::Row& r) {
  Order o;
  o.id = r.text(0);
  o.user_id = r.text(1);
  o.idempotency_key = r.text(2);
  o.request_hash = r.text(3);
  const auto status = parse_status(r.text(4));
  if (!status) throw db::DbError(db::DbErrorKind::other, "orders.status holds unknown value '" + r.text(4) + "'");
  o.status = *status;
  auto items = items_from_storage(r.text(5));
  if (!items) throw db::DbError(db::DbErrorKind::other, "orders.items of " + o.id + " is not an item array");
  o.items = std::move(*items);
  o.total_cents = r.integer(6);
  o.currency = r.text(7);
  o.shipping_address = r.text(8);
  o.payment_method = r.text(9);
  o.payment_id = r.is_null(10) ? "" : r.text(10);
  o.failure_reason = r.is_null(11) ? "" : r.text(11);
  o.attempts = static_cast<int>(r.integer(12).value_or(0));
  o.next_attempt_at_ms = r.integer(13);
  o.created_at_ms = r.integer(14).value_or(0);
  o.updated_at_ms = r.integer(15).value_or(0);
  o.expires_at_ms = r.integer(16).value_or(0);
  o.version = r.integer(17).value_or(0);
  return o;
}

std::optional<Order> first(const db::Result& r) {
  if (r.empty()) return std::nullopt;
  return from_row(r[0]);
}

std::vector<std::string> ids(const db::Result& r) {
  std::vector<std::string> out;
  out.reserve(r.size());
  for (const auto& row : r.rows) out.push_back(row.text(0));
  return out;
}

std::string select_where(const std::string& where) { return std::string("SELECT ") + kColumns + " FROM orders WHERE " + where; }

}  // namespace

std::unordered_set<std::string> OrderRepository::insert_batch(const std::vector<const Order*>& orders) {
  std::unordered_set<std::string> inserted;
  if (orders.empty()) return inserted;
  std::string sql =
      "INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, items, currency, shipping_address, "
      "payment_method, attempts, next_attempt_at, created_at, updated_at, expires_at) VALUES ";
  db::Params params;
  params.reserve(orders.size() * kInsertColumns);
  for (std::size_t i = 0; i < orders.size(); ++i) {
    sql += i == 0 ? "(" : ", (";
    for (int c = 1; c <= kInsertColumns; ++c) {
      sql += "$" + std::to_string(i * kInsertColumns + c);
      sql += c == kInsertColumns ? ")" : ", ";
    }
    const Order& o = *orders[i];
    params.insert(params.end(), {o.id, o.user_id, o.idempotency_key, o.request_hash, std::string(to_string(o.status)),
                                 items_to_storage(o.items), o.currency, o.shipping_address, o.payment_method,
                                 std::int64_t{o.attempts}, optional_int(o.next_attempt_at_ms), o.created_at_ms,
                                 o.updated_at_ms, o.expires_at_ms});
  }
  sql += " ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id";
  auto conn = db_.write();
  const db::Result r = db::in_transaction(*conn, [&](db::Connection& c) { return c.query(sql, params); });
  for (const auto& row : r.rows) inserted.insert(row.text(0));
  return inserted;
}

std::optional<Order> OrderRepository::find_by_key(const std::string& user_id, const std::string& key) {
  auto conn = db_.write();
  return first(conn->query(select_where("user_id = $1 AND idempotency_key = $2"), {user_id, key}));
}

std::optional<Order> OrderRepository::find(const std::string& id) {
  auto conn = db_.write();
  return first(conn->query(select_where("id = $1"), {id}));
}

std::optional<Order> OrderRepository::find_for_user(const std::string& id, const std::string& user_id) {
  const std::string sql = select_where("id = $1 AND user_id = $2");
  {
    auto replica = db_.read();
    if (auto o = first(replica->query(sql, {id, user_id}))) return o;
    if (replica.target == db::RouteTarget::primary) return std::nullopt;
  }
  auto primary = db_.read_your_write();
  return first(primary->query(sql, {id, user_id}));
}

OrderRepository::Page OrderRepository::list_for_user(const std::string& user_id, std::optional<OrderStatus> status,
                                                     std::int64_t page, std::int64_t size) {
  std::string where = "user_id = $1";
  db::Params params{user_id};
  if (status) {
    where += " AND status = $2";
    params.emplace_back(std::string(to_string(*status)));
  }
  auto conn = db_.read();
  Page out;
  out.total = conn->query("SELECT count(*) FROM orders WHERE " + where, params)[0].integer(0).value_or(0);
  params.emplace_back(size);
  params.emplace_back(page * size);
  const std::string sql = select_where(where) + " ORDER BY created_at DESC, id DESC LIMIT $" +
                          std::to_string(params.size() - 1) + " OFFSET $" + std::to_string(params.size());
  for (const auto& row : conn->query(sql, params).rows) out.content.push_back(from_row(row));
  return out;
}

std::optional<Order> OrderRepository::claim(const Order& order, std::int64_t now_ms, std::int64_t lease_until_ms) {
  auto conn = db_.write();
  const auto n = conn->execute(
      "UPDATE orders SET next_attempt_at = $1, attempts = attempts + 1, version = version + 1, updated_at = $2 "
      "WHERE id = $3 AND version = $4 AND next_attempt_at <= $2",
      {lease_until_ms, now_ms, order.id, order.version});
  if (n != 1) return std::nullopt;
  Order claimed = order;
  claimed.next_attempt_at_ms = lease_until_ms;
  claimed.attempts += 1;
  claimed.version += 1;
  claimed.updated_at_ms = now_ms;
  return claimed;
}

bool OrderRepository::update(const Order& before, Order& after, std::int64_t now_ms) {
  auto conn = db_.write();
  const auto n = conn->execute(
      "UPDATE orders SET status = $1, items = $2, total_cents = $3, payment_id = $4, failure_reason = $5, "
      "next_attempt_at = $6, updated_at = $7, version = version + 1 "
      "WHERE id = $8 AND status = $9 AND version = $10",
      {std::string(to_string(after.status)), items_to_storage(after.items), optional_int(after.total_cents),
       optional_text(after.payment_id), optional_text(after.failure_reason), optional_int(after.next_attempt_at_ms),
       now_ms, before.id, std::string(to_string(before.status)), before.version});
  if (n != 1) return false;
  after.version = before.version + 1;
  after.updated_at_ms = now_ms;
  return true;
}

std::vector<std::string> OrderRepository::expirable(std::int64_t now_ms, int limit) {
  auto conn = db_.write();
  return ids(conn->query("SELECT id FROM orders WHERE status = 'PENDING' AND expires_at <= $1 LIMIT $2",
                         {now_ms, std::int64_t{limit}}));
}

bool OrderRepository::expire(const std::string& id, std::int64_t now_ms) {
  auto conn = db_.write();
  return conn->execute(
             "UPDATE orders SET status = 'EXPIRED', failure_reason = $1, next_attempt_at = $2, updated_at = $2, "
             "version = version + 1 "
             "WHERE id = $3 AND status = 'PENDING' AND expires_at <= $2 "
             "AND (next_attempt_at IS NULL OR next_attempt_at <= $2)",
             {std::string(reason::kExpired), now_ms, id}) == 1;
}

std::vector<std::string> OrderRepository::due(std::int64_t now_ms, int limit, bool terminal_only) {
  auto conn = db_.write();
  const std::string filter = terminal_only ? " AND status IN ('FAILED', 'EXPIRED')" : "";
  return ids(conn->query("SELECT id FROM orders WHERE next_attempt_at <= $1" + filter +
                             " ORDER BY next_attempt_at LIMIT $2",
                         {now_ms, std::int64_t{limit}}));
}

std::array<std::int64_t, kOrderStatusCount> OrderRepository::count_by_status() {
  std::array<std::int64_t, kOrderStatusCount> counts{};
  auto conn = db_.read();
  for (const auto& row : conn->query("SELECT status, count(*) FROM orders GROUP BY status").rows)
    if (auto s = parse_status(row.text(0))) counts[static_cast<std::size_t>(*s)] = row.integer(1).value_or(0);
  return counts;
}

bool OrderRepository::sweep_index_exists() {
  auto conn = db_.write();
  const bool postgres = conn->dialect() == db::Dialect::postgres;
  const auto r = conn->query(postgres ? "SELECT count(*) FROM pg_indexes WHERE indexname = $1"
                                      : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = $1",
                             {std::string(kSweepIndex)});
  return !r.rows.empty() && r.rows[0].integer(0).value_or(0) > 0;
}

void OrderRepository::set_sweep_index(bool present) {
  auto conn = db_.write();
  try {
    if (present)  // the definition of cluster/schema/order/0001_orders.*.sql
      conn->execute(std::string("CREATE INDEX IF NOT EXISTS ") + kSweepIndex +
                    " ON orders(id, status, expires_at) WHERE status = 'PENDING'");
    else
      conn->execute(std::string("DROP INDEX IF EXISTS ") + kSweepIndex);
  } catch (const db::DbError&) {
    conn.lease.release();
    if (sweep_index_exists() != present) throw;  // not a race another pod won: a real failure
  }
}

std::optional<std::int64_t> OrderRepository::sweep_index_scans() {
  auto conn = db_.write();
  if (conn->dialect() != db::Dialect::postgres) return std::nullopt;
  const auto r = conn->query("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1", {std::string(kSweepIndex)});
  if (r.rows.empty()) return std::nullopt;
  return r.rows[0].integer(0);
}

}  // namespace mambogo::order
