#include "payment/payment_repository.h"

#include <cstdio>
#include <stdexcept>

namespace mambogo::payment {
namespace {

// Timestamps leave PostgreSQL in the same ISO 8601 UTC text SQLite stores.
std::string select_columns(db::Dialect dialect) {
  const char* ts = dialect == db::Dialect::postgres
                       ? "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
                       : "%s";
  auto column = [ts](const char* name) {
    char buf[128];
    std::snprintf(buf, sizeof buf, ts, name);
    return std::string(buf);
  };
  return "SELECT id, order_id, user_id, amount_cents, currency, payment_method, status, "
         "provider_reference, attempts, failure_reason, " +
         column("created_at") + ", " + column("updated_at") + " FROM payments WHERE order_id = $1";
}

std::string text_or_empty(const db::Row& row, std::size_t i) { return row.is_null(i) ? "" : row.text(i); }

PaymentRecord to_record(const db::Row& row) {
  PaymentRecord p;
  p.id = row.text(0);
  p.order_id = row.text(1);
  p.user_id = row.text(2);
  p.amount_cents = row.integer(3).value_or(0);
  p.currency = row.text(4);
  p.payment_method = row.text(5);
  auto status = parse_payment_status(row.text(6));
  if (!status) throw db::DbError(db::DbErrorKind::other, "payments.status holds '" + row.text(6) + "'");
  p.status = *status;
  p.provider_reference = text_or_empty(row, 7);
  p.attempts = static_cast<int>(row.integer(8).value_or(0));
  p.failure_reason = text_or_empty(row, 9);
  p.created_at = row.text(10);
  p.updated_at = row.text(11);
  return p;
}

std::optional<PaymentRecord> select_one(db::Connection& conn, const std::string& order_id, bool for_update) {
  std::string sql = select_columns(conn.dialect());
  if (for_update) sql += " FOR UPDATE";
  auto result = conn.query(sql, {order_id});
  if (result.empty()) return std::nullopt;
  return to_record(result[0]);
}

void apply(db::Connection& conn, const std::string& order_id, const ChargeUpdate& u, const std::string& now) {
  conn.execute(
      "UPDATE payments SET status = $1, provider_reference = $2, attempts = attempts + $3, "
      "failure_reason = $4, updated_at = $5 WHERE order_id = $6",
      {std::string(to_string(u.status)),
       u.provider_reference.empty() ? db::Param(nullptr) : db::Param(u.provider_reference),
       static_cast<std::int64_t>(u.attempts_added),
       u.failure_reason.empty() ? db::Param(nullptr) : db::Param(u.failure_reason), now, order_id});
}

PaymentRecord require(std::optional<PaymentRecord> record, const std::string& order_id) {
  if (!record) throw db::DbError(db::DbErrorKind::other, "payment for order " + order_id + " vanished");
  return std::move(*record);
}

}  // namespace

PaymentRecord PaymentRepository::insert_or_get(const PaymentRequest& r, const std::string& id,
                                               const std::string& now) {
  auto conn = datasource_.write();
  conn->execute(
      "INSERT INTO payments (id, order_id, user_id, amount_cents, currency, payment_method, status, "
      "attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $7) "
      "ON CONFLICT (order_id) DO NOTHING",
      {id, r.order_id, r.user_id, r.amount_cents, r.currency, r.payment_method, now});
  return require(select_one(*conn, r.order_id, false), r.order_id);
}

PaymentRecord PaymentRepository::charge_locked(
    const std::string& order_id,
    const std::function<std::optional<ChargeUpdate>(const PaymentRecord&)>& charge,
    const std::function<std::string()>& now) {
  auto conn = datasource_.write();
  if (conn->dialect() == db::Dialect::postgres) {
    return db::in_transaction(*conn, [&](db::Connection& c) {
      auto current = require(select_one(c, order_id, true), order_id);
      if (auto update = charge(current)) apply(c, order_id, *update, now());
      return require(select_one(c, order_id, false), order_id);
    });
  }
  // SQLite: no connection is held while the provider answers.
  auto current = require(select_one(*conn, order_id, false), order_id);
  conn.lease.release();
  auto update = charge(current);
  auto after = datasource_.write();
  if (update) apply(*after, order_id, *update, now());
  return require(select_one(*after, order_id, false), order_id);
}

std::optional<PaymentRecord> PaymentRepository::find(const std::string& order_id) {
  {
    auto conn = datasource_.read();
    if (auto found = select_one(*conn, order_id, false)) return found;
    if (conn.target == db::RouteTarget::primary) return std::nullopt;
  }
  auto conn = datasource_.read_your_write();
  return select_one(*conn, order_id, false);
}

}  // namespace mambogo::payment
