#include <QtTest>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/resilience/time_limiter.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;
using std::chrono::nanoseconds;

Q_DECLARE_METATYPE(mambogo::runtime::TimeLimiter::Outcome)

class TestTimeLimiter : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreResilience4js() {
    const TimeLimiterConfig c;
    QCOMPARE(c.timeout_duration, nanoseconds(1s));
    QVERIFY(c.cancel_running_future);
  }

  void exceededOnceTheFullTimeoutHasElapsed() {
    FakeClock clock;
    TimeLimiter limiter(TimeLimiterConfig{}, clock, nullptr);
    clock.advance(42s);
    const auto started = limiter.start();
    QVERIFY(limiter.deadline(started) == started + 1s);
    clock.advance(999ms);
    QVERIFY(!limiter.exceeded(started));
    QCOMPARE(limiter.remaining(started), nanoseconds(1ms));
    clock.advance(1ms);
    QVERIFY(limiter.exceeded(started));
    QCOMPARE(limiter.remaining(started), nanoseconds(0));
    clock.advance(1h);
    QCOMPARE(limiter.remaining(started), nanoseconds(0));
  }

  void completionIsCountedByWhenItEnded_data() {
    QTest::addColumn<int>("elapsedMs");
    QTest::addColumn<bool>("succeeded");
    QTest::addColumn<TimeLimiter::Outcome>("outcome");
    QTest::newRow("in time, ok") << 500 << true << TimeLimiter::Outcome::successful;
    QTest::newRow("in time, error") << 999 << false << TimeLimiter::Outcome::failed;
    QTest::newRow("at the deadline, ok") << 1000 << true << TimeLimiter::Outcome::timeout;
    QTest::newRow("late error is still a timeout") << 3000 << false << TimeLimiter::Outcome::timeout;
  }
  void completionIsCountedByWhenItEnded() {
    QFETCH(int, elapsedMs);
    QFETCH(bool, succeeded);
    QFETCH(TimeLimiter::Outcome, outcome);
    FakeClock clock;
    prometheus::Registry registry;
    TimeLimiter limiter({"inventory", 1s, true}, clock, &registry);
    const auto started = limiter.start();
    clock.advance(std::chrono::milliseconds(elapsedMs));
    QVERIFY(limiter.on_complete(started, succeeded) == outcome);
    const auto s = limiter.stats();
    QCOMPARE(s.successful + s.failed + s.timeout, std::uint64_t(1));
    const char* kind = outcome == TimeLimiter::Outcome::successful ? "successful"
                       : outcome == TimeLimiter::Outcome::failed  ? "failed"
                                                                  : "timeout";
    const auto text = prometheus::TextSerializer().Serialize(registry.Collect());
    const std::string line =
        std::string("resilience4j_timelimiter_calls_total{kind=\"") + kind + "\",name=\"inventory\"} 1";
    QVERIFY2(text.find(line) != std::string::npos, line.c_str());
  }

  void timeoutsTheCallerObservedAreCounted() {
    FakeClock clock;
    TimeLimiter limiter({"inventory", 200ms, false}, clock, nullptr);
    QVERIFY(!limiter.cancel_running_future());
    limiter.on_timeout();
    limiter.on_timeout();
    QCOMPARE(limiter.stats().timeout, std::uint64_t(2));
    QCOMPARE(limiter.stats().successful, std::uint64_t(0));
  }

  void zeroTimeoutIsExceededAtOnce() {
    FakeClock clock;
    TimeLimiter limiter({"x", 0s, true}, clock, nullptr);
    QVERIFY(limiter.exceeded(limiter.start()));
  }

  void refusesNegativeTimeout() {
    FakeClock clock;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, TimeLimiter({"x", -1ms, true}, clock, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestTimeLimiter)
#include "tst_time_limiter.moc"
