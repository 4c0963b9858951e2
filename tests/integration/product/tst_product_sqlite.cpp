// mambogo-product as a real process on its embedded default, SQLite, with a real
// redis-server as L2: the catalogue against the seed oracle, bad input, inventory rules under
// concurrency, the three cache layers and their switches, Redis outages, the planner's use of
// the seed's indexes, restarts, and start-up configuration.
#include <QtTest>

#include "product_scenarios.h"
#include "product/catalogue_query.h"
#include "redis_server.h"
#include "runtime/db/sqlite_connection.h"

using namespace product_test;
using mambogo::product::generate_catalogue;
using mambogo::product::SeedOptions;

namespace {

constexpr int kSeedCount = 2000;

SeedOptions seed_options(int count) {
  SeedOptions o;
  o.products = count;
  return o;
}

// Active products with plenty of stock, in catalogue order: each test takes its own.
std::vector<Product> stocked(const SeedCatalogue& seed) {
  std::vector<Product> out;
  for (const auto& p : seed.products)
    if (p.is_active && p.stock_quantity >= 20) out.push_back(p);
  return out;
}

std::string plan_of(mambogo::db::Connection& conn, const mambogo::product::Statement& s) {
  std::string plan;
  for (const auto& row : conn.query("EXPLAIN QUERY PLAN " + s.sql, s.params).rows) plan += row.text(3) + "\n";
  return plan;
}

mambogo::product::CatalogueQuery query_of(const std::string& target) {
  mambogo::runtime::Request r;
  r.target = target;
  return std::get<mambogo::product::CatalogueQuery>(mambogo::product::parse_catalogue_query(r));
}

}  // namespace

class TestProductSqlite : public QObject {
  Q_OBJECT

  std::unique_ptr<mambogo::test::RedisServer> redis_;
  std::unique_ptr<ProductProcess> product_;
  std::unique_ptr<Client> client_;
  Tokens tokens_;
  const SeedCatalogue seed_ = generate_catalogue(seed_options(kSeedCount));
  const std::vector<Product> stocked_ = stocked(seed_);

  std::string x_cache(const std::string& id) { return client_->get("/api/products/" + id).header("x-cache"); }

 private slots:
  void initTestCase() {
    redis_ = std::make_unique<mambogo::test::RedisServer>();
    product_ = std::make_unique<ProductProcess>(Env{
        {"REDIS_URL", QString("redis://127.0.0.1:%1").arg(redis_->port())},
        {"PRODUCT_SEED_COUNT", QString::number(kSeedCount)}});
    QVERIFY2(product_->wait_started() > 0, product_->log_tail().c_str());
    client_ = std::make_unique<Client>(product_->port());
  }

  void catalogueFiltersSortsAndPagesExactlyAsSeeded() { catalogue_matches_the_seed(*client_, seed_, true); }

  void badInputIsRefusedAndChangesNothing() {
    bad_input_is_refused_and_changes_nothing(*client_, tokens_, stocked_[0].id);
  }

  void inventoryNeedsTheServiceOrAdminRole() { inventory_needs_the_service_or_admin_role(*client_, tokens_); }

  void fiftyParallelReservationsOnStockTenGrantExactlyTen() {
    fifty_parallel_reservations_never_oversell(*client_, tokens_, stocked_[1].id);
    if (QTest::currentTestFailed()) return;
    // The database agrees: 0 left, ten one-unit reservations plus the filler.
    mambogo::db::SqliteConnection conn({(product_->data_dir() + "/product.db").toStdString()});
    QCOMPARE(conn.query("SELECT stock_quantity FROM products WHERE id = $1", {stocked_[1].id})[0].integer(0).value(),
             std::int64_t(0));
    QCOMPARE(conn.query("SELECT COUNT(*) FROM inventory_reservations WHERE product_id = $1 AND quantity = 1",
                        {stocked_[1].id})[0].integer(0).value(),
             std::int64_t(10));
  }

  void reservationsAreAtomicIdempotentAndReleasedOnce() {
    reservations_are_atomic_idempotent_and_released_once(*client_, tokens_, stocked_[2], stocked_[3]);
  }

  void theSameOrderSentTenTimesAtOnceReservesOnce() {
    same_order_in_parallel_reserves_once(*client_, tokens_, stocked_[7]);
  }

  void cacheLayersAnswerInTurnAndAStockChangeInvalidatesBoth() {
    const Product& p = stocked_[4];
    const std::string key = "product:" + p.id;
    QCOMPARE(x_cache(p.id), std::string("DB"));
    QCOMPARE(x_cache(p.id), std::string("L1"));
    QCOMPARE(redis_->query({"EXISTS", key}), std::string("1"));
    const long long ttl = std::stoll(redis_->query({"PTTL", key}));
    QVERIFY2(ttl > 29 * 60'000 && ttl <= 30 * 60'000, std::to_string(ttl).c_str());

    const std::string admin = tokens_.admin();
    QCOMPARE(client_->set({{"cache.l1.enabled", false}}, admin).status, 200);
    QCOMPARE(x_cache(p.id), std::string("L2"));
    QCOMPARE(x_cache(p.id), std::string("L2"));
    QCOMPARE(client_->set({{"cache.l2.enabled", false}}, admin).status, 200);
    QCOMPARE(x_cache(p.id), std::string("DB"));
    QCOMPARE(x_cache(p.id), std::string("DB"));
    QCOMPARE(client_->set({{"cache.l1.enabled", true}, {"cache.l2.enabled", true}}, admin).status, 200);
    QCOMPARE(x_cache(p.id), std::string("L2"));  // L1 restarted cold; Redis kept the entry
    QCOMPARE(x_cache(p.id), std::string("L1"));

    const int stock = client_->get_json("/api/products/" + p.id)["stockQuantity"].get<int>();
    QCOMPARE(client_->post("/api/inventory/reserve", reserve_body(new_order_id(), {{p.id, 3}}), tokens_.service()).status,
             200);
    QCOMPARE(redis_->query({"EXISTS", key}), std::string("0"));
    auto fresh = client_->get("/api/products/" + p.id);
    QCOMPARE(fresh.header("x-cache"), std::string("DB"));
    QCOMPARE(nlohmann::json::parse(fresh.body)["stockQuantity"].get<int>(), stock - 3);
    auto cached = client_->get("/api/products/" + p.id);
    QCOMPARE(cached.header("x-cache"), std::string("L1"));
    QCOMPARE(cached.body, fresh.body);
    QCOMPARE(redis_->query({"EXISTS", key}), std::string("1"));
  }

  void switchesNeedAnAdmin() { switches_need_an_admin(*client_, tokens_); }

  void thePlannerUsesTheSeedsPartialIndexes() {
    mambogo::db::SqliteConnection conn({(product_->data_dir() + "/product.db").toStdString()});
    const auto& toys = category_named(seed_, "Toys");
    for (const std::string& target : {"/api/products?category=" + toys.id, std::string("/api/products?category=Toys&sort=price,desc")}) {
      auto s = mambogo::product::catalogue_statements(query_of(target), mambogo::db::Dialect::sqlite);
      for (const auto* st : {&s.page, &s.count}) {
        const std::string plan = plan_of(conn, *st);
        QVERIFY2(plan.find("idx_products_active_category") != std::string::npos, (target + "\n" + plan).c_str());
      }
    }
    auto s = mambogo::product::catalogue_statements(query_of("/api/products?inStock=true&minPrice=10&maxPrice=20"),
                                                    mambogo::db::Dialect::sqlite);
    for (const auto* st : {&s.page, &s.count}) {
      const std::string plan = plan_of(conn, *st);
      QVERIFY2(plan.find("idx_products_price_stock") != std::string::npos, plan.c_str());
    }
  }

  void metricsCountReservationsAndCacheGets() {
    auto at_least = [&](const std::string& name, const std::map<std::string, std::string>& labels, double min) {
      const double v = client_->metric(name, labels);
      QVERIFY2(v >= min, (name + " = " + std::to_string(v)).c_str());
    };
    at_least("inventory_reservations_total", {{"result", "reserved"}}, 12);
    at_least("inventory_reservations_total", {{"result", "insufficient_stock"}}, 41);
    at_least("inventory_reservations_total", {{"result", "unknown_product"}}, 2);
    at_least("inventory_reservations_total", {{"result", "replayed"}}, 3);
    at_least("inventory_reservation_time_seconds_count", {}, 50);
    at_least("inventory_reservation_time_seconds_bucket", {{"le", "+Inf"}}, 50);
    at_least("cache_gets_total", {{"cache", "products"}, {"layer", "l1"}, {"result", "hit"}}, 1);
    at_least("cache_gets_total", {{"cache", "products"}, {"layer", "l2"}, {"result", "hit"}}, 1);
    at_least("cache_loads_total", {{"cache", "products"}, {"result", "found"}}, 1);
    at_least("cache_loads_total", {{"cache", "products"}, {"result", "not_found"}}, 1);
    at_least("mambogo_setting", {{"setting", "cache.l1.enabled"}}, 1);
  }

  void redisDownStillServesAndReadinessSaysDegradedNotDown() {
    const Product& p = stocked_[5];
    redis_->stop();
    auto r = client_->get("/api/products/" + p.id);
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("x-cache"), std::string("DB"));
    QCOMPARE(x_cache(p.id), std::string("L1"));
    QCOMPARE(client_->post("/api/inventory/reserve", reserve_body(new_order_id(), {{p.id, 1}}), tokens_.service()).status, 200);
    QCOMPARE(client_->get_json("/api/products/" + p.id)["stockQuantity"].get<int>(), p.stock_quantity - 1);
    QCOMPARE(client_->get("/api/products?size=5").status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(client_->get("/health/ready").body.find("DEGRADED") != std::string::npos, 20'000);
    QCOMPARE(client_->get("/health/ready").status, 200);
    auto health = client_->get_json("/health");
    QCOMPARE(health["components"]["redis"]["status"].get<std::string>(), std::string("DEGRADED"));
    QVERIFY(client_->metric("cache_bypass_total", {{"cache", "products"}, {"layer", "l2"}, {"reason", "unavailable"}}) >= 1);

    redis_->start();
    QTRY_VERIFY_WITH_TIMEOUT(client_->get("/health/ready").body.find("\"UP\"") != std::string::npos, 30'000);
    const Product& q = stocked_[6];
    QCOMPARE(x_cache(q.id), std::string("DB"));
    QCOMPARE(redis_->query({"EXISTS", "product:" + q.id}), std::string("1"));  // L2 is written again
  }

  void aRestartKeepsStockAndReservationsAndDoesNotReseed() {
    auto first = std::make_unique<ProductProcess>(Env{{"PRODUCT_SEED_COUNT", "50"}});
    QVERIFY2(first->wait_started() > 0, first->log_tail().c_str());
    const auto small = generate_catalogue(seed_options(50));
    const Product p = stocked(small).front();
    const std::string order = new_order_id();
    Client a(first->port());
    const auto answer = a.post("/api/inventory/reserve", reserve_body(order, {{p.id, 4}}), tokens_.service());
    QCOMPARE(answer.status, 200);
    QCOMPARE(first->stop(), 0);  // SIGTERM: drained, exit 0

    ProductProcess second(Env{{"PRODUCT_SEED_COUNT", "50"}, {"DATA_DIR", first->data_dir()}});
    QVERIFY2(second.wait_started() > 0, second.log_tail().c_str());
    Client b(second.port());
    QCOMPARE(b.get_json("/api/products/" + p.id)["stockQuantity"].get<int>(), p.stock_quantity - 4);
    QCOMPARE(b.post("/api/inventory/reserve", reserve_body(order, {{p.id, 4}}), tokens_.service()).body, answer.body);
    QCOMPARE(b.get_json("/api/products/" + p.id)["stockQuantity"].get<int>(), p.stock_quantity - 4);
    bool reseeded = false;
    for (const auto& line : second.log_lines()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("msg", "") == "catalogue seeded") reseeded = j["inserted"].get<int>() != 0;
    }
    QVERIFY(!reseeded);
  }

  void withoutPublicReadTheCatalogueNeedsAToken() {
    ProductProcess closed(Env{{"PRODUCT_PUBLIC_READ", "false"}, {"PRODUCT_SEED_COUNT", "10"}});
    QVERIFY2(closed.wait_started() > 0, closed.log_tail().c_str());
    Client c(closed.port());
    const std::string id = generate_catalogue(seed_options(10)).products[0].id;
    for (const std::string& target : {std::string("/api/products"), "/api/products/" + id, std::string("/api/categories")}) {
      expect_error(c.get(target), 401, "unauthorized");
      QCOMPARE(c.get(target, tokens_.user()).status, 200);
    }
    QCOMPARE(c.get("/health/ready").status, 200);  // probes never need a token
  }

  void aSeedCountOfZeroStartsWithAnEmptyCatalogue() {
    ProductProcess empty(Env{{"PRODUCT_SEED_COUNT", "0"}});
    QVERIFY2(empty.wait_started() > 0, empty.log_tail().c_str());
    Client c(empty.port());
    QCOMPARE(c.get_json("/api/products")["totalElements"].get<int>(), 0);
    QCOMPARE(c.get_json("/api/categories").size(), std::size_t(0));
  }

  void badConfigurationStopsTheStartNamingTheVariable_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::newRow("negative seed count") << "PRODUCT_SEED_COUNT" << "-5";
    QTest::newRow("public read not a bool") << "PRODUCT_PUBLIC_READ" << "perhaps";
    QTest::newRow("no keys") << "AUTH_HS256_SECRET" << "";
    QTest::newRow("short secret") << "AUTH_HS256_SECRET" << "short";
  }
  void badConfigurationStopsTheStartNamingTheVariable() {
    QFETCH(QString, name);
    QFETCH(QString, value);
    ProductProcess bad(Env{{name, value}});
    QCOMPARE(bad.wait_started(std::chrono::seconds(30)), 0);
    QCOMPARE(bad.process().exitCode(), 2);
    const std::string log = bad.log_tail();
    QVERIFY2(log.find(name == "AUTH_HS256_SECRET" && value.isEmpty() ? "AUTH_KEYS_FILE" : name.toStdString()) != std::string::npos,
             log.c_str());
  }

  void helpListsTheVariablesWithPort8081AsTheDefault() {
    QProcess help;
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.remove("SERVER_PORT");
    help.setProcessEnvironment(e);
    help.start(MAMBOGO_PRODUCT_BINARY, {"--help"});
    QVERIFY(help.waitForFinished(30'000));
    QCOMPARE(help.exitCode(), 0);
    const QString out = help.readAllStandardOutput();
    QVERIFY2(out.contains("SERVER_PORT = 8081"), qPrintable(out));
    for (const char* v : {"PRODUCT_PUBLIC_READ", "PRODUCT_SEED_COUNT", "DB_URL", "REDIS_URL", "AUTH_HS256_SECRET"})
      QVERIFY2(out.contains(v), v);
  }

  void cleanupTestCase() {
    if (product_) QVERIFY2(product_->stop() == 0, product_->log_tail(40).c_str());
  }
};

QTEST_GUILESS_MAIN(TestProductSqlite)
#include "tst_product_sqlite.moc"
