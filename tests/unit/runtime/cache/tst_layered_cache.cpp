// The layered cache's own logic with no Redis (L2 absent): single flight, L1 switch,
// negative results, loader failures, invalidation racing a load.
#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <prometheus/registry.h>

#include "runtime/clock.h"
#include "runtime/cache/layered_cache.h"

using namespace mambogo::runtime;
using namespace mambogo::runtime::redis;
using namespace mambogo::runtime::cache;
using namespace std::chrono_literals;

namespace {
double metric(prometheus::Registry& r, const std::string& name, const prometheus::Labels& labels) {
  return mambogo::test::metric_value(r, name, labels);
}

LayeredCacheOptions options() {
  LayeredCacheOptions o;
  o.l1.name = "products";
  o.l1.maximum_size = 100;
  return o;
}

// A loader that blocks until released, so a test can pile callers up behind it.
class BlockingLoader {
 public:
  std::optional<std::string> operator()() {
    std::unique_lock lock(m_);
    ++calls_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
    if (fail_) throw std::runtime_error("database down");
    return value_;
  }
  void release(std::optional<std::string> value, bool fail = false) {
    std::lock_guard lock(m_);
    value_ = std::move(value);
    fail_ = fail;
    released_ = true;
    changed_.notify_all();
  }
  bool wait_for_calls(int n) {
    std::unique_lock lock(m_);
    return changed_.wait_for(lock, 2s, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard lock(m_);
    return calls_;
  }

 private:
  std::mutex m_;
  std::condition_variable changed_;
  int calls_ = 0;
  bool released_ = false;
  bool fail_ = false;
  std::optional<std::string> value_;
};
}  // namespace

class TestLayeredCache : public QObject {
  Q_OBJECT
 private slots:
  void missLoadsOnceThenL1Serves() {
    FakeClock clock;
    prometheus::Registry registry;
    LayeredCache cache(options(), nullptr, &registry, clock);
    int calls = 0;
    auto loader = [&]() -> std::optional<std::string> { ++calls; return "row"; };
    auto first = cache.lookup("p1", loader);
    QCOMPARE(first.value.value(), std::string("row"));
    QCOMPARE(first.source, CacheLayer::loader);
    auto second = cache.lookup("p1", loader);
    QCOMPARE(second.source, CacheLayer::l1);
    QCOMPARE(calls, 1);
    QCOMPARE(metric(registry, "cache_loads_total", {{"result", "found"}}), 1.0);
    QCOMPARE(metric(registry, "cache_gets_total", {{"layer", "l1"}, {"result", "hit"}}), 1.0);
  }

  void concurrentMissesShareOneLoad_data() {
    QTest::addColumn<bool>("fail");
    QTest::newRow("loader answers") << false;
    QTest::newRow("loader throws") << true;
  }
  void concurrentMissesShareOneLoad() {
    QFETCH(bool, fail);
    FakeClock clock;
    prometheus::Registry registry;
    LayeredCache cache(options(), nullptr, &registry, clock);
    BlockingLoader loader;
    std::atomic<int> values{0}, errors{0};
    std::vector<std::thread> callers;
    callers.emplace_back([&] {
      try {
        if (cache.get("p1", std::ref(loader)) == "row") ++values;
      } catch (const std::runtime_error&) {
        ++errors;
      }
    });
    QVERIFY(loader.wait_for_calls(1));  // the leader is inside the loader
    for (int i = 0; i < 7; ++i)
      callers.emplace_back([&] {
        try {
          if (cache.get("p1", std::ref(loader)) == "row") ++values;
        } catch (const std::runtime_error&) {
          ++errors;
        }
      });
    QTRY_COMPARE_WITH_TIMEOUT(metric(registry, "cache_coalesced_total", {{"cache", "products"}}), 7.0, 2000);
    loader.release("row", fail);
    for (auto& c : callers) c.join();
    QCOMPARE(loader.calls(), 1);
    QCOMPARE(values.load(), fail ? 0 : 8);
    QCOMPARE(errors.load(), fail ? 8 : 0);
    QCOMPARE(metric(registry, "cache_loads_total", {{"result", fail ? "failure" : "found"}}), 1.0);
    // A failed load leaves nothing behind: the next caller loads again.
    int again = 0;
    QCOMPARE(cache.get("p1", [&]() -> std::optional<std::string> { ++again; return "row"; }).value(),
             std::string("row"));
    QCOMPARE(again, fail ? 1 : 0);
  }

  void differentKeysLoadInParallel() {
    FakeClock clock;
    LayeredCache cache(options(), nullptr, nullptr, clock);
    BlockingLoader a, b;
    std::thread ta([&] { cache.get("a", std::ref(a)); });
    std::thread tb([&] { cache.get("b", std::ref(b)); });
    QVERIFY(a.wait_for_calls(1));
    QVERIFY(b.wait_for_calls(1));  // b was not queued behind a
    a.release("A");
    b.release("B");
    ta.join();
    tb.join();
  }

  void notFoundIsReturnedButNeverCached() {
    FakeClock clock;
    prometheus::Registry registry;
    LayeredCache cache(options(), nullptr, &registry, clock);
    int calls = 0;
    auto loader = [&]() -> std::optional<std::string> { ++calls; return std::nullopt; };
    QVERIFY(!cache.get("ghost", loader));
    QVERIFY(!cache.get("ghost", loader));
    QCOMPARE(calls, 2);
    QCOMPARE(metric(registry, "cache_loads_total", {{"result", "not_found"}}), 2.0);
    QCOMPARE(cache.l1().size(), std::size_t(0));
  }

  void l1SwitchTakesEffectAtRunTime() {
    FakeClock clock;
    LayeredCache cache(options(), nullptr, nullptr, clock);
    int calls = 0;
    auto loader = [&]() -> std::optional<std::string> { ++calls; return "v" + std::to_string(calls); };
    cache.get("k", loader);
    QCOMPARE(cache.lookup("k", loader).source, CacheLayer::l1);
    cache.set_l1_enabled(false);
    QCOMPARE(cache.l1().size(), std::size_t(0));  // switched off = emptied
    QCOMPARE(cache.lookup("k", loader).source, CacheLayer::loader);
    QCOMPARE(cache.lookup("k", loader).source, CacheLayer::loader);
    QCOMPARE(cache.l1().size(), std::size_t(0));  // nothing written while off
    cache.set_l1_enabled(true);
    QCOMPARE(cache.lookup("k", loader).source, CacheLayer::loader);  // cold again
    QCOMPARE(cache.lookup("k", loader).source, CacheLayer::l1);
    QCOMPARE(calls, 4);
  }

  void l1EntryExpiresWithTheInjectedClock() {
    FakeClock clock;
    auto o = options();
    o.l1.expire_after_write = 10min;
    LayeredCache cache(o, nullptr, nullptr, clock);
    int calls = 0;
    auto loader = [&]() -> std::optional<std::string> { ++calls; return "v"; };
    cache.get("k", loader);
    clock.advance(9min);
    cache.get("k", loader);
    QCOMPARE(calls, 1);
    clock.advance(1min);
    cache.get("k", loader);
    QCOMPARE(calls, 2);
  }

  void invalidateDuringALoadDiscardsItsResult() {
    FakeClock clock;
    LayeredCache cache(options(), nullptr, nullptr, clock);
    BlockingLoader stale;
    std::optional<std::string> leader_saw;
    std::thread leader([&] { leader_saw = cache.get("p1", std::ref(stale)); });
    QVERIFY(stale.wait_for_calls(1));
    QVERIFY(cache.invalidate("p1"));  // e.g. the stock changed while the old row was read
    // A caller arriving now does not join the disowned flight: it loads the new row.
    QCOMPARE(cache.get("p1", [] { return std::optional<std::string>("new"); }).value(), std::string("new"));
    stale.release("old");
    leader.join();
    QCOMPARE(leader_saw.value(), std::string("old"));  // its caller asked before the change
    // Whatever the old flight wrote was removed again; the cache does not serve "old".
    int calls = 0;
    const auto after = cache.get("p1", [&] { ++calls; return std::optional<std::string>("newest"); });
    QCOMPARE(after.value(), std::string("newest"));
    QCOMPARE(calls, 1);
  }
};

QTEST_APPLESS_MAIN(TestLayeredCache)
#include "tst_layered_cache.moc"
