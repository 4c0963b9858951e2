// mambogo-product as a real process on a real PostgreSQL 15 primary + streaming replica
// (tests/support/pg_cluster) with a real redis-server: the same catalogue and inventory rules
// as on SQLite, reads served by the replica, the planner's use of the seed's partial indexes
// (EXPLAIN of the very statements the service runs), and no oversell under concurrency with
// PostgreSQL's row locks.
#include <QtTest>

#include "pg_cluster.h"
#include "product_scenarios.h"
#include "product/catalogue_query.h"
#include "redis_server.h"
#include "runtime/db/datasource.h"

using namespace product_test;
using mambogo::product::generate_catalogue;

namespace {

std::vector<Product> stocked(const SeedCatalogue& seed) {
  std::vector<Product> out;
  for (const auto& p : seed.products)
    if (p.is_active && p.stock_quantity >= 20) out.push_back(p);
  return out;
}

mambogo::product::CatalogueQuery query_of(const std::string& target) {
  mambogo::runtime::Request r;
  r.target = target;
  return std::get<mambogo::product::CatalogueQuery>(mambogo::product::parse_catalogue_query(r));
}

std::string plan_of(mambogo::db::Connection& conn, const mambogo::product::Statement& s) {
  std::string plan;
  for (const auto& row : conn.query("EXPLAIN " + s.sql, s.params).rows) plan += row.text(0) + "\n";
  return plan;
}

}  // namespace

class TestProductPostgres : public QObject {
  Q_OBJECT

  std::unique_ptr<mambogo::testing::PgCluster> pg_;
  std::unique_ptr<mambogo::test::RedisServer> redis_;
  std::unique_ptr<ProductProcess> product_;
  std::unique_ptr<Client> client_;
  Tokens tokens_;
  const SeedCatalogue seed_ = generate_catalogue({});  // the default: 10 000 products
  const std::vector<Product> stocked_ = stocked(seed_);

  std::unique_ptr<mambogo::db::Connection> primary() {
    return mambogo::db::connection_factory(pg_->primary_conninfo())();
  }

 private slots:
  void initTestCase() {
    if (!mambogo::testing::PgCluster::available()) QSKIP("PostgreSQL 15 binaries are not installed");
    pg_ = std::make_unique<mambogo::testing::PgCluster>();
    redis_ = std::make_unique<mambogo::test::RedisServer>();
    product_ = std::make_unique<ProductProcess>(Env{
        {"DB_URL", QString::fromStdString(pg_->primary_conninfo())},
        {"DB_REPLICA_URL", QString::fromStdString(pg_->replica_conninfo())},
        // Routing, not lag, is under test here (tst_db_postgres covers the lag fallback): on a
        // busy machine the replica may trail the 10 000-row seed by more than the default 1 s.
        {"DB_REPLICA_MAX_LAG", "1h"},
        {"REDIS_URL", QString("redis://127.0.0.1:%1").arg(redis_->port())}});
    QVERIFY2(product_->wait_started() > 0, product_->log_tail().c_str());
    client_ = std::make_unique<Client>(product_->port());
    // The replica streams the seed in; the catalogue is complete once it has all of it.
    std::int64_t active = 0;
    for (const auto& p : seed_.products) active += p.is_active;
    QTRY_COMPARE_WITH_TIMEOUT(client_->get_json("/api/products?size=1").value("totalElements", std::int64_t(-1)), active, 60'000);
  }

  void catalogueFiltersSortsAndPagesExactlyAsSeeded() {
    auto conn = primary();
    const std::string collation = conn->query("SHOW lc_collate")[0].text(0);
    catalogue_matches_the_seed(*client_, seed_, collation == "C" || collation == "POSIX");
  }

  void catalogueReadsAreServedByTheReplica() {
    // Once the router has seen the replica healthy (its first lag check after a busy start
    // may still say "behind by an unknown time"), listings are read there.
    auto both_served_by_replica = [&] {
      const double before = client_->metric("db_route_total", {{"target", "replica"}, {"reason", "read"}});
      const bool ok = client_->get("/api/products?category=Books").status == 200 &&
                      client_->get("/api/categories").status == 200;
      return ok && client_->metric("db_route_total", {{"target", "replica"}, {"reason", "read"}}) >= before + 2;
    };
    QTRY_VERIFY_WITH_TIMEOUT(both_served_by_replica(), 30'000);
  }

  void badInputIsRefusedAndChangesNothing() {
    bad_input_is_refused_and_changes_nothing(*client_, tokens_, stocked_[0].id);
  }

  void inventoryNeedsTheServiceOrAdminRole() { inventory_needs_the_service_or_admin_role(*client_, tokens_); }

  void fiftyParallelReservationsOnStockTenGrantExactlyTen() {
    fifty_parallel_reservations_never_oversell(*client_, tokens_, stocked_[1].id);
    if (QTest::currentTestFailed()) return;
    auto conn = primary();
    QCOMPARE(conn->query("SELECT stock_quantity FROM products WHERE id = $1", {stocked_[1].id})[0].integer(0).value(),
             std::int64_t(0));
    QCOMPARE(conn->query("SELECT COUNT(*) FROM inventory_reservations WHERE product_id = $1 AND quantity = 1",
                         {stocked_[1].id})[0].integer(0).value(),
             std::int64_t(10));
  }

  void reservationsAreAtomicIdempotentAndReleasedOnce() {
    reservations_are_atomic_idempotent_and_released_once(*client_, tokens_, stocked_[2], stocked_[3]);
  }

  void theSameOrderSentTenTimesAtOnceReservesOnce() {
    same_order_in_parallel_reserves_once(*client_, tokens_, stocked_[4]);
  }

  void aStockChangeInvalidatesBothCacheLayers() {
    const Product& p = stocked_[5];
    QCOMPARE(client_->get("/api/products/" + p.id).header("x-cache"), std::string("DB"));
    QCOMPARE(client_->get("/api/products/" + p.id).header("x-cache"), std::string("L1"));
    QCOMPARE(redis_->query({"EXISTS", "product:" + p.id}), std::string("1"));
    QCOMPARE(client_->post("/api/inventory/reserve", reserve_body(new_order_id(), {{p.id, 1}}), tokens_.service()).status, 200);
    QCOMPARE(redis_->query({"EXISTS", "product:" + p.id}), std::string("0"));
    auto r = client_->get("/api/products/" + p.id);
    QCOMPARE(r.header("x-cache"), std::string("DB"));
    QCOMPARE(nlohmann::json::parse(r.body)["stockQuantity"].get<int>(), p.stock_quantity - 1);
  }

  void thePlannerUsesTheSeedsPartialIndexes() {
    auto conn = primary();
    // A selective price range among what is in stock: the partial index at default costs.
    auto s = mambogo::product::catalogue_statements(query_of("/api/products?inStock=true&minPrice=10&maxPrice=20"),
                                                    mambogo::db::Dialect::postgres);
    for (const auto* st : {&s.page, &s.count}) {
      const std::string plan = plan_of(*conn, *st);
      QVERIFY2(plan.find("idx_products_price_stock") != std::string::npos, plan.c_str());
    }
    // One category is 5 % of 10 000 rows on ~230 pages. With the default random_page_cost (4,
    // spinning disks) a sequential scan is honestly cheaper, and PostgreSQL takes it; with the
    // SSD setting (1.1, what a deployment on SSDs configures) it takes the partial index.
    conn->execute("SET random_page_cost = 1.1");
    const auto& toys = category_named(seed_, "Toys");
    for (const std::string& target : {"/api/products?category=" + toys.id, std::string("/api/products?category=Toys&sort=price,desc")}) {
      auto c = mambogo::product::catalogue_statements(query_of(target), mambogo::db::Dialect::postgres);
      for (const auto* st : {&c.page, &c.count}) {
        const std::string plan = plan_of(*conn, *st);
        QVERIFY2(plan.find("idx_products_active_category") != std::string::npos, (target + "\n" + plan).c_str());
      }
    }
  }

  void switchesNeedAnAdmin() { switches_need_an_admin(*client_, tokens_); }

  void withTheReplicaDownReadsFallBackToThePrimary() {
    pg_->stop_replica();
    QTRY_VERIFY_WITH_TIMEOUT(client_->get("/health/ready").body.find("DEGRADED") != std::string::npos, 20'000);
    QCOMPARE(client_->get("/health/ready").status, 200);
    auto r = client_->get("/api/products?category=Books&size=3");
    QCOMPARE(r.status, 200);
    QCOMPARE(nlohmann::json::parse(r.body)["content"].size(), std::size_t(3));
    QVERIFY(client_->metric("db_route_total", {{"target", "primary"}, {"reason", "fallback_down"}}) >= 1);
    pg_->start_replica();
    QTRY_VERIFY_WITH_TIMEOUT(client_->get("/health/ready").body.find("\"UP\"") != std::string::npos, 30'000);
  }

  void cleanupTestCase() {
    if (product_) QVERIFY2(product_->stop() == 0, product_->log_tail(40).c_str());
    product_.reset();
    redis_.reset();
    pg_.reset();
  }
};

QTEST_GUILESS_MAIN(TestProductPostgres)
#include "tst_product_postgres.moc"
