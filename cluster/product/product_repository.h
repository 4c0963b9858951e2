// The product service's storage, behind one small interface: catalogue reads, single
// products, and stock reservations by order.
//
// SqlProductRepository implements it over a db::Datasource, the same SQL on SQLite and
// PostgreSQL (dialect differences are only in timestamp expressions):
//   search(), categories()   the READ path: the replica when there is one (it may lag by up
//                            to DB_REPLICA_MAX_LAG; a catalogue listing tolerates that).
//   find()                   the primary (read-your-write): what it returns is cached for up
//                            to 30 minutes, so it must not be an older copy than the stock
//                            change that just invalidated the cache.
//   reserve(), release()     one transaction each on the primary.
//
// Reservation rules:
//   - all or nothing: every line is taken with
//       UPDATE products SET stock_quantity = stock_quantity - q ... WHERE id = ? AND
//       is_active = TRUE AND stock_quantity >= q
//     and the first line that matches no row rolls the whole transaction back. The condition
//     is checked by the database under the row lock (SQLite: BEGIN IMMEDIATE serialises
//     writers; PostgreSQL: the row lock and READ COMMITTED's re-check), so concurrent
//     reservations never oversell. Lines are updated in product-id order so two
//     reservations cannot deadlock.
//   - idempotent by orderId: the first successful answer is stored in the same transaction
//     and replayed to every repeat (whatever the repeat's items), which reserves nothing.
//     A refused reservation (insufficient stock, unknown product) stores nothing: it took
//     nothing, so a repeat is evaluated afresh.
//   - release() gives back what is still RESERVED for the order, once: a second release
//     finds nothing reserved and answers released = false.
//
// Thread-safety: every member may be called from any thread (each call leases its own
// connection). Errors: db::DbError (connection lost, pool timeout, ...) propagates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "product/catalogue_query.h"
#include "product/product_model.h"

namespace mambogo::db {
class Datasource;
}

namespace mambogo::product {

struct ReserveOutcome {
  enum class Result { reserved, replayed, insufficient_stock, unknown_product };
  Result result = Result::reserved;
  std::string answer;                 // reserved, replayed: the answer body (JSON)
  std::string product_id;             // insufficient_stock, unknown_product: the first culprit
  std::vector<std::string> products;  // reserved: products whose stock changed
};
const char* to_string(ReserveOutcome::Result r);  // "reserved", "replayed", ...

struct ReleaseOutcome {
  bool released = false;
  std::vector<std::string> products;  // products whose stock came back
};

class ProductRepository {
 public:
  virtual ~ProductRepository() = default;

  // Any product, active or not; nullopt when the id is unknown. Precondition: canonical id.
  virtual std::optional<Product> find(const std::string& id) = 0;
  virtual ProductPage search(const CatalogueQuery& query) = 0;
  // Every category, by name, with its number of active products.
  virtual std::vector<Category> categories() = 0;
  // Preconditions: canonical ids, quantities > 0, each product at most once, items not empty.
  virtual ReserveOutcome reserve(const std::string& order_id, const std::vector<ReservationItem>& items) = 0;
  virtual ReleaseOutcome release(const std::string& order_id) = 0;
};

class SqlProductRepository final : public ProductRepository {
 public:
  // The datasource must outlive the repository.
  explicit SqlProductRepository(db::Datasource& datasource);

  std::optional<Product> find(const std::string& id) override;
  ProductPage search(const CatalogueQuery& query) override;
  std::vector<Category> categories() override;
  ReserveOutcome reserve(const std::string& order_id, const std::vector<ReservationItem>& items) override;
  ReleaseOutcome release(const std::string& order_id) override;

 private:
  db::Datasource& datasource_;
};

}  // namespace mambogo::product
