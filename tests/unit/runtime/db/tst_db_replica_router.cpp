#include <QtTest>

#include <limits>

#include "db_test_util.h"
#include "runtime/clock.h"
#include "runtime/db/replica_router.h"
#include "runtime/db/sqlite_connection.h"

using namespace mambogo::db;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(Access)
Q_DECLARE_METATYPE(RouteTarget)
Q_DECLARE_METATYPE(RouteReason)

class TestReplicaRouter : public QObject {
  Q_OBJECT
 private slots:
  void routesByAccessAndReplicaState_data() {
    QTest::addColumn<Access>("access");
    QTest::addColumn<bool>("configured");
    QTest::addColumn<bool>("up");
    QTest::addColumn<double>("lag");
    QTest::addColumn<RouteTarget>("target");
    QTest::addColumn<RouteReason>("reason");
    const auto P = RouteTarget::primary;
    const auto R = RouteTarget::replica;
    const double inf = std::numeric_limits<double>::infinity();
    QTest::newRow("write") << Access::write << true << true << 0.0 << P << RouteReason::write;
    QTest::newRow("read-your-write") << Access::read_your_write << true << true << 0.0 << P << RouteReason::read_your_write;
    QTest::newRow("read, healthy replica") << Access::read << true << true << 0.2 << R << RouteReason::read;
    QTest::newRow("read, lag at limit") << Access::read << true << true << 1.0 << R << RouteReason::read;
    QTest::newRow("read, lag over limit") << Access::read << true << true << 1.5 << P << RouteReason::fallback_lag;
    QTest::newRow("read, lag unknown") << Access::read << true << true << inf << P << RouteReason::fallback_lag;
    QTest::newRow("read, replica down") << Access::read << true << false << 0.0 << P << RouteReason::fallback_down;
    QTest::newRow("read, no replica") << Access::read << false << false << 0.0 << P << RouteReason::read;
    QTest::newRow("write, no replica") << Access::write << false << false << 0.0 << P << RouteReason::write;
  }
  void routesByAccessAndReplicaState() {
    QFETCH(Access, access);
    QFETCH(bool, configured);
    QFETCH(bool, up);
    QFETCH(double, lag);
    QFETCH(RouteTarget, target);
    QFETCH(RouteReason, reason);
    ReplicaState s;
    s.configured = configured;
    s.up = up;
    s.lag_seconds = lag;
    const RouteDecision d = decide_route(access, s, 1s);
    QCOMPARE(d.target, target);
    QCOMPARE(d.reason, reason);
  }

  void withoutReplicaEverythingGoesToTheOnePool() {
    mambogo::runtime::SystemClock clock;
    prometheus::Registry registry;
    PoolOptions o;
    o.name = "sqlite";
    o.background_housekeeping = false;
    ConnectionPool pool(o, sqlite_factory({":memory:"}), clock, &registry, nullptr);
    ReplicaRouter router(pool, nullptr, {}, &registry, nullptr);
    QCOMPARE(router.for_write().target, RouteTarget::primary);
    auto read = router.for_read();
    QCOMPARE(read.target, RouteTarget::primary);
    QCOMPARE(read.reason, RouteReason::read);
    QCOMPARE(read->query("SELECT 1")[0].integer(0), std::optional<std::int64_t>(1));
    read.lease.release();
    QCOMPARE(router.for_read_your_write().reason, RouteReason::read_your_write);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "read"}}), 1.0);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "primary"}, {"reason", "write"}}), 1.0);
    QCOMPARE(dbtest::metric(registry, "db_route_total", {{"target", "replica"}, {"reason", "read"}}), 0.0);
    QCOMPARE(router.health().status, mambogo::runtime::HealthStatus::up);
  }
};

QTEST_APPLESS_MAIN(TestReplicaRouter)
#include "tst_db_replica_router.moc"
