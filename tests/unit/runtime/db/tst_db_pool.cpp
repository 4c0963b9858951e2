#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <future>
#include <thread>

#include "db_test_util.h"
#include "runtime/clock.h"
#include "runtime/db/db_error.h"
#include "runtime/db/pool.h"
#include "runtime/db/sqlite_connection.h"

using namespace mambogo::db;
using namespace std::chrono_literals;
using mambogo::runtime::FakeClock;
using mambogo::runtime::HealthStatus;

namespace {

// Switchable faults shared by every connection a factory makes.
struct Faults {
  std::atomic<bool> lose_connection{false};  // the next statement fails, connection marked broken
  std::atomic<bool> ping_fails{false};       // ping() answers false (and marks broken)
  std::atomic<bool> refuse_connect{false};   // the factory throws connection_lost
};

// A decorator over a real SQLite connection that fails on command (the pool's view of a
// server that went away). Counts are the pool's business; this only breaks things.
class FlakyConnection final : public Connection {
 public:
  FlakyConnection(std::unique_ptr<Connection> inner, Faults& faults) : inner_(std::move(inner)), faults_(faults) {}
  Dialect dialect() const override { return inner_->dialect(); }
  std::int64_t execute(std::string_view sql, const Params& p) override { check(); return inner_->execute(sql, p); }
  Result query(std::string_view sql, const Params& p) override { check(); return inner_->query(sql, p); }
  void execute_script(std::string_view sql) override { check(); inner_->execute_script(sql); }
  void begin() override { check(); inner_->begin(); }
  void commit() override { check(); inner_->commit(); }
  void rollback() override { check(); inner_->rollback(); }
  bool in_transaction() const override { return !broken_ && inner_->in_transaction(); }
  bool ping() noexcept override {
    if (broken_ || faults_.ping_fails) return !(broken_ = true);
    return inner_->ping();
  }
  bool is_broken() const noexcept override { return broken_; }
  bool last_operation_failed() const noexcept override { return failed_ || inner_->last_operation_failed(); }

 private:
  void check() {
    failed_ = false;
    if (broken_ || faults_.lose_connection) {
      broken_ = failed_ = true;
      throw DbError(DbErrorKind::connection_lost, "simulated: server closed the connection");
    }
  }
  std::unique_ptr<Connection> inner_;
  Faults& faults_;
  bool broken_ = false;
  bool failed_ = false;
};

}  // namespace

class TestConnectionPool : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  Faults faults_;
  FakeClock clock_;
  prometheus::Registry registry_;

  ConnectionFactory factory() {
    auto inner = sqlite_factory({dir_.filePath("pool.db").toStdString()});
    return [this, inner]() -> std::unique_ptr<Connection> {
      if (faults_.refuse_connect) throw DbError(DbErrorKind::connection_lost, "simulated: connection refused");
      return std::make_unique<FlakyConnection>(inner(), faults_);
    };
  }
  // Manual housekeeping: the test decides when time passes and when the housekeeper runs.
  PoolOptions options(int max, int min_idle) {
    PoolOptions o;
    o.name = QTest::currentTestFunction();
    o.maximum_pool_size = max;
    o.minimum_idle = min_idle;
    o.background_housekeeping = false;
    return o;
  }
  double metric(const char* name) {
    return dbtest::metric(registry_, name, {{"pool", QTest::currentTestFunction()}});
  }

 private slots:
  void init() {
    faults_.lose_connection = faults_.ping_fails = faults_.refuse_connect = false;
  }

  void defaultsAreTheSeedsHikariSettings() {
    const PoolOptions o;
    QCOMPARE(o.maximum_pool_size, 20);
    QCOMPARE(o.minimum_idle, 5);
    QCOMPARE(o.connection_timeout, 30s);
    QCOMPARE(o.idle_timeout, 10min);
    QCOMPARE(o.max_lifetime, 30min);
    QCOMPARE(o.leak_detection_threshold, 60s);
    QCOMPARE(o.alive_bypass_window, 500ms);
  }

  void returnedConnectionIsReused() {
    ConnectionPool pool(options(4, 0), factory(), clock_, &registry_, nullptr);
    Connection* first = nullptr;
    {
      auto lease = pool.acquire();
      first = lease.get();
      lease->execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)");
    }
    for (int i = 0; i < 5; ++i) {
      auto lease = pool.acquire();
      QCOMPARE(lease.get(), first);
    }
    QCOMPARE(pool.stats().created, std::uint64_t(1));
    QCOMPARE(metric("hikaricp_connections"), 1.0);
    QCOMPARE(metric("hikaricp_connections_idle"), 1.0);
    QCOMPARE(metric("hikaricp_connections_acquire_seconds"), 6.0);
    QCOMPARE(metric("hikaricp_connections_usage_seconds"), 6.0);
    QCOMPARE(metric("hikaricp_connections_creation_seconds"), 1.0);
    QCOMPARE(metric("hikaricp_connections_max"), 4.0);
    QCOMPARE(metric("hikaricp_connections_min"), 0.0);
  }

  void handsOutAtMostMaximumThenTimesOutWithPendingVisible() {
    auto o = options(2, 0);
    o.connection_timeout = 400ms;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    auto a = pool.acquire();
    auto b = pool.acquire();
    QCOMPARE(metric("hikaricp_connections_active"), 2.0);
    auto waiter = std::async(std::launch::async, [&] { return pool.acquire(); });
    QTRY_COMPARE_WITH_TIMEOUT(metric("hikaricp_connections_pending"), 1.0, 2000);
    QCOMPARE(pool.health().status, HealthStatus::degraded);  // saturated, callers waiting
    const auto started = std::chrono::steady_clock::now();
    try {
      waiter.get();
      QFAIL("acquire did not time out");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::timeout);
      QVERIFY2(std::string(e.what()).find("timed out after 400 ms") != std::string::npos, e.what());
    }
    QVERIFY(std::chrono::steady_clock::now() - started < 2s);
    QCOMPARE(metric("hikaricp_connections_pending"), 0.0);
    QCOMPARE(metric("hikaricp_connections_timeout_total"), 1.0);
    QCOMPARE(pool.stats().total, 2);
    QCOMPARE(pool.stats().timeouts, std::uint64_t(1));
  }

  void waiterGetsTheReturnedConnection() {
    ConnectionPool pool(options(1, 0), factory(), clock_, &registry_, nullptr);
    auto held = pool.acquire();
    Connection* only = held.get();
    auto waiter = std::async(std::launch::async, [&] { return pool.acquire(5s); });
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().pending, 1, 2000);
    held.release();
    auto got = waiter.get();
    QCOMPARE(got.get(), only);
    QCOMPARE(pool.stats().created, std::uint64_t(1));
    QCOMPARE(pool.stats().pending, 0);
  }

  void concurrentCallersNeverExceedMaximum() {
    auto o = options(3, 0);
    o.connection_timeout = 10s;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    std::atomic<int> in_use{0}, peak{0}, done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 40; ++i) {
          auto lease = pool.acquire();
          const int now = ++in_use;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          lease->query("SELECT 1");
          --in_use;
        }
        ++done;
      });
    for (auto& t : threads) t.join();
    QCOMPARE(done.load(), 8);
    QVERIFY(peak.load() <= 3);
    QVERIFY(pool.stats().created <= 3);
    QCOMPARE(pool.stats().active, 0);
    QCOMPARE(metric("hikaricp_connections_acquire_seconds"), 320.0);
  }

  void brokenConnectionIsEvictedAndReplaced() {
    ConnectionPool pool(options(2, 0), factory(), clock_, &registry_, nullptr);
    Connection* broken = nullptr;
    {
      auto lease = pool.acquire();
      broken = lease.get();
      faults_.lose_connection = true;
      try {
        lease->query("SELECT 1");
        QFAIL("no failure");
      } catch (const DbError& e) {
        QCOMPARE(e.kind(), DbErrorKind::connection_lost);
      }
      faults_.lose_connection = false;
    }
    QCOMPARE(pool.stats().evicted_broken, std::uint64_t(1));
    QCOMPARE(pool.stats().total, 0);
    QCOMPARE(metric("hikaricp_connections"), 0.0);
    auto fresh = pool.acquire();
    QCOMPARE(fresh->query("SELECT 41 + 1")[0].integer(0), std::optional<std::int64_t>(42));
    QCOMPARE(pool.stats().created, std::uint64_t(2));
    Q_UNUSED(broken);
  }

  void failedStatementValidatesOnReturn_data() {
    QTest::addColumn<bool>("ping_fails");
    QTest::addColumn<int>("idle_after");
    QTest::newRow("syntax error, ping ok: kept") << false << 1;
    QTest::newRow("syntax error, ping fails: evicted") << true << 0;
  }
  void failedStatementValidatesOnReturn() {
    QFETCH(bool, ping_fails);
    QFETCH(int, idle_after);
    ConnectionPool pool(options(2, 0), factory(), clock_, &registry_, nullptr);
    {
      auto lease = pool.acquire();
      QVERIFY_THROWS_EXCEPTION(DbError, lease->execute("SELEC 1"));
      QVERIFY(lease->last_operation_failed());
      faults_.ping_fails = ping_fails;
    }
    QCOMPARE(pool.stats().idle, idle_after);
    QCOMPARE(pool.stats().evicted_broken, std::uint64_t(1 - idle_after));
  }

  void idleConnectionPastAliveBypassIsPingedBeforeHandout() {
    ConnectionPool pool(options(2, 0), factory(), clock_, &registry_, nullptr);
    Connection* first = pool.acquire().get();  // returned at once
    clock_.advance(400ms);                     // within the bypass window: no ping
    faults_.ping_fails = true;
    QCOMPARE(pool.acquire().get(), first);
    clock_.advance(501ms);  // idle longer than 500 ms: pinged, fails, evicted, replaced
    auto lease = pool.acquire();
    faults_.ping_fails = false;
    QCOMPARE(pool.stats().evicted_broken, std::uint64_t(1));
    QCOMPARE(pool.stats().created, std::uint64_t(2));
    QCOMPARE(lease->query("SELECT 1")[0].integer(0), std::optional<std::int64_t>(1));
  }

  void openTransactionIsRolledBackOnReturn() {
    ConnectionPool pool(options(1, 0), factory(), clock_, &registry_, nullptr);
    {
      auto lease = pool.acquire();
      lease->execute("CREATE TABLE IF NOT EXISTS tx (v INTEGER)");
      lease->execute("DELETE FROM tx");
      lease->begin();
      lease->execute("INSERT INTO tx VALUES (1)");
    }  // forgotten commit
    auto lease = pool.acquire();
    QVERIFY(!lease->in_transaction());
    QCOMPARE(lease->query("SELECT count(*) FROM tx")[0].integer(0), std::optional<std::int64_t>(0));
  }

  void leakDetectionWarnsOnceAndCounts() {
    auto o = options(2, 0);
    o.leak_detection_threshold = 60s;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    auto held = pool.acquire();
    clock_.advance(59s);
    pool.run_housekeeping();
    QCOMPARE(metric("hikaricp_connections_leak_total"), 0.0);
    clock_.advance(2s);
    pool.run_housekeeping();
    QCOMPARE(metric("hikaricp_connections_leak_total"), 1.0);
    clock_.advance(60s);
    pool.run_housekeeping();  // the same lease is reported once
    QCOMPARE(pool.stats().leaks, std::uint64_t(1));
    held.release();
    auto again = pool.acquire();  // a new lease starts a new clock
    clock_.advance(61s);
    pool.run_housekeeping();
    QCOMPARE(metric("hikaricp_connections_leak_total"), 2.0);
  }

  void housekeepingFillsToMinimumIdle() {
    ConnectionPool pool(options(5, 3), factory(), clock_, &registry_, nullptr);
    QCOMPARE(pool.stats().total, 0);
    pool.run_housekeeping();
    QCOMPARE(pool.stats().idle, 3);
    QCOMPARE(metric("hikaricp_connections_idle"), 3.0);
    auto a = pool.acquire();
    pool.run_housekeeping();  // one leased: idle back to 3, total 4
    QCOMPARE(pool.stats().idle, 3);
    QCOMPARE(pool.stats().total, 4);
  }

  void idleConnectionsRetireDownToMinimumIdle() {
    ConnectionPool pool(options(5, 2), factory(), clock_, &registry_, nullptr);
    {
      std::vector<ConnectionPool::Lease> all;
      for (int i = 0; i < 5; ++i) all.push_back(pool.acquire());
    }
    QCOMPARE(pool.stats().idle, 5);
    clock_.advance(9min);
    pool.run_housekeeping();
    QCOMPARE(pool.stats().idle, 5);  // not idle long enough
    clock_.advance(1min);
    pool.run_housekeeping();
    QCOMPARE(pool.stats().idle, 2);
    QCOMPARE(pool.stats().retired_idle, std::uint64_t(3));
    QCOMPARE(metric("hikaricp_connections"), 2.0);
    clock_.advance(20min);
    pool.run_housekeeping();  // never below minimum_idle for idleness
    QCOMPARE(pool.stats().total, 2);
  }

  void maxLifetimeRetiresIdleAndReturnedConnections() {
    ConnectionPool pool(options(5, 2), factory(), clock_, &registry_, nullptr);
    pool.run_housekeeping();
    QCOMPARE(pool.stats().created, std::uint64_t(2));
    auto held = pool.acquire();
    clock_.advance(30min);
    pool.run_housekeeping();  // the idle one retires and is replaced; the leased one stays
    QCOMPARE(pool.stats().retired_lifetime, std::uint64_t(1));
    QCOMPARE(pool.stats().total, 3);
    held.release();  // past max lifetime: closed on return
    QCOMPARE(pool.stats().retired_lifetime, std::uint64_t(2));
    QCOMPARE(pool.stats().total, 2);
    QCOMPARE(metric("hikaricp_connections"), 2.0);
    QCOMPARE(metric("hikaricp_connections_idle"), 2.0);
  }

  void healthIsDownWhenNoConnectionCanBeMade() {
    auto o = options(2, 1);
    o.connection_timeout = 150ms;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    faults_.refuse_connect = true;
    pool.run_housekeeping();
    QCOMPARE(pool.health().status, HealthStatus::down);
    QCOMPARE(pool.health().details["lastError"].get<std::string>(), std::string("simulated: connection refused"));
    try {
      pool.acquire();
      QFAIL("acquired without a server");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::timeout);
      QVERIFY2(std::string(e.what()).find("connection refused") != std::string::npos, e.what());
    }
    QCOMPARE(metric("hikaricp_connections_timeout_total"), 1.0);
    faults_.refuse_connect = false;
    pool.run_housekeeping();
    QCOMPARE(pool.health().status, HealthStatus::up);
    QCOMPARE(pool.stats().idle, 1);
  }

  // Shutdown with the database gone: a caller already retrying and the next one both give up at
  // the first refused connection, not at connection_timeout; a connection that is there is
  // still handed out.
  void shutdownStopsRetryingUnreachableDatabase() {
    auto o = options(2, 0);
    o.connection_timeout = 20s;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    auto held = pool.acquire();
    held.release();  // one idle connection stays usable
    auto busy = pool.acquire();
    faults_.refuse_connect = true;
    const auto started = std::chrono::steady_clock::now();
    std::atomic<bool> gave_up{false};
    std::thread retrying([&] {
      try {
        pool.acquire();
      } catch (const DbError& e) {
        gave_up = e.kind() == DbErrorKind::connection_lost;
      }
    });
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().pending, 1, 5000);  // retrying every 50 ms
    pool.stop_retrying_connects();
    retrying.join();
    QVERIFY(gave_up);
    try {
      pool.acquire();
      QFAIL("acquired without a server");
    } catch (const DbError& e) {
      QCOMPARE(e.kind(), DbErrorKind::connection_lost);
      QVERIFY2(std::string(e.what()).find("shutting down") != std::string::npos, e.what());
    }
    QVERIFY(std::chrono::steady_clock::now() - started < 5s);
    QCOMPARE(pool.stats().pending, 0);
    QCOMPARE(metric("hikaricp_connections_timeout_total"), 0.0);
    busy.release();
    auto again = pool.acquire();  // the returned connection needs no new one
    QVERIFY(again.valid());
  }

  void backgroundHousekeeperFillsAndStopsWithThePool() {
    auto o = options(4, 2);
    o.background_housekeeping = true;
    o.housekeeping_period = 20ms;
    mambogo::runtime::SystemClock clock;
    ConnectionPool pool(o, factory(), clock, &registry_, nullptr);
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().idle, 2, 2000);
  }

  void maximumCanBeRaisedAndLoweredWhileRunning() {
    auto o = options(1, 0);
    o.connection_timeout = 5s;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    auto a = pool.acquire();
    auto waiter = std::async(std::launch::async, [&] { return pool.acquire(); });
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().pending, 1, 2000);
    pool.set_maximum_pool_size(3);  // the waiter opens a connection at once
    auto b = waiter.get();
    QCOMPARE(pool.stats().total, 2);
    QCOMPARE(metric("hikaricp_connections_max"), 3.0);

    auto c = pool.acquire();
    c.release();  // idle now
    QCOMPARE(pool.stats().total, 3);
    pool.set_maximum_pool_size(1);  // the idle one closes now, the leased ones on return
    QCOMPARE(pool.stats().total, 2);
    a.release();
    QCOMPARE(pool.stats().total, 1);
    b.release();
    QCOMPARE(pool.stats().total, 1);
    QCOMPARE(pool.stats().idle, 1);
    QCOMPARE(pool.maximum_pool_size(), 1);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, pool.set_maximum_pool_size(0));
  }

  // A drill shrinks a pool configured with minimum_idle 5 to 2 connections: accepted (as
  // HikariCP clamps minimumIdle to maximumPoolSize), and the refill stops at the new maximum.
  void shrinkingBelowMinimumIdleClampsTheIdleFloor() {
    auto o = options(4, 3);
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    pool.run_housekeeping();
    QCOMPARE(pool.stats().idle, 3);
    pool.set_maximum_pool_size(2);
    QCOMPARE(pool.maximum_pool_size(), 2);
    QCOMPARE(pool.stats().total, 2);
    pool.run_housekeeping();  // must not refill to 3
    QCOMPARE(pool.stats().total, 2);
    auto a = pool.acquire();
    auto b = pool.acquire();
    QCOMPARE(pool.stats().total, 2);
    a.release();
    b.release();
    pool.set_maximum_pool_size(4);
    pool.run_housekeeping();  // the configured floor applies again
    QCOMPARE(pool.stats().idle, 3);
  }

  // The latency assault a drill switches on: the lease holds its connection that much longer
  // (the caller waits as for a slow query), and a second caller waits for it.
  void extraHoldKeepsTheConnectionBusyLonger() {
    auto o = options(1, 0);
    o.connection_timeout = 5s;
    ConnectionPool pool(o, factory(), clock_, &registry_, nullptr);
    pool.set_extra_hold(60ms);
    QCOMPARE(pool.extra_hold(), 60ms);
    QElapsedTimer timer;
    timer.start();
    auto first = std::async(std::launch::async, [&] { auto lease = pool.acquire(); });
    auto second = std::async(std::launch::async, [&] { auto lease = pool.acquire(); });
    first.get();
    second.get();
    QVERIFY2(timer.elapsed() >= 115, qPrintable(QString::number(timer.elapsed())));  // one after the other
    QCOMPARE(pool.stats().total, 1);
    pool.set_extra_hold(0ms);
    QCOMPARE(pool.extra_hold(), 0ms);
  }

  void rejectsInconsistentOptions() {
    auto o = options(2, 3);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ConnectionPool(o, factory(), clock_, nullptr, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestConnectionPool)
#include "tst_db_pool.moc"
