// RedisPool against a real redis-server on a free loopback port: replies, the size bound,
// timeouts, an outage (fail fast, DEGRADED) and the recovery. The pool's down/backoff time
// runs on a FakeClock so each step of the outage is decided by the test, not by sleeping;
// socket timeouts are real.
#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "redis_server.h"
#include "runtime/clock.h"
#include "runtime/redis/redis_pool.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::redis;
using namespace std::chrono_literals;
using Type = RedisReply::Type;

namespace {
double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels = {}) {
  return mambogo::test::metric_value(r, name, labels);
}

RedisOptions options_for(const mambogo::test::RedisServer& server, int size = 4) {
  RedisOptions o;
  o.port = server.port();
  o.pool_size = size;
  o.connect_timeout = 500ms;
  o.command_timeout = 300ms;
  o.borrow_timeout = 2s;
  o.backoff_initial = 1s;
  o.backoff_max = 8s;
  return o;
}

std::chrono::milliseconds elapsed_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
}
}  // namespace

class TestRedisPool : public QObject {
  Q_OBJECT
 private slots:
  void commandsRoundTripTypedAndBinarySafe() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    RedisPool pool(options_for(server), &registry, clock);

    const std::string key("bin\0key", 7);
    const std::string value("a\0b\r\n\xff\0", 7);
    const RedisReply set = pool.command("SET", key, value);
    QCOMPARE(set.type, Type::status);
    QCOMPARE(set.str, std::string("OK"));
    const RedisReply get = pool.command("GET", key);
    QCOMPARE(get.type, Type::string);
    QCOMPARE(get.str, value);  // all 7 bytes, NULs included
    QCOMPARE(server.query({"STRLEN", key}), std::string("7"));

    QCOMPARE(pool.command("GET", "missing").type, Type::nil);
    QVERIFY(pool.command("GET", "missing").ok());
    const RedisReply incr = pool.command("INCRBY", "n", "41");
    QCOMPARE(incr.type, Type::integer);
    QCOMPARE(incr.integer, 41LL);
    pool.command("RPUSH", "list", "x", std::string("y\0", 2));
    const RedisReply range = pool.command("LRANGE", "list", "0", "-1");
    QCOMPARE(range.type, Type::array);
    QCOMPARE(range.elements.size(), std::size_t(2));
    QCOMPARE(range.elements[1].str, std::string("y\0", 2));
    const RedisReply wrong = pool.command("INCR", "list");
    QCOMPARE(wrong.type, Type::error);
    QVERIFY(wrong.str.starts_with("WRONGTYPE"));
    QVERIFY(!wrong.ok());

    QCOMPARE(metric(registry, "redis_commands_total", {{"result", "ok"}}), 7.0);
    QCOMPARE(metric(registry, "redis_commands_total", {{"result", "error"}}), 1.0);
    QCOMPARE(metric(registry, "redis_command_seconds"), 8.0);
    QCOMPARE(metric(registry, "redis_up"), 1.0);
    QCOMPARE(pool.health_check().status, HealthStatus::up);
  }

  void neverOpensMoreConnectionsThanPoolSize() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    RedisPool pool(options_for(server, 3), &registry, clock);
    const long long before = server.info_field("stats", "total_connections_received");

    std::atomic<int> max_active{0};
    std::atomic<bool> done{false};
    std::thread sampler([&] {
      while (!done) {
        const int a = pool.stats().active;
        int m = max_active.load();
        while (a > m && !max_active.compare_exchange_weak(m, a)) {
        }
        std::this_thread::yield();
      }
    });
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 12; ++t)
      workers.emplace_back([&] {
        for (int i = 0; i < 100; ++i)
          if (pool.command("INCR", "counter").type != Type::integer) ++failures;
      });
    for (auto& w : workers) w.join();
    done = true;
    sampler.join();

    QCOMPARE(failures.load(), 0);
    QCOMPARE(server.query({"GET", "counter"}), std::string("1200"));
    QVERIFY2(max_active.load() <= 3, std::to_string(max_active.load()).c_str());
    // Every connection the server saw since `before`: the pool's (at most 3, none replaced)
    // plus the two queries of this test (GET counter, and this INFO).
    const long long opened = server.info_field("stats", "total_connections_received") - before;
    QVERIFY2(opened <= 3 + 2, std::to_string(opened).c_str());
    QVERIFY(pool.stats().connects <= 3);
    QCOMPARE(pool.stats().active, 0);
    QVERIFY(pool.stats().idle <= 3);
    QCOMPARE(metric(registry, "redis_pool_connections", {{"state", "active"}}), 0.0);
    QCOMPARE(metric(registry, "redis_pool_connections", {{"state", "idle"}}), double(pool.stats().idle));
  }

  void commandTimeoutFires_data() {
    QTest::addColumn<bool>("pauseServer");
    QTest::newRow("blocking command outlives the timeout") << false;
    QTest::newRow("server paused (CLIENT PAUSE)") << true;
  }
  void commandTimeoutFires() {
    QFETCH(bool, pauseServer);
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    RedisPool pool(options_for(server), &registry, clock);  // command_timeout 300 ms
    QVERIFY(pool.ping());

    if (pauseServer) server.query({"CLIENT", "PAUSE", "1500", "ALL"});
    auto t0 = std::chrono::steady_clock::now();
    const RedisReply r = pauseServer ? pool.command("GET", "k") : pool.command("BLPOP", "nothing", "5");
    const auto took = elapsed_since(t0);
    QCOMPARE(r.type, Type::unavailable);
    QVERIFY2(r.str.find("timed out") != std::string::npos, r.str.c_str());
    QVERIFY2(took >= 250ms && took < 1500ms, std::to_string(took.count()).c_str());

    // A hanging Redis is treated as down: the next calls do not wait another 300 ms each.
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) QCOMPARE(pool.command("GET", "k").type, Type::unavailable);
    QVERIFY2(elapsed_since(t0) < 100ms, std::to_string(elapsed_since(t0).count()).c_str());
    QCOMPARE(pool.health_check().status, HealthStatus::degraded);

    // CLIENT UNPAUSE would itself be paused: wait for the pause to run out instead.
    if (pauseServer) QCOMPARE(server.query({"PING"}, 3s), std::string("PONG"));
    clock.advance(1s);  // the backoff has passed: the next call probes and succeeds
    QTRY_VERIFY_WITH_TIMEOUT(pool.ping(), 3000);
    QCOMPARE(pool.health_check().status, HealthStatus::up);
  }

  void stoppedRedisFailsFastAndReportsDegraded() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    RedisPool pool(options_for(server), &registry, clock);
    QVERIFY(pool.ping());
    QCOMPARE(metric(registry, "redis_up"), 1.0);

    server.stop();
    const RedisReply first = pool.command("GET", "k");
    QCOMPARE(first.type, Type::unavailable);
    QCOMPARE(metric(registry, "redis_up"), 0.0);

    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) {
      const RedisReply r = pool.command("GET", "k");
      QCOMPARE(r.type, Type::unavailable);
      QVERIFY2(r.str.find("is down") != std::string::npos, r.str.c_str());
    }
    const auto took = elapsed_since(t0);
    // 200 calls in well under one command timeout (300 ms): no network at all while down.
    QVERIFY2(took < 50ms, std::to_string(took.count()).c_str());
    QCOMPARE(pool.stats().fast_failures, std::uint64_t(200));
    QCOMPARE(metric(registry, "redis_commands_total", {{"result", "unavailable"}}), 201.0);

    const CheckResult health = pool.health_check();
    QCOMPARE(health.status, HealthStatus::degraded);  // degraded, never DOWN
    QCOMPARE(health.details["state"].get<std::string>(), std::string("down"));
    QVERIFY(!health.details["error"].get<std::string>().empty());
    QCOMPARE(health.details["nextAttemptInMs"].get<long long>(), 1000LL);
  }

  void backoffDoublesWhileRedisStaysDown() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    RedisPool pool(options_for(server), nullptr, clock);
    server.stop();
    QVERIFY(!pool.ping());  // connect refused: down for 1 s
    QCOMPARE(pool.health_check().details["nextAttemptInMs"].get<long long>(), 1000LL);
    const auto connects_tried = pool.stats().connect_failures;
    clock.advance(1s);
    QVERIFY(!pool.ping());  // the probe fails: down for 2 s
    QCOMPARE(pool.stats().connect_failures, connects_tried + 1);
    QCOMPARE(pool.health_check().details["nextAttemptInMs"].get<long long>(), 2000LL);
    clock.advance(1999ms);
    QVERIFY(!pool.ping());
    QCOMPARE(pool.stats().connect_failures, connects_tried + 1);  // not tried: still backing off
    clock.advance(1ms);
    QVERIFY(!pool.ping());
    QCOMPARE(pool.health_check().details["nextAttemptInMs"].get<long long>(), 4000LL);
    clock.advance(60s);
    QVERIFY(!pool.ping());
    clock.advance(60s);
    QVERIFY(!pool.ping());
    QCOMPARE(pool.health_check().details["nextAttemptInMs"].get<long long>(), 8000LL);  // capped
  }

  void restartedRedisRecoversAutomatically() {
    mambogo::test::RedisServer server;
    prometheus::Registry registry;
    FakeClock clock;
    RedisPool pool(options_for(server), &registry, clock);
    QCOMPARE(pool.command("SET", "k", "before").type, Type::status);
    server.stop();
    QCOMPARE(pool.command("GET", "k").type, Type::unavailable);
    QCOMPARE(pool.health_check().status, HealthStatus::degraded);

    server.start();
    QCOMPARE(pool.command("GET", "k").type, Type::unavailable);  // still backing off
    clock.advance(1s);
    const RedisReply r = pool.command("SET", "k", "after");  // the probe
    QCOMPARE(r.type, Type::status);
    QCOMPARE(pool.command("GET", "k").str, std::string("after"));
    QCOMPARE(pool.health_check().status, HealthStatus::up);
    QCOMPARE(metric(registry, "redis_up"), 1.0);
    // Recovered for good: a later outage starts again from the initial backoff.
    server.stop();
    QVERIFY(!pool.ping());
    QCOMPARE(pool.health_check().details["nextAttemptInMs"].get<long long>(), 1000LL);
  }

  void staleConnectionsAfterARestartAreReplacedTransparently() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    auto o = options_for(server, 2);
    o.command_timeout = 2s;
    RedisPool pool(o, nullptr, clock);
    // Two idle connections, both opened before the restart.
    std::thread other([&] { pool.command("BLPOP", "wake", "0.3"); });
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().active, 1, 2000);
    QVERIFY(pool.ping());
    other.join();
    QCOMPARE(pool.stats().idle, 2);

    server.stop();
    server.start();
    // No caller sees the restart: each stale connection is retried once on a fresh one.
    for (int i = 0; i < 4; ++i) QVERIFY(pool.ping());
    QCOMPARE(pool.health_check().status, HealthStatus::up);
    QCOMPARE(pool.stats().fast_failures, std::uint64_t(0));
  }

  void onlyOneCallerProbesWhileTheOthersFailFast() {
    mambogo::test::RedisServer server;
    FakeClock clock;
    auto o = options_for(server);
    o.command_timeout = 400ms;
    RedisPool pool(o, nullptr, clock);
    QVERIFY(pool.ping());
    server.query({"CLIENT", "PAUSE", "1500", "ALL"});
    QCOMPARE(pool.command("GET", "k").type, Type::unavailable);  // timeout: down
    clock.advance(1s);
    // One probe goes to the (still paused) server and waits for its timeout; meanwhile the
    // other callers must not pile up behind it.
    std::thread probe([&] { pool.command("GET", "k"); });
    QTRY_COMPARE_WITH_TIMEOUT(pool.stats().active, 1, 2000);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) QCOMPARE(pool.command("GET", "k").type, Type::unavailable);
    QVERIFY2(elapsed_since(t0) < 100ms, std::to_string(elapsed_since(t0).count()).c_str());
    probe.join();
  }

  void refusesNonsenseOptions() {
    FakeClock clock;
    RedisOptions o;
    o.pool_size = 0;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RedisPool(o, nullptr, clock));
    o.pool_size = 1;
    o.command_timeout = 0ms;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RedisPool(o, nullptr, clock));
  }
};

QTEST_APPLESS_MAIN(TestRedisPool)
#include "tst_redis_pool.moc"
