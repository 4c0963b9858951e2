// LayeredCache over a real redis-server: which layer answers, what Redis sees (INFO
// commandstats is the oracle), the L2 TTL, the run-time switches, and an outage.
#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "redis_server.h"
#include "runtime/clock.h"
#include "runtime/cache/layered_cache.h"
#include "runtime/redis/redis_pool.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::redis;
using namespace mambogo::runtime::cache;
using namespace std::chrono_literals;

namespace {
double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels) {
  return mambogo::test::metric_value(r, name, labels, 0);
}

// One Redis, one pool and one cache per test; the clock drives L1 TTL and the pool's backoff.
struct Fixture {
  explicit Fixture(bool l1 = true, bool l2 = true) : pool(pool_options(server), &registry, clock) {
    LayeredCacheOptions o;
    o.l1.name = "products";
    o.key_prefix = "product:";
    o.l2_ttl = 60s;
    o.l1_enabled = l1;
    o.l2_enabled = l2;
    cache = std::make_unique<LayeredCache>(o, &pool, &registry, clock);
  }
  static RedisOptions pool_options(const mambogo::test::RedisServer& s) {
    RedisOptions o;
    o.port = s.port();
    o.command_timeout = 500ms;
    o.backoff_initial = 1s;
    return o;
  }
  LayeredCache::Loader loader(std::string value) {
    return [this, value] {
      ++loads;
      return std::optional<std::string>(value);
    };
  }

  mambogo::test::RedisServer server;
  prometheus::Registry registry;
  FakeClock clock;
  RedisPool pool;
  std::unique_ptr<LayeredCache> cache;
  std::atomic<int> loads{0};
};
}  // namespace

class TestLayeredCacheRedis : public QObject {
  Q_OBJECT
 private slots:
  void l1HitDoesNotTouchRedis() {
    Fixture f;
    QCOMPARE(f.cache->lookup("p1", f.loader("row")).source, CacheLayer::loader);
    const long long gets = f.server.command_calls("get");
    for (int i = 0; i < 50; ++i) QCOMPARE(f.cache->lookup("p1", f.loader("row")).source, CacheLayer::l1);
    QCOMPARE(f.server.command_calls("get"), gets);  // Redis saw none of the 50
    QCOMPARE(f.loads.load(), 1);
    QCOMPARE(metric(f.registry, "cache_gets_total", {{"layer", "l1"}, {"result", "hit"}}), 50.0);
  }

  void l2HitFillsL1AndSkipsTheLoader() {
    Fixture f;
    f.server.query({"SET", "product:p1", "from-redis"});
    const auto first = f.cache->lookup("p1", f.loader("from-db"));
    QCOMPARE(first.source, CacheLayer::l2);
    QCOMPARE(first.value.value(), std::string("from-redis"));
    QCOMPARE(f.loads.load(), 0);
    QCOMPARE(f.cache->lookup("p1", f.loader("from-db")).source, CacheLayer::l1);
    QCOMPARE(f.server.command_calls("get"), 1LL);
    QCOMPARE(metric(f.registry, "cache_gets_total", {{"layer", "l2"}, {"result", "hit"}}), 1.0);
  }

  void loadedValueIsWrittenToRedisWithTheTtl() {
    Fixture f;
    const std::string row("{\"id\":\"p1\",\"blob\":\"\0\"}", 22);
    QCOMPARE(f.cache->get("p1", f.loader(row)).value(), row);
    QCOMPARE(f.server.query({"GET", "product:p1"}), row);
    const long long pttl = std::stoll(f.server.query({"PTTL", "product:p1"}));
    QVERIFY2(pttl > 0 && pttl <= 60'000, std::to_string(pttl).c_str());
    QCOMPARE(metric(f.registry, "cache_gets_total", {{"layer", "l2"}, {"result", "miss"}}), 1.0);
  }

  void concurrentMissesCallTheLoaderOnce_data() {
    QTest::addColumn<bool>("l1");
    QTest::newRow("L1+L2") << true;
    QTest::newRow("L2 only") << false;
  }
  void concurrentMissesCallTheLoaderOnce() {
    QFETCH(bool, l1);
    Fixture f(l1, true);
    std::latch go(8);
    std::vector<std::thread> callers;
    std::atomic<int> right{0};
    for (int i = 0; i < 8; ++i)
      callers.emplace_back([&] {
        go.arrive_and_wait();
        const auto v = f.cache->get("p1", [&] {
          ++f.loads;
          std::this_thread::sleep_for(100ms);  // a slow query keeps the flight open
          return std::optional<std::string>("row");
        });
        if (v == "row") ++right;
      });
    for (auto& c : callers) c.join();
    QCOMPARE(right.load(), 8);
    QCOMPARE(f.loads.load(), 1);
    QVERIFY(f.server.command_calls("set") == 1);
  }

  void switchesTakeEffectAtRunTime_data() {
    QTest::addColumn<bool>("l1");
    QTest::addColumn<bool>("l2");
    QTest::addColumn<int>("expectedSource");
    QTest::addColumn<int>("redisGets");  // GETs Redis sees for the second lookup
    QTest::newRow("L1+L2") << true << true << int(CacheLayer::l1) << 0;
    QTest::newRow("L2 only") << false << true << int(CacheLayer::l2) << 1;
    QTest::newRow("none") << false << false << int(CacheLayer::loader) << 0;
  }
  void switchesTakeEffectAtRunTime() {
    QFETCH(bool, l1);
    QFETCH(bool, l2);
    QFETCH(int, expectedSource);
    QFETCH(int, redisGets);
    Fixture f;  // starts with both layers on; the switch is flipped on the live cache
    f.cache->get("warm", f.loader("w"));
    f.cache->set_l1_enabled(l1);
    f.cache->set_l2_enabled(l2);
    f.cache->get("p1", f.loader("row"));
    const long long before = f.server.command_calls("get");
    const int loads_before = f.loads.load();
    QCOMPARE(int(f.cache->lookup("p1", f.loader("row")).source), expectedSource);
    QCOMPARE(f.server.command_calls("get") - before, static_cast<long long>(redisGets));
    QCOMPARE(f.loads.load() - loads_before, expectedSource == int(CacheLayer::loader) ? 1 : 0);
  }

  void redisDownStillServesFromTheLoaderAndCountsTheBypass() {
    Fixture f(false, true);  // L2 only, so every lookup would need Redis
    QCOMPARE(f.cache->get("p1", f.loader("row")).value(), std::string("row"));
    f.server.stop();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) QCOMPARE(f.cache->get("p1", f.loader("row")).value(), std::string("row"));
    const auto took = std::chrono::steady_clock::now() - t0;
    QVERIFY2(took < 500ms, std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()).c_str());
    QCOMPARE(f.loads.load(), 51);
    QCOMPARE(metric(f.registry, "cache_bypass_total", {{"layer", "l2"}, {"reason", "unavailable"}}), 50.0);
    QCOMPARE(f.pool.health_check().status, HealthStatus::degraded);

    // Redis back: after the backoff L2 fills and serves again, no restart of anything.
    f.server.start();
    f.clock.advance(1s);
    f.cache->get("p1", f.loader("row"));
    QCOMPARE(f.cache->lookup("p1", f.loader("row")).source, CacheLayer::l2);
    QCOMPARE(f.pool.health_check().status, HealthStatus::up);
  }

  void invalidateRemovesTheKeyFromBothLayers() {
    Fixture f;
    f.cache->get("p1", f.loader("old"));
    QCOMPARE(f.server.query({"EXISTS", "product:p1"}), std::string("1"));
    QVERIFY(f.cache->invalidate("p1"));
    QCOMPARE(f.server.query({"EXISTS", "product:p1"}), std::string("0"));
    QCOMPARE(f.cache->l1().size(), std::size_t(0));
    QCOMPARE(f.cache->lookup("p1", f.loader("new")).value.value(), std::string("new"));
  }

  void invalidateWithRedisDownReportsTheUnconfirmedDelete() {
    Fixture f;
    f.cache->get("p1", f.loader("old"));
    f.server.stop();
    QVERIFY(!f.cache->invalidate("p1"));  // L2 may keep "old" until its TTL: the caller knows
    QCOMPARE(f.cache->l1().size(), std::size_t(0));
  }
};

QTEST_APPLESS_MAIN(TestLayeredCacheRedis)
#include "tst_layered_cache_redis.moc"
