#include <QtTest>

#include <memory>
#include <thread>

#include "db_test_util.h"
#include "pg_cluster.h"
#include "runtime/clock.h"
#include "runtime/db/db_error.h"
#include "runtime/db/migrations.h"
#include "runtime/admin/settings.h"
#include "runtime/config.h"
#include "runtime/db/datasource.h"
#include "runtime/db/pg_connection.h"
#include "runtime/metrics.h"
#include "runtime/db/pool.h"
#include "runtime/db/replica_router.h"

using namespace mambogo::db;
using namespace std::chrono_literals;
using mambogo::runtime::Config;
using mambogo::runtime::Health;
using mambogo::runtime::HealthStatus;
using mambogo::runtime::MetricsRegistry;
using mambogo::runtime::RuntimeSettings;
using mambogo::testing::PgCluster;

namespace {
PoolOptions manual(const char* name, int max = 4) {
  PoolOptions o;
  o.name = name;
  o.maximum_pool_size = max;
  o.minimum_idle = 0;
  o.connection_timeout = 3s;
  o.background_housekeeping = false;
  return o;
}

// pg_terminate_backend only signals; wait until the backend is really gone.
void terminate(Connection& admin, int pid) {
  admin.query("SELECT pg_terminate_backend($1)", {std::int64_t{pid}});
  for (int i = 0; i < 500; ++i) {
    if (admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {std::int64_t{pid}})[0].integer(0) == 0)
      return;
    std::this_thread::sleep_for(10ms);
  }
  QFAIL("backend did not exit within 5 s");
}

bool in_recovery(Connection& c) { return c.query("SELECT pg_is_in_recovery()")[0].text(0) == "t"; }

// Polls until `done` holds; the replica applies a commit in about a millisecond here.
template <typename F>
bool eventually(F&& done, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}
}  // namespace

class TestPostgres : public QObject {
  Q_OBJECT
  std::unique_ptr<PgCluster> cluster_;
  mambogo::runtime::SystemClock clock_;

 private slots:
  void initTestCase() {
    if (!PgCluster::available()) QSKIP("PostgreSQL 15 binaries are not installed");
    cluster_ = std::make_unique<PgCluster>();
  }
  void cleanupTestCase() { cluster_.reset(); }

  void connectionRoundTripsParametersAndMapsErrors() {
    PgConnection c(cluster_->primary_conninfo());
    c.execute_script("DROP TABLE IF EXISTS kv; CREATE TABLE kv (k TEXT PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, t TEXT);");
    QCOMPARE(c.execute("INSERT INTO kv VALUES ($1, $2, $3, $4)", {"a", std::int64_t{42}, 2.5, nullptr}), 1);
    const Result r = c.query("SELECT k, n, r, t FROM kv WHERE k = $1", {"a"});
    QCOMPARE(r.columns, (std::vector<std::string>{"k", "n", "r", "t"}));
    QCOMPARE(r[0].integer(1), std::optional<std::int64_t>(42));
    QCOMPARE(r[0].text(2), std::string("2.5"));
    QVERIFY(r[0].is_null(3));
    try {
      c.execute("INSERT INTO kv VALUES ($1)", {"a"});
      QFAIL("duplicate accepted");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::unique_violation);
      QCOMPARE(e.code(), std::string("23505"));
    }
    try {
      c.execute("SELEC 1");
      QFAIL("syntax accepted");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::syntax);
    }
    QVERIFY(!c.is_broken());
    c.begin();
    c.execute("INSERT INTO kv (k) VALUES ('rolled back')");
    QVERIFY_THROWS_EXCEPTION(DbError, c.execute("INSERT INTO kv VALUES ($1)", {"a"}));
    c.rollback();  // after a failed statement only rollback is possible, as in PostgreSQL
    QCOMPARE(c.query("SELECT count(*) FROM kv")[0].integer(0), std::optional<std::int64_t>(1));
    QVERIFY(c.ping());
  }

  void writeOnPrimaryBecomesVisibleOnReplica() {
    PgConnection primary(cluster_->primary_conninfo());
    PgConnection replica(cluster_->replica_conninfo());
    QVERIFY(!in_recovery(primary));
    QVERIFY(in_recovery(replica));
    primary.execute_script("DROP TABLE IF EXISTS seen; CREATE TABLE seen (v INT);");
    primary.execute("INSERT INTO seen VALUES (7)");
    QVERIFY(eventually([&] {
      try {
        return replica.query("SELECT count(*) FROM seen WHERE v = 7")[0].integer(0) == 1;
      } catch (const DbError&) {
        return false;  // table not replayed yet
      }
    }));
    QVERIFY_THROWS_EXCEPTION(DbError, replica.execute("INSERT INTO seen VALUES (8)"));  // read-only
  }

  void terminatedBackendIsEvictedAndReplaced() {
    prometheus::Registry registry;
    ConnectionPool pool(manual("terminated"), pg_factory(cluster_->primary_conninfo()), clock_, &registry, nullptr);
    PgConnection admin(cluster_->primary_conninfo());
    {
      auto lease = pool.acquire();
      const int pid = static_cast<PgConnection&>(*lease).backend_pid();
      QVERIFY(pid > 0);
      terminate(admin, pid);
      try {
        lease->query("SELECT 1");
        QFAIL("a terminated backend answered");
      } catch (const DbError& e) {
        QCOMPARE(e.kind(), DbErrorKind::connection_lost);
      }
      QVERIFY(lease->is_broken());
    }
    QCOMPARE(pool.stats().evicted_broken, std::uint64_t(1));
    QCOMPARE(dbtest::metric(registry, "hikaricp_connections", {{"pool", "terminated"}}), 0.0);
    auto fresh = pool.acquire();
    QCOMPARE(fresh->query("SELECT 1")[0].integer(0), std::optional<std::int64_t>(1));
  }

  void terminatedIdleConnectionIsPingedAndNeverHandedOut() {
    mambogo::runtime::FakeClock clock;
    ConnectionPool pool(manual("idle-killed"), pg_factory(cluster_->primary_conninfo()), clock, nullptr, nullptr);
    PgConnection admin(cluster_->primary_conninfo());
    int pid = 0;
    {
      auto lease = pool.acquire();
      pid = static_cast<PgConnection&>(*lease).backend_pid();
    }
    terminate(admin, pid);
    clock.advance(1s);  // idle past the 500 ms alive-bypass window: validated before handout
    auto lease = pool.acquire();
    QVERIFY(static_cast<PgConnection&>(*lease).backend_pid() != pid);
    QCOMPARE(lease->query("SELECT 1")[0].integer(0), std::optional<std::int64_t>(1));
    QCOMPARE(pool.stats().evicted_broken, std::uint64_t(1));
  }

  void routerSendsReadsToReplicaAndWritesToPrimary() {
    prometheus::Registry registry;
    ConnectionPool primary(manual("primary"), pg_factory(cluster_->primary_conninfo()), clock_, &registry, nullptr);
    ConnectionPool replica(manual("replica"), pg_factory(cluster_->replica_conninfo()), clock_, &registry, nullptr);
    ReplicaRouterOptions o;
    o.background_lag_check = false;
    o.max_lag = 5s;
    ReplicaRouter router(primary, &replica, o, &registry, nullptr);
    QVERIFY(router.replica_state().up);
    {
      auto read = router.for_read();
      QCOMPARE(read.target, RouteTarget::replica);
      QVERIFY(in_recovery(*read));
    }
    {
      auto write = router.for_write();
      QCOMPARE(write.reason, RouteReason::write);
      QVERIFY(!in_recovery(*write));
    }
    {
      auto ryw = router.for_read_your_write();
      QCOMPARE(ryw.target, RouteTarget::primary);
      QVERIFY(!in_recovery(*ryw));
    }
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "replica"}, {"reason", "read"}}), 1.0);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "write"}}), 1.0);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "read_your_write"}}), 1.0);
    QCOMPARE(router.health().status, HealthStatus::up);
  }

  void datasourceFromConfigurationRoutesAndSwitchesAtRunTime() {
    // What a service gets from DB_URL + DB_REPLICA_URL: migrated primary, reads on the
    // replica, and the db.read-routing switch sending them back to the primary.
    Config config({"DB_URL=" + cluster_->primary_conninfo(), "DB_REPLICA_URL=" + cluster_->replica_conninfo(),
                   "DB_POOL_MIN_IDLE=0", "DB_REPLICA_MAX_LAG=30s"},
                  {});
    const auto settings = read_datasource_settings(config, "ds-test");
    config.finish();
    MetricsRegistry metrics;
    Health health;
    RuntimeSettings switches(&metrics);
    const std::vector<Migration> migrations{{1, "t", "CREATE TABLE ds_t (v INTEGER)", "CREATE TABLE ds_t (v INTEGER)"}};
    Datasource ds(settings, migrations, &metrics, nullptr, &health, &switches);
    QCOMPARE(ds.dialect(), Dialect::postgres);
    QCOMPARE(ds.migration().current_version, 1);
    {
      auto read = ds.read();
      QCOMPARE(read.target, RouteTarget::replica);
      QVERIFY(in_recovery(*read));
    }
    QVERIFY(switches.apply({{"db.read-routing", false}, {"db.pool.max-size", 4}}).ok);
    {
      auto read = ds.read();
      QCOMPARE(read.target, RouteTarget::primary);
      QCOMPARE(read.reason, RouteReason::routing_off);
    }
    QCOMPARE(ds.primary().maximum_pool_size(), 4);
    QCOMPARE(ds.replica()->maximum_pool_size(), 4);
    QCOMPARE(dbtest::metric(metrics.registry(), "db_route_total", {{"target", "primary"}, {"reason", "routing_off"}}), 1.0);
    QCOMPARE(health.readiness(), HealthStatus::up);
    QVERIFY(health.details().dump().find("db-replica") != std::string::npos);
  }

  void laggingReplicaFallsBackToPrimary() {
    prometheus::Registry registry;
    ConnectionPool primary(manual("primary"), pg_factory(cluster_->primary_conninfo()), clock_, &registry, nullptr);
    ConnectionPool replica(manual("replica"), pg_factory(cluster_->replica_conninfo()), clock_, &registry, nullptr);
    ReplicaRouterOptions o;
    o.background_lag_check = false;
    o.max_lag = 0ms;  // any measurable lag sends reads to the primary
    ReplicaRouter router(primary, &replica, o, &registry, nullptr);
    PgConnection writer(cluster_->primary_conninfo());
    PgConnection standby(cluster_->replica_conninfo());
    writer.execute_script("DROP TABLE IF EXISTS lagged; CREATE TABLE lagged (v INT);");
    // Caught up: zero lag, reads on the replica even with a zero limit.
    QVERIFY(eventually([&] { router.measure_lag(); return router.replica_state().lag_seconds == 0.0; }));
    QCOMPARE(router.for_read().target, RouteTarget::replica);
    // Real lag: pause WAL replay on the standby, then commit on the primary.
    standby.query("SELECT pg_wal_replay_pause()");
    QVERIFY(eventually([&] { return standby.query("SELECT pg_get_wal_replay_pause_state()")[0].text(0) == "paused"; }));
    writer.execute("INSERT INTO lagged VALUES (1)");
    std::this_thread::sleep_for(20ms);
    router.measure_lag();
    const double lag = router.replica_state().lag_seconds;
    standby.query("SELECT pg_wal_replay_resume()");
    QVERIFY2(lag > 0, std::to_string(lag).c_str());
    QVERIFY(dbtest::metric(registry, "db_replica_lag_seconds") > 0);
    QCOMPARE(router.for_read().reason, RouteReason::fallback_lag);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "fallback_lag"}}), 1.0);
    QCOMPARE(router.health().status, HealthStatus::degraded);
    // Replay resumed: caught up again, back to the replica.
    QVERIFY(eventually([&] { router.measure_lag(); return router.replica_state().lag_seconds == 0.0; }));
    QCOMPARE(router.for_read().target, RouteTarget::replica);
  }

  void stoppedReplicaFallsBackAndHealthIsDegraded() {
    prometheus::Registry registry;
    ConnectionPool primary(manual("primary"), pg_factory(cluster_->primary_conninfo()), clock_, &registry, nullptr);
    ConnectionPool replica(manual("replica"), pg_factory(cluster_->replica_conninfo()), clock_, &registry, nullptr);
    ReplicaRouterOptions o;
    o.background_lag_check = false;
    o.max_lag = 5s;
    ReplicaRouter router(primary, &replica, o, &registry, nullptr);
    QCOMPARE(router.for_read().target, RouteTarget::replica);  // leaves an idle replica connection

    cluster_->stop_replica();
    router.measure_lag();  // the periodic check finds it gone
    QVERIFY(!router.replica_state().up);
    QCOMPARE(dbtest::metric(registry, "db_replica_up"), 0.0);
    {
      auto read = router.for_read();
      QCOMPARE(read.target, RouteTarget::primary);
      QCOMPARE(read.reason, RouteReason::fallback_down);
      QCOMPARE(read->query("SELECT 1")[0].integer(0), std::optional<std::int64_t>(1));
    }
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "fallback_down"}}), 1.0);
    const auto health = router.health();
    QCOMPARE(health.status, HealthStatus::degraded);  // reads still served: degraded, not down
    QCOMPARE(health.details["replicaUp"].get<bool>(), false);
    QCOMPARE(replica.stats().total, 0);  // the broken connection was evicted, not kept

    cluster_->start_replica();
    QVERIFY(eventually([&] { router.measure_lag(); return router.replica_state().up; }, 10s));
    QCOMPARE(router.for_read().target, RouteTarget::replica);
    QCOMPARE(router.health().status, HealthStatus::up);
  }

  void migrationsApplyOnceRefuseNewerAndThePartialIndexIsUsed() {
    const std::vector<Migration> schema = {
        {1, "items", "-",
         "CREATE TABLE items (id BIGINT PRIMARY KEY, category TEXT NOT NULL, is_active BOOLEAN NOT NULL,"
         " price BIGINT NOT NULL);"},
        {2, "active items by category (partial index)", "-",
         "CREATE INDEX idx_items_active_category ON items (category) WHERE is_active;"},
    };
    PgConnection c(cluster_->primary_conninfo());
    c.execute_script("DROP TABLE IF EXISTS items, schema_version;");
    QCOMPARE(migrate(c, schema).applied, (std::vector<int>{1, 2}));
    PgConnection restarted(cluster_->primary_conninfo());
    QVERIFY(migrate(restarted, schema).applied.empty());
    QCOMPARE(schema_version(restarted), 2);
    QVERIFY_THROWS_EXCEPTION(SchemaTooNewError, migrate(restarted, {schema[0]}));

    // 20 000 rows, 5 % active, 20 categories, analysed: the planner picks the partial index
    // on its own (no enable_seqscan tricks needed at this size).
    c.execute("INSERT INTO items SELECT g, 'cat' || (g % 20), g % 20 = 0 OR g % 100 = 3, g FROM generate_series(1, 20000) g");
    c.execute("ANALYZE items");
    const Result plan = c.query("EXPLAIN SELECT id FROM items WHERE category = 'cat3' AND is_active");
    std::string text;
    for (const Row& r : plan.rows) text += r.text(0) + "\n";
    QVERIFY2(text.find("idx_items_active_category") != std::string::npos, text.c_str());
  }
};

QTEST_APPLESS_MAIN(TestPostgres)
#include "tst_db_postgres.moc"
