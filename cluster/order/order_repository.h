// Orders in SQL (cluster/schema/order/), the same statements on SQLite and PostgreSQL.
// Writes and the processor's reads go to the primary; a user's reads go to the replica (a
// single order falls back to the primary when the replica has not seen it yet, so a GET
// right after the 201 finds it).
//
// Every state change is optimistic: UPDATE ... WHERE id = $1 AND status = <old> AND
// version = <old>. A change that lost a race changes nothing and reports false, so each
// order reaches a terminal state exactly once however many passes or processes race.
//
// Ownership: borrows the Datasource, which must outlive it. Thread-safety: every member may
// be called from any thread (each call leases its own connection). Errors: db::DbError.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "order/order.h"
#include "runtime/db/datasource.h"

namespace mambogo::order {

class OrderRepository {
 public:
  explicit OrderRepository(db::Datasource& datasource) : db_(datasource) {}

  // Inserts every order in one transaction with one multi-row INSERT ... ON CONFLICT
  // (user_id, idempotency_key) DO NOTHING. Returns the ids actually inserted; the others
  // collided with an existing order (or an earlier one of the same batch) on their key.
  std::unordered_set<std::string> insert_batch(const std::vector<const Order*>& orders);

  std::optional<Order> find_by_key(const std::string& user_id, const std::string& idempotency_key);
  // Primary: the processor's view.
  std::optional<Order> find(const std::string& id);
  // The user's order (replica, then primary when not found); nullopt for someone else's.
  std::optional<Order> find_for_user(const std::string& id, const std::string& user_id);

  struct Page {
    std::vector<Order> content;
    std::int64_t total = 0;
  };
  // The user's orders, newest first (replica).
  Page list_for_user(const std::string& user_id, std::optional<OrderStatus> status, std::int64_t page,
                     std::int64_t size);

  // Takes the order for one processing pass: when it is still at `order.version` and due
  // (next_attempt_at <= now), sets next_attempt_at = lease_until (no one else picks it up
  // meanwhile), attempts + 1, version + 1. Returns the claimed order, or nullopt.
  std::optional<Order> claim(const Order& order, std::int64_t now_ms, std::int64_t lease_until_ms);

  // Writes `after` (status, items, total, payment id, failure reason, next_attempt_at) over
  // `before` if the row is still at before.status and before.version; version + 1, updated_at
  // = now. Returns whether it did; `after` then carries the new version.
  bool update(const Order& before, Order& after, std::int64_t now_ms);

  // PENDING orders past expires_at (idx_orders_pending_expired), at most `limit`.
  std::vector<std::string> expirable(std::int64_t now_ms, int limit);
  // PENDING -> EXPIRED (failure reason "expired", release due now) unless a processing pass
  // holds the order's lease. Returns whether it did.
  bool expire(const std::string& id, std::int64_t now_ms);

  // Orders whose next step is due (idx_orders_work_due), earliest first, at most `limit`.
  // terminal_only: only FAILED/EXPIRED ones waiting for their stock release.
  std::vector<std::string> due(std::int64_t now_ms, int limit, bool terminal_only);

  // How many orders are in each state, indexed by OrderStatus.
  std::array<std::int64_t, kOrderStatusCount> count_by_status();

  // The sweep's partial index (idx_orders_pending_expired, as the migration creates it), for
  // drill 3: whether it exists; dropping and re-creating it (IF [NOT] EXISTS: several pods may
  // race, the loser finds it done); and how often PostgreSQL's planner used it
  // (pg_stat_user_indexes.idx_scan; nullopt when it does not exist, or on SQLite).
  static constexpr const char* kSweepIndex = "idx_orders_pending_expired";
  bool sweep_index_exists();
  void set_sweep_index(bool present);
  std::optional<std::int64_t> sweep_index_scans();

 private:
  db::Datasource& db_;
};

}  // namespace mambogo::order
