#include "metric_value.h"
#include <QtTest>

#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "runtime/clock.h"
#include "runtime/cache/l1_cache.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::cache;
using namespace std::chrono_literals;

namespace {
double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels) {
  return mambogo::test::metric_value(r, name, labels);
}

L1CacheOptions options(std::size_t max, std::chrono::milliseconds ttl = 10min, int shards = 1) {
  L1CacheOptions o;
  o.name = "products";
  o.maximum_size = max;
  o.expire_after_write = ttl;
  o.shards = shards;
  return o;
}
}  // namespace

class TestL1Cache : public QObject {
  Q_OBJECT
 private slots:
  void missThenHitAfterPut() {
    FakeClock clock;
    prometheus::Registry registry;
    L1Cache cache(options(10), &registry, clock);
    QVERIFY(!cache.get("a"));
    cache.put("a", "one");
    QCOMPARE(cache.get("a").value(), std::string("one"));
    QCOMPARE(cache.stats().hits, std::size_t(1));
    QCOMPARE(cache.stats().misses, std::size_t(1));
    QCOMPARE(metric(registry, "cache_gets_total", {{"cache", "products"}, {"layer", "l1"}, {"result", "hit"}}), 1.0);
    QCOMPARE(metric(registry, "cache_gets_total", {{"cache", "products"}, {"layer", "l1"}, {"result", "miss"}}), 1.0);
    QCOMPARE(metric(registry, "cache_size", {{"cache", "products"}}), 1.0);
  }

  void valuesAreBinarySafe() {
    FakeClock clock;
    L1Cache cache(options(10), nullptr, clock);
    const std::string bytes("a\0b\0\xff", 5);
    cache.put(std::string("k\0", 2), bytes);
    QCOMPARE(cache.get(std::string("k\0", 2)).value(), bytes);
    QVERIFY(!cache.get("k"));
  }

  void entryExpiresAfterWrite_data() {
    QTest::addColumn<int>("ageMs");
    QTest::addColumn<bool>("fresh");
    QTest::newRow("just written") << 0 << true;
    QTest::newRow("one ms before the TTL") << 59'999 << true;
    QTest::newRow("exactly the TTL") << 60'000 << false;
    QTest::newRow("long after") << 3'600'000 << false;
  }
  void entryExpiresAfterWrite() {
    QFETCH(int, ageMs);
    QFETCH(bool, fresh);
    FakeClock clock;
    prometheus::Registry registry;
    L1Cache cache(options(10, 60s), &registry, clock);
    cache.put("a", "one");
    clock.advance(std::chrono::milliseconds(ageMs));
    QCOMPARE(cache.get("a").has_value(), fresh);
    QCOMPARE(cache.size(), std::size_t(fresh ? 1 : 0));  // an expired entry goes when touched
    QCOMPARE(cache.stats().expirations, std::uint64_t(fresh ? 0 : 1));
    QCOMPARE(metric(registry, "cache_evictions_total", {{"cause", "expired"}}), fresh ? 0.0 : 1.0);
  }

  void readingDoesNotExtendTheTtlButWritingDoes() {
    FakeClock clock;
    L1Cache cache(options(10, 60s), nullptr, clock);
    cache.put("read", "r");
    cache.put("rewritten", "w");
    clock.advance(40s);
    QVERIFY(cache.get("read"));
    cache.put("rewritten", "w2");
    clock.advance(30s);  // 70 s after the first write, 30 s after the rewrite
    QVERIFY(!cache.get("read"));
    QCOMPARE(cache.get("rewritten").value(), std::string("w2"));
  }

  void sizeBoundEvictsLeastRecentlyUsed() {
    FakeClock clock;
    prometheus::Registry registry;
    L1Cache cache(options(3), &registry, clock);
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("c", "3");
    QVERIFY(cache.get("a"));  // a is now the most recently used; b the least
    cache.put("d", "4");
    QCOMPARE(cache.size(), std::size_t(3));
    QVERIFY(!cache.get("b"));
    QVERIFY(cache.get("a"));
    QVERIFY(cache.get("c"));
    QVERIFY(cache.get("d"));
    QCOMPARE(cache.stats().size_evictions, std::size_t(1));
    QCOMPARE(metric(registry, "cache_evictions_total", {{"cause", "size"}}), 1.0);
    QCOMPARE(metric(registry, "cache_size", {{"layer", "l1"}}), 3.0);
  }

  void replacingAKeyDoesNotEvict() {
    FakeClock clock;
    L1Cache cache(options(2), nullptr, clock);
    cache.put("a", "1");
    cache.put("b", "2");
    cache.put("a", "1b");
    QCOMPARE(cache.size(), std::size_t(2));
    QCOMPARE(cache.stats().size_evictions, std::size_t(0));
    QCOMPARE(cache.get("a").value(), std::string("1b"));
  }

  void shardedCacheNeverExceedsMaximumSize() {
    FakeClock clock;
    prometheus::Registry registry;
    L1Cache cache(options(100, 10min, 8), &registry, clock);
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
      writers.emplace_back([&cache, t] {
        for (int i = 0; i < 2000; ++i) {
          cache.put("k" + std::to_string(t) + "-" + std::to_string(i), "v");
          cache.get("k" + std::to_string(t) + "-" + std::to_string(i / 2));
        }
      });
    for (auto& w : writers) w.join();
    QCOMPARE(cache.size(), std::size_t(100));
    QCOMPARE(cache.stats().size_evictions, std::size_t(8000 - 100));
    QCOMPARE(metric(registry, "cache_size", {{"layer", "l1"}}), 100.0);
  }

  void invalidateRemovesOneOrAll() {
    FakeClock clock;
    prometheus::Registry registry;
    L1Cache cache(options(10, 10min, 4), &registry, clock);
    for (int i = 0; i < 5; ++i) cache.put("k" + std::to_string(i), "v");
    QVERIFY(cache.invalidate("k1"));
    QVERIFY(!cache.invalidate("k1"));
    QVERIFY(!cache.get("k1"));
    QCOMPARE(cache.size(), std::size_t(4));
    cache.invalidate_all();
    QCOMPARE(cache.size(), std::size_t(0));
    QCOMPARE(metric(registry, "cache_size", {{"layer", "l1"}}), 0.0);
    QCOMPARE(cache.stats().size_evictions, std::size_t(0));  // explicit removal is not an eviction
  }

  void refusesNonsenseOptions() {
    FakeClock clock;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, L1Cache(options(0), nullptr, clock));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, L1Cache(options(10, 0ms), nullptr, clock));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, L1Cache(options(10, 1s, 0), nullptr, clock));
  }
};

QTEST_APPLESS_MAIN(TestL1Cache)
#include "tst_l1_cache.moc"
