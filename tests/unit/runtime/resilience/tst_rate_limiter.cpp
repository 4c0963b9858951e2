#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/resilience/rate_limiter.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

namespace {
RateLimiterConfig per_second(int limit, nanoseconds timeout) {
  return {"login", limit, 1s, timeout};
}

int take_all(RateLimiter& limiter) {
  int n = 0;
  while (limiter.try_acquire_permission()) ++n;
  return n;
}
}  // namespace

class TestRateLimiter : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreResilience4js() {
    const RateLimiterConfig c;
    QCOMPARE(c.limit_for_period, 50);
    QCOMPARE(c.limit_refresh_period, nanoseconds(500));
    QCOMPARE(c.timeout_duration, nanoseconds(5s));
    FakeClock clock;
    RateLimiter limiter(c, clock, nullptr);
    QCOMPARE(take_all(limiter), 50);
    clock.advance(499ns);
    QVERIFY(!limiter.try_acquire_permission());
    clock.advance(1ns);
    QCOMPARE(take_all(limiter), 50);
  }

  void refillsInWholeCyclesNeverAboveTheLimit() {
    FakeClock clock;
    RateLimiter limiter(per_second(10, 0s), clock, nullptr);
    QCOMPARE(take_all(limiter), 10);
    clock.advance(999ms);
    QVERIFY(!limiter.try_acquire_permission());  // no partial refill inside a cycle
    clock.advance(1ms);
    QCOMPARE(take_all(limiter), 10);
    clock.advance(5s);  // five idle cycles do not bank fifty permits
    QCOMPARE(limiter.available_permissions(), std::int64_t(10));
    QCOMPARE(take_all(limiter), 10);
  }

  void cyclesCountFromConstructionNotFromFirstUse() {
    FakeClock clock(Clock::time_point(123456789ns));
    RateLimiter limiter(per_second(2, 0s), clock, nullptr);
    clock.advance(700ms);
    QCOMPARE(take_all(limiter), 2);
    clock.advance(300ms);  // 1 s after construction, only 300 ms after use
    QCOMPARE(take_all(limiter), 2);
  }

  void reservesFromFutureCyclesWithinTheTimeout() {
    FakeClock clock;
    RateLimiter limiter(per_second(10, 2500ms), clock, nullptr);
    clock.advance(250ms);
    QCOMPARE(take_all(limiter), 10);
    QCOMPARE(limiter.reserve_permission(1), std::optional<nanoseconds>(750ms));  // next cycle
    QCOMPARE(limiter.reserve_permission(10), std::optional<nanoseconds>(1750ms));  // one more
    QCOMPARE(limiter.reserve_permission(10), std::optional<nanoseconds>());  // 2750 ms > timeout
    QCOMPARE(limiter.available_permissions(), std::int64_t(-11));  // the refusal took nothing
    QCOMPARE(limiter.reserve_permission(1), std::optional<nanoseconds>(1750ms));
    QCOMPARE(limiter.available_permissions(), std::int64_t(-12));
    clock.advance(750ms);  // cycle 1 refills 10 against the debt
    QCOMPARE(limiter.available_permissions(), std::int64_t(-2));
    QVERIFY(!limiter.try_acquire_permission());  // try never reserves ahead
  }

  void moreThanOneCyclesWorthWaitsSeveralCycles() {
    FakeClock clock;
    RateLimiter limiter(per_second(10, 10s), clock, nullptr);
    QCOMPARE(limiter.reserve_permission(25), std::optional<nanoseconds>(2s));
    clock.advance(2s);
    QCOMPARE(limiter.available_permissions(), std::int64_t(5));  // 10 + 10 + 10 - 25
  }

  void executeSleepsTheReservedWaitOrRejects() {
    FakeClock clock;
    RateLimiter limiter(per_second(1, 5s), clock, nullptr);
    std::vector<nanoseconds> sleeps;
    auto sleep = [&](nanoseconds d) {
      sleeps.push_back(d);
      clock.advance(d);
    };
    int runs = 0;
    limiter.execute([&] { ++runs; }, sleep);
    clock.advance(400ms);
    limiter.execute([&] { ++runs; }, sleep);
    QCOMPARE(runs, 2);
    QCOMPARE(sleeps, (std::vector<nanoseconds>{600ms}));

    RateLimiter strict(per_second(1, 0s), clock, nullptr);
    strict.execute([&] { ++runs; }, sleep);
    QVERIFY_THROWS_EXCEPTION(RequestNotPermitted, strict.execute([&] { ++runs; }, sleep));
    QCOMPARE(runs, 3);
  }

  void drainEmptiesTheBucketUntilTheNextCycle() {
    FakeClock clock;
    RateLimiter limiter(per_second(10, 0s), clock, nullptr);
    QVERIFY(limiter.try_acquire_permission(3));
    limiter.drain_permissions();
    QCOMPARE(limiter.available_permissions(), std::int64_t(0));
    QVERIFY(!limiter.try_acquire_permission());
    clock.advance(1s);
    QCOMPARE(limiter.available_permissions(), std::int64_t(10));
  }

  void availablePermissionsAreExported() {
    FakeClock clock;
    prometheus::Registry registry;
    RateLimiter limiter(per_second(10, 2s), clock, &registry);
    auto text = [&] { return prometheus::TextSerializer().Serialize(registry.Collect()); };
    QVERIFY(text().find("resilience4j_ratelimiter_available_permissions{name=\"login\"} 10") != std::string::npos);
    QVERIFY(limiter.try_acquire_permission(4));
    QVERIFY(text().find("resilience4j_ratelimiter_available_permissions{name=\"login\"} 6") != std::string::npos);
    QVERIFY(limiter.reserve_permission(10));
    QVERIFY(text().find("resilience4j_ratelimiter_available_permissions{name=\"login\"} -4") != std::string::npos);
  }

  void concurrentCallersGetExactlyTheLimit() {
    FakeClock clock;
    RateLimiter limiter({"login", 100, 1h, 0s}, clock, nullptr);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i)
          if (limiter.try_acquire_permission()) ++admitted;
      });
    for (auto& t : threads) t.join();
    QCOMPARE(admitted.load(), 100);
  }

  void refusesInvalidConfig() {
    FakeClock clock;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RateLimiter({"x", 0, 1s, 0s}, clock, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RateLimiter({"x", 1, 0s, 0s}, clock, nullptr));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, RateLimiter({"x", 1, 1s, -1s}, clock, nullptr));
    RateLimiter limiter({"x", 1, 1s, 0s}, clock, nullptr);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, limiter.try_acquire_permission(0));
  }
};

QTEST_APPLESS_MAIN(TestRateLimiter)
#include "tst_rate_limiter.moc"
