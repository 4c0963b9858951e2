// The payments table, on SQLite or on PostgreSQL (primary for writes, replica for reads)
// through the service's Datasource.
//
//   insert_or_get()  INSERT ... ON CONFLICT (order_id) DO NOTHING, then the row: the first
//                    request for an order creates it (PENDING), every later one finds it.
//   charge_locked()  runs a charge with the row locked against every other charger of the
//                    same order: PostgreSQL holds SELECT ... FOR UPDATE in a transaction for
//                    the duration (so replicas of the service serialise too); SQLite, which
//                    one process owns, relies on the caller's in-process lock (KeyedMutex) and
//                    keeps no write transaction open while the provider answers.
//   find()           reads from the replica; a miss is asked again of the primary, so a
//                    payment created a moment ago is never reported missing.
//
// Errors: db::DbError from the storage layer, unchanged.
// Thread-safety: every member may be called from any thread (each takes its own connection).
// The datasource must outlive the repository.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "payment/payment_model.h"
#include "runtime/db/datasource.h"

namespace mambogo::payment {

// What a charge changed; applied to the row in the same locked section.
struct ChargeUpdate {
  PaymentStatus status = PaymentStatus::pending;
  std::string provider_reference;
  int attempts_added = 0;
  std::string failure_reason;
};

class PaymentRepository {
 public:
  explicit PaymentRepository(db::Datasource& datasource) : datasource_(datasource) {}

  // `id` and `now` come from the caller (a fresh UUID, the current time); they are used only
  // when the row is new.
  PaymentRecord insert_or_get(const PaymentRequest& request, const std::string& id,
                              const std::string& now);

  // Reads the row under the lock and calls `charge(row)`; a returned update is written with
  // updated_at = now(). Returns the row as it stands when the lock is released.
  // Precondition: the row exists (insert_or_get() first).
  PaymentRecord charge_locked(const std::string& order_id,
                              const std::function<std::optional<ChargeUpdate>(const PaymentRecord&)>& charge,
                              const std::function<std::string()>& now);

  std::optional<PaymentRecord> find(const std::string& order_id);

 private:
  db::Datasource& datasource_;
};

}  // namespace mambogo::payment
