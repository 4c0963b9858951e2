#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/resilience/bulkhead.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {
double gauge(prometheus::Registry& registry, const std::string& family) {
  return mambogo::test::metric_value(registry, family);
}
}  // namespace

class TestBulkhead : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreResilience4js() {
    const BulkheadConfig c;
    QCOMPARE(c.max_concurrent_calls, 25);
    QCOMPARE(c.max_wait_duration, 0ms);
    Bulkhead b(c, nullptr);
    int admitted = 0;
    while (b.try_acquire_permission()) ++admitted;  // wait 0: never blocks
    QCOMPARE(admitted, 25);
  }

  void admitsUpToTheLimitThenRejectsAtOnce() {
    prometheus::Registry registry;
    Bulkhead b({"db", 3, 0ms}, &registry);
    QCOMPARE(gauge(registry, "resilience4j_bulkhead_max_allowed_concurrent_calls"), 3.0);
    for (int i = 0; i < 3; ++i) QVERIFY(b.try_acquire_permission());
    QCOMPARE(gauge(registry, "resilience4j_bulkhead_available_concurrent_calls"), 0.0);
    const auto before = std::chrono::steady_clock::now();
    QVERIFY(!b.try_acquire_permission());
    QVERIFY(std::chrono::steady_clock::now() - before < 1s);
    b.release_permission();
    QCOMPARE(b.available_concurrent_calls(), 1);
    QCOMPARE(gauge(registry, "resilience4j_bulkhead_available_concurrent_calls"), 1.0);
    const auto text = prometheus::TextSerializer().Serialize(registry.Collect());
    QVERIFY(text.find("resilience4j_bulkhead_available_concurrent_calls{name=\"db\"} 1") != std::string::npos);
  }

  void executeReleasesTheSlotHoweverTheCallEnds() {
    Bulkhead b({"db", 1, 0ms}, nullptr);
    QCOMPARE(b.execute([] { return 5; }), 5);
    QCOMPARE(b.available_concurrent_calls(), 1);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, b.execute([]() -> int { throw std::runtime_error("db down"); }));
    QCOMPARE(b.available_concurrent_calls(), 1);
    QVERIFY(b.try_acquire_permission());
    bool ran = false;
    QVERIFY_THROWS_EXCEPTION(BulkheadFull, b.execute([&] { ran = true; }));
    QVERIFY(!ran);
    QCOMPARE(b.available_concurrent_calls(), 0);
  }

  void aWaiterGetsTheSlotReleasedWithinItsWait() {
    Bulkhead b({"db", 1, 10s}, nullptr);
    QVERIFY(b.try_acquire_permission());
    std::atomic<int> result{-1};
    std::thread waiter([&] { result = b.try_acquire_permission() ? 1 : 0; });
    QTRY_COMPARE_WITH_TIMEOUT(b.waiting_calls(), 1, 5000);
    QCOMPARE(result.load(), -1);
    b.release_permission();
    waiter.join();
    QCOMPARE(result.load(), 1);
    QCOMPARE(b.available_concurrent_calls(), 0);  // handed over, never free in between
    QCOMPARE(b.waiting_calls(), 0);
  }

  void waitersAreServedInArrivalOrder() {
    Bulkhead b({"db", 1, 10s}, nullptr);
    QVERIFY(b.try_acquire_permission());
    std::mutex m;
    std::vector<int> served;
    auto wait_then_hold = [&](int id) {
      if (!b.try_acquire_permission()) return;
      {
        std::lock_guard lock(m);
        served.push_back(id);
      }
      b.release_permission();
    };
    std::vector<std::thread> threads;
    for (int id = 1; id <= 3; ++id) {
      threads.emplace_back(wait_then_hold, id);
      QTRY_COMPARE_WITH_TIMEOUT(b.waiting_calls(), id, 5000);  // each queued before the next
    }
    b.release_permission();
    for (auto& t : threads) t.join();
    QCOMPARE(served, (std::vector<int>{1, 2, 3}));
    QCOMPARE(b.available_concurrent_calls(), 1);
  }

  void aWaiterGivesUpAfterMaxWait() {
    Bulkhead b({"db", 1, 50ms}, nullptr);
    QVERIFY(b.try_acquire_permission());
    const auto before = std::chrono::steady_clock::now();
    QVERIFY(!b.try_acquire_permission());
    QVERIFY(std::chrono::steady_clock::now() - before >= 50ms);
    QCOMPARE(b.waiting_calls(), 0);
    b.release_permission();  // nobody is waiting any more: the slot is simply free
    QCOMPARE(b.available_concurrent_calls(), 1);
  }

  void zeroConcurrentCallsRejectsEverything() {
    Bulkhead b({"db", 0, 0ms}, nullptr);
    QVERIFY(!b.try_acquire_permission());
    QCOMPARE(b.available_concurrent_calls(), 0);
  }

  void concurrentCallsNeverExceedTheLimit() {
    Bulkhead b({"db", 3, 0ms}, nullptr);
    std::atomic<int> running{0}, peak{0}, admitted{0}, rejected{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 2000; ++i) {
          try {
            b.execute([&] {
              const int now = ++running;
              int seen = peak.load();
              while (now > seen && !peak.compare_exchange_weak(seen, now)) {
              }
              std::this_thread::yield();
              --running;
            });
            ++admitted;
          } catch (const BulkheadFull&) {
            ++rejected;
          }
        }
      });
    for (auto& t : threads) t.join();
    QVERIFY(peak.load() <= 3);
    QVERIFY(peak.load() >= 1);
    QCOMPARE(admitted.load() + rejected.load(), 8 * 2000);
    QCOMPARE(b.available_concurrent_calls(), 3);
  }

  void refusesNegativeLimits() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Bulkhead({"db", -1, 0ms}, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Bulkhead({"db", 1, -1ms}, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestBulkhead)
#include "tst_bulkhead.moc"
