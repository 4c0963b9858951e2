#include "metric_value.h"
#include <QtTest>

#include <atomic>
#include <cmath>
#include <map>
#include <thread>
#include <vector>

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "runtime/resilience/circuit_breaker.h"

using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace mambogo::runtime {
// QCOMPARE prints states by name.
char* toString(CircuitState s) { return qstrdup(std::string(to_string(s)).c_str()); }
}  // namespace mambogo::runtime

Q_DECLARE_METATYPE(mambogo::runtime::CircuitState)

namespace {
CircuitBreakerConfig window_of(int size, int minimum, float threshold = 50) {
  CircuitBreakerConfig c;
  c.name = "backend";
  c.sliding_window_size = size;
  c.minimum_number_of_calls = minimum;
  c.failure_rate_threshold = threshold;
  return c;
}

// One call through the breaker: 'S' succeeds, 'F' fails. False when it was not permitted.
bool call(CircuitBreaker& b, char outcome, std::chrono::nanoseconds elapsed = 10ms) {
  if (!b.try_acquire_permission()) return false;
  if (outcome == 'F')
    b.on_error(elapsed, true);
  else
    b.on_success(elapsed);
  return true;
}

void trip(CircuitBreaker& b) {
  while (b.state() == CircuitState::closed) call(b, 'F');
}

// The value of one sample: counter, gauge, or a histogram's count.
double sample(prometheus::Registry& registry, const std::string& family, const prometheus::Labels& labels) {
  return mambogo::test::metric_value(registry, family, labels, NAN);
}

std::vector<BreakerEvent::Type> types(const std::vector<BreakerEvent>& events) {
  std::vector<BreakerEvent::Type> t;
  for (const auto& e : events) t.push_back(e.type);
  return t;
}
}  // namespace

class TestCircuitBreaker : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreResilience4js() {
    const CircuitBreakerConfig c;
    QCOMPARE(c.failure_rate_threshold, 50.0f);
    QCOMPARE(c.slow_call_rate_threshold, 100.0f);
    QCOMPARE(c.slow_call_duration_threshold, std::chrono::nanoseconds(60s));
    std::mt19937_64 rng(1);
    QCOMPARE(c.wait_interval_in_open_state(1, rng), std::chrono::milliseconds(60s));
    QCOMPARE(c.wait_interval_in_open_state(5, rng), std::chrono::milliseconds(60s));
    QCOMPARE(c.permitted_number_of_calls_in_half_open_state, 10);
    QCOMPARE(c.max_wait_duration_in_half_open_state, 0ms);
    QVERIFY(c.sliding_window_type == SlidingWindowType::count_based);
    QCOMPARE(c.sliding_window_size, 100);
    QCOMPARE(c.minimum_number_of_calls, 100);
    QVERIFY(!c.automatic_transition_from_open_to_half_open_enabled);
    QCOMPARE(static_cast<int>(CircuitState::closed), 0);
    QCOMPARE(static_cast<int>(CircuitState::open), 1);
    QCOMPARE(static_cast<int>(CircuitState::half_open), 2);
    QCOMPARE(static_cast<int>(CircuitState::disabled), 3);
    QCOMPARE(static_cast<int>(CircuitState::forced_open), 4);
    QCOMPARE(static_cast<int>(CircuitState::metrics_only), 5);
  }

  void defaultBreakerOpensAtTheHundredthCallWithHalfFailed() {
    FakeClock clock;
    CircuitBreaker b(CircuitBreakerConfig{}, clock, nullptr);
    // 99 calls, all failed: below minimumNumberOfCalls, so still closed.
    for (int i = 0; i < 99; ++i) QVERIFY(call(b, 'F'));
    QCOMPARE(b.state(), CircuitState::closed);
    QCOMPARE(b.snapshot().failure_rate, -1.0f);
    QVERIFY(call(b, 'F'));
    QCOMPARE(b.state(), CircuitState::open);
  }

  void opensExactlyWhenTheWindowReachesTheThreshold_data() {
    QTest::addColumn<int>("window");
    QTest::addColumn<int>("minimum");
    QTest::addColumn<float>("threshold");
    QTest::addColumn<QString>("outcomes");
    QTest::addColumn<int>("opensAtCall");  // 1-based; 0: never
    QTest::newRow("half failed when the window fills") << 10 << 10 << 50.0f << "SSSSSFFFFF" << 10;
    QTest::newRow("all failed but below minimum until the 5th") << 10 << 5 << 50.0f << "FFFFF" << 5;
    QTest::newRow("40% at minimum, 50% one call later") << 10 << 5 << 50.0f << "SSSFFF" << 6;
    QTest::newRow("rate equal to threshold trips") << 10 << 5 << 60.0f << "SSFFF" << 5;
    QTest::newRow("eviction of a success tips it") << 10 << 10 << 50.0f << "SSSSSSFFFFF" << 11;
    QTest::newRow("eviction of a failure holds it") << 4 << 4 << 40.0f << "FSSSFSSS" << 0;
    QTest::newRow("minimum above window size is capped") << 10 << 100 << 50.0f << "FFFFFFFFFF" << 10;
    QTest::newRow("just below threshold never trips") << 10 << 5 << 60.0f << "SFSFSFSFSFSF" << 0;
  }
  void opensExactlyWhenTheWindowReachesTheThreshold() {
    QFETCH(int, window);
    QFETCH(int, minimum);
    QFETCH(float, threshold);
    QFETCH(QString, outcomes);
    QFETCH(int, opensAtCall);
    FakeClock clock;
    CircuitBreaker b(window_of(window, minimum, threshold), clock, nullptr);
    int opened = 0;
    for (int i = 0; i < outcomes.size() && opened == 0; ++i) {
      QVERIFY(call(b, outcomes[i].toLatin1()));
      if (b.state() == CircuitState::open) opened = i + 1;
    }
    QCOMPARE(opened, opensAtCall);
  }

  void rejectsEveryCallWhileOpenAndCountsThem() {
    FakeClock clock;
    prometheus::Registry registry;
    CircuitBreaker b(window_of(4, 4), clock, &registry);
    trip(b);
    for (int i = 0; i < 5; ++i) QVERIFY(!b.try_acquire_permission());
    bool ran = false;
    QVERIFY_THROWS_EXCEPTION(CallNotPermitted, b.execute([&] { ran = true; }));
    QVERIFY(!ran);
    QCOMPARE(b.snapshot().not_permitted_calls, std::int64_t(6));
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_not_permitted_calls_total",
                    {{"name", "backend"}, {"kind", "not_permitted"}}),
             6.0);
    // A minute later without any call: still OPEN, the wait has not strictly passed.
    clock.advance(60s);
    QVERIFY(!b.try_acquire_permission());
    QCOMPARE(b.state(), CircuitState::open);
  }

  void halfOpensOnlyStrictlyAfterTheWait() {
    FakeClock clock;
    CircuitBreaker b(window_of(4, 4), clock, nullptr);
    trip(b);
    const auto opened = clock.now();
    QCOMPARE(b.snapshot().open_until, opened + 60s);
    clock.advance(60s);
    QVERIFY(!b.try_acquire_permission());
    clock.advance(1ns);
    QVERIFY(b.try_acquire_permission());
    QCOMPARE(b.state(), CircuitState::half_open);
  }

  void letsExactlyTheConfiguredProbesThroughHalfOpen_data() {
    QTest::addColumn<int>("permitted");
    QTest::newRow("1") << 1;
    QTest::newRow("3") << 3;
    QTest::newRow("default 10") << 10;
  }
  void letsExactlyTheConfiguredProbesThroughHalfOpen() {
    QFETCH(int, permitted);
    FakeClock clock;
    auto c = window_of(4, 4);
    c.permitted_number_of_calls_in_half_open_state = permitted;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(60s + 1ms);
    int admitted = 0;
    for (int i = 0; i < permitted + 5; ++i)
      if (b.try_acquire_permission()) ++admitted;
    QCOMPARE(admitted, permitted);
    QCOMPARE(b.state(), CircuitState::half_open);
    QCOMPARE(b.snapshot().half_open_permits_left, 0);
    QCOMPARE(b.snapshot().not_permitted_calls, std::int64_t(5));
  }

  void closesOrReopensOnTheProbesOutcome_data() {
    QTest::addColumn<QString>("probes");
    QTest::addColumn<CircuitState>("after");
    QTest::newRow("all succeed") << "SSSS" << CircuitState::closed;
    QTest::newRow("25% failed") << "SSSF" << CircuitState::closed;
    QTest::newRow("50% failed") << "SSFF" << CircuitState::open;
    QTest::newRow("first fail, then succeed: decided at the 4th") << "FFSS" << CircuitState::open;
    QTest::newRow("all fail") << "FFFF" << CircuitState::open;
  }
  void closesOrReopensOnTheProbesOutcome() {
    QFETCH(QString, probes);
    QFETCH(CircuitState, after);
    FakeClock clock;
    auto c = window_of(10, 10);
    c.permitted_number_of_calls_in_half_open_state = 4;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(61s);
    for (int i = 0; i < 4; ++i) QVERIFY(b.try_acquire_permission());
    for (int i = 0; i < 3; ++i) {
      probes[i] == 'F' ? b.on_error(5ms, true) : b.on_success(5ms);
      QCOMPARE(b.state(), CircuitState::half_open);  // nothing decided before the 4th outcome
    }
    probes[3] == 'F' ? b.on_error(5ms, true) : b.on_success(5ms);
    QCOMPARE(b.state(), after);
    if (after == CircuitState::closed) {
      QCOMPARE(b.snapshot().buffered_calls, 0);  // a fresh window
      QCOMPARE(b.snapshot().attempts, 0);
    } else {
      QCOMPARE(b.snapshot().attempts, 2);
      QCOMPARE(b.snapshot().open_until, clock.now() + 60s);
    }
  }

  void halfOpenDecidesAfterMinimumCallsWhenFewerThanProbes() {
    // Resilience4j's half-open window uses min(minimumNumberOfCalls, permitted).
    FakeClock clock;
    auto c = window_of(10, 2);
    c.permitted_number_of_calls_in_half_open_state = 5;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(61s);
    QVERIFY(call(b, 'S'));
    QCOMPARE(b.state(), CircuitState::half_open);
    QVERIFY(call(b, 'S'));
    QCOMPARE(b.state(), CircuitState::closed);
  }

  void ignoredErrorsAndReleasesGiveTheProbeSlotBack() {
    FakeClock clock;
    auto c = window_of(4, 4);
    c.permitted_number_of_calls_in_half_open_state = 1;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(61s);
    QVERIFY(b.try_acquire_permission());
    QVERIFY(!b.try_acquire_permission());
    b.on_ignored_error(1ms);
    QVERIFY(b.try_acquire_permission());
    b.release_permission();
    QVERIFY(b.try_acquire_permission());
    QCOMPARE(b.snapshot().buffered_calls, 0);  // neither was recorded
    QCOMPARE(b.state(), CircuitState::half_open);
  }

  void errorsNotRecordedAsFailuresCountAsSuccesses() {
    FakeClock clock;
    CircuitBreaker b(window_of(4, 4), clock, nullptr);
    for (int i = 0; i < 4; ++i) {
      QVERIFY(b.try_acquire_permission());
      b.on_error(1ms, false);
    }
    QCOMPARE(b.state(), CircuitState::closed);
    QCOMPARE(b.snapshot().buffered_calls, 4);
    QCOMPARE(b.snapshot().failed_calls, 0);
    QCOMPARE(b.snapshot().failure_rate, 0.0f);
  }

  void exceptionsAreClassifiedByTheConfiguredPredicates_data() {
    QTest::addColumn<int>("thrown");  // 0 runtime_error, 1 invalid_argument, 2 logic_error, 3 int
    QTest::addColumn<int>("buffered");
    QTest::addColumn<int>("failed");
    QTest::newRow("recorded -> failure") << 0 << 1 << 1;
    QTest::newRow("ignored -> not recorded") << 1 << 0 << 0;
    QTest::newRow("neither -> success") << 2 << 1 << 0;
    QTest::newRow("not a std::exception -> failure") << 3 << 1 << 1;
  }
  void exceptionsAreClassifiedByTheConfiguredPredicates() {
    QFETCH(int, thrown);
    QFETCH(int, buffered);
    QFETCH(int, failed);
    FakeClock clock;
    auto c = window_of(10, 10);
    c.record_exception = [](const std::exception& e) { return dynamic_cast<const std::runtime_error*>(&e) != nullptr; };
    c.ignore_exception = [](const std::exception& e) { return dynamic_cast<const std::invalid_argument*>(&e) != nullptr; };
    CircuitBreaker b(c, clock, nullptr);
    bool rethrown = false;
    try {
      b.execute([&] {
        clock.advance(3ms);
        switch (thrown) {
          case 0: throw std::runtime_error("io");
          case 1: throw std::invalid_argument("bad request");
          case 2: throw std::logic_error("bug");
          default: throw 42;
        }
      });
    } catch (...) {
      rethrown = true;
    }
    QVERIFY(rethrown);
    QCOMPARE(b.snapshot().buffered_calls, buffered);
    QCOMPARE(b.snapshot().failed_calls, failed);
  }

  void executeRecordsResultsThePredicateCallsFailures() {
    FakeClock clock;
    CircuitBreaker b(window_of(2, 2), clock, nullptr);
    auto is_5xx = [](const int& status) { return status >= 500; };
    QCOMPARE(b.execute([] { return 200; }, is_5xx), 200);
    QCOMPARE(b.execute([] { return 503; }, is_5xx), 503);
    QCOMPARE(b.snapshot().failed_calls, 1);
    QCOMPARE(b.state(), CircuitState::open);  // 1 of 2 = 50%
  }

  void slowCallsTripAtTheSlowCallRate() {
    FakeClock clock;
    auto c = window_of(4, 4);
    c.slow_call_duration_threshold = 1s;
    c.slow_call_rate_threshold = 50;
    CircuitBreaker b(c, clock, nullptr);
    std::vector<BreakerEvent> events;
    b.on_event([&](const BreakerEvent& e) { events.push_back(e); });
    QVERIFY(call(b, 'S', 1s));  // exactly the threshold is not slow
    QVERIFY(call(b, 'S', 10ms));
    QVERIFY(call(b, 'S', 1001ms));
    QVERIFY(call(b, 'S', 10ms));
    QCOMPARE(b.state(), CircuitState::closed);  // 1 slow of 4
    QCOMPARE(b.snapshot().slow_calls, 1);
    QCOMPARE(b.snapshot().slow_call_rate, 25.0f);
    QVERIFY(call(b, 'F', 2s));  // window: 10ms, 1001ms, 10ms, 2s -> 2 slow of 4
    QCOMPARE(b.state(), CircuitState::open);
    QCOMPARE(b.snapshot().slow_failed_calls, 1);
    const auto slow = std::find_if(events.begin(), events.end(), [](const BreakerEvent& e) {
      return e.type == BreakerEvent::Type::slow_call_rate_exceeded;
    });
    QVERIFY(slow != events.end());
    QCOMPARE(slow->rate, 50.0f);
    // The failure rate (25%) stayed below its threshold: no failure_rate_exceeded.
    QVERIFY(std::none_of(events.begin(), events.end(), [](const BreakerEvent& e) {
      return e.type == BreakerEvent::Type::failure_rate_exceeded;
    }));
  }

  void timeBasedWindowForgetsSecondsThatLeftIt() {
    FakeClock clock;
    auto c = window_of(3, 4);
    c.sliding_window_type = SlidingWindowType::time_based;
    CircuitBreaker b(c, clock, nullptr);
    QVERIFY(call(b, 'F'));
    QVERIFY(call(b, 'F'));
    clock.advance(2s + 999ms);
    QCOMPARE(b.snapshot().buffered_calls, 2);  // second 0 is still one of the last three
    clock.advance(1ms);
    QCOMPARE(b.snapshot().buffered_calls, 0);  // second 3: seconds 1..3 remain
    for (char o : std::string("SSSF")) QVERIFY(call(b, o));
    // Had the two early failures stayed, 3 of 6 would have tripped it.
    QCOMPARE(b.state(), CircuitState::closed);
    QCOMPARE(b.snapshot().buffered_calls, 4);
    QCOMPARE(b.snapshot().failure_rate, 25.0f);
  }

  void timeBasedWindowCountsEverySecondInIt() {
    FakeClock clock;
    auto c = window_of(10, 4);
    c.sliding_window_type = SlidingWindowType::time_based;
    CircuitBreaker b(c, clock, nullptr);
    // One call a second; the minimum is not capped by the window size in seconds.
    for (char o : std::string("SFS")) {
      QVERIFY(call(b, o));
      clock.advance(1s);
    }
    QCOMPARE(b.state(), CircuitState::closed);
    QVERIFY(call(b, 'F'));  // 2 of 4 over four different seconds
    QCOMPARE(b.state(), CircuitState::open);
    // A gap longer than the whole window empties it at once.
    clock.advance(1h);
    QCOMPARE(b.snapshot().buffered_calls, 0);
  }

  void waitInOpenStateGrowsWithEachReopening() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.permitted_number_of_calls_in_half_open_state = 1;
    c.wait_interval_in_open_state = IntervalFunction::exponential(10s, 2.0, 60s);
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    QCOMPARE(b.snapshot().open_until - clock.now(), Clock::duration(10s));
    for (auto expected : {20s, 40s, 60s, 60s}) {
      clock.advance(b.snapshot().open_until - clock.now() + 1ms);
      QVERIFY(call(b, 'F'));  // the probe fails: open again, longer
      QCOMPARE(b.state(), CircuitState::open);
      QCOMPARE(b.snapshot().open_until - clock.now(), Clock::duration(expected));
    }
    clock.advance(61s);
    QVERIFY(call(b, 'S'));
    QCOMPARE(b.state(), CircuitState::closed);
    trip(b);  // closing reset the growth
    QCOMPARE(b.snapshot().open_until - clock.now(), Clock::duration(10s));
  }

  void automaticTransitionHappensWhenTheWaitEnds_data() {
    QTest::addColumn<bool>("automatic");
    QTest::newRow("automatic") << true;
    QTest::newRow("on next call only") << false;
  }
  void automaticTransitionHappensWhenTheWaitEnds() {
    QFETCH(bool, automatic);
    FakeClock clock;
    auto c = window_of(2, 2);
    c.automatic_transition_from_open_to_half_open_enabled = automatic;
    CircuitBreaker b(c, clock, nullptr);
    std::vector<BreakerEvent> events;
    b.on_event([&](const BreakerEvent& e) {
      if (e.type == BreakerEvent::Type::state_transition) events.push_back(e);
    });
    trip(b);
    const auto opened = clock.now();
    clock.advance(60s - 1ns);
    QCOMPARE(b.state(), CircuitState::open);
    clock.advance(1ns);
    QCOMPARE(b.state(), automatic ? CircuitState::half_open : CircuitState::open);
    clock.advance(5min);  // observed late: the transition is still dated when it fell due
    QCOMPARE(b.state(), automatic ? CircuitState::half_open : CircuitState::open);
    QCOMPARE(int(events.size()), automatic ? 2 : 1);
    if (automatic) {
      QCOMPARE(events[1].from, CircuitState::open);
      QCOMPARE(events[1].to, CircuitState::half_open);
      QVERIFY(events[1].at == opened + 60s);
    }
  }

  void timeDrivenTransitionsObservedLateAreDatedWhenTheyFellDue() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.automatic_transition_from_open_to_half_open_enabled = true;
    c.max_wait_duration_in_half_open_state = 5s;
    CircuitBreaker b(c, clock, nullptr);
    std::vector<BreakerEvent> transitions;
    b.on_event([&](const BreakerEvent& e) {
      if (e.type == BreakerEvent::Type::state_transition) transitions.push_back(e);
    });
    trip(b);
    const auto opened = clock.now();
    clock.advance(95s);  // nobody looked: OPEN ended at 60 s, HALF_OPEN timed out at 65 s
    QCOMPARE(b.state(), CircuitState::open);
    QCOMPARE(int(transitions.size()), 3);
    QVERIFY(transitions[1].to == CircuitState::half_open && transitions[1].at == opened + 60s);
    QVERIFY(transitions[2].to == CircuitState::open && transitions[2].at == opened + 65s);
    QVERIFY(b.snapshot().open_until == opened + 65s + 60s);
  }

  void halfOpenReopensWhenProbesOutlastTheMaxWait() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.max_wait_duration_in_half_open_state = 5s;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(61s);
    QVERIFY(b.try_acquire_permission());  // a probe that never reports
    const auto half_opened = clock.now();
    clock.advance(5s - 1ms);
    QCOMPARE(b.state(), CircuitState::half_open);
    clock.advance(1ms);
    QCOMPARE(b.state(), CircuitState::open);
    QCOMPARE(b.snapshot().attempts, 2);
    QVERIFY(b.snapshot().open_until == half_opened + 5s + 60s);
  }

  void forcedOpenRejectsSilentlyAndDisabledRecordsNothing() {
    FakeClock clock;
    prometheus::Registry registry;
    CircuitBreaker b(window_of(2, 2), clock, &registry);
    std::vector<BreakerEvent> events;
    b.on_event([&](const BreakerEvent& e) { events.push_back(e); });

    b.transition_to_forced_open();
    QCOMPARE(b.state(), CircuitState::forced_open);
    clock.advance(1h);
    QVERIFY(!b.try_acquire_permission());
    QCOMPARE(b.snapshot().not_permitted_calls, std::int64_t(1));
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_not_permitted_calls_total", {{"name", "backend"}}), 1.0);

    b.transition_to_disabled();
    for (int i = 0; i < 10; ++i) QVERIFY(call(b, 'F'));
    QCOMPARE(b.state(), CircuitState::disabled);
    QCOMPARE(b.snapshot().buffered_calls, 0);
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_calls_seconds", {{"kind", "failed"}}), 0.0);
    // Only the two transitions were announced: FORCED_OPEN and DISABLED publish nothing else.
    QCOMPARE(types(events), (std::vector<BreakerEvent::Type>{BreakerEvent::Type::state_transition,
                                                             BreakerEvent::Type::state_transition}));
  }

  void metricsOnlyRecordsAndAnnouncesButNeverOpens() {
    FakeClock clock;
    CircuitBreaker b(window_of(2, 2), clock, nullptr);
    int exceeded = 0;
    b.on_event([&](const BreakerEvent& e) {
      if (e.type == BreakerEvent::Type::failure_rate_exceeded) ++exceeded;
    });
    b.transition_to_metrics_only();
    for (int i = 0; i < 10; ++i) QVERIFY(call(b, 'F'));
    QCOMPARE(b.state(), CircuitState::metrics_only);
    QCOMPARE(b.snapshot().failure_rate, 100.0f);
    QCOMPARE(exceeded, 1);
  }

  void illegalManualTransitionsThrow() {
    FakeClock clock;
    CircuitBreaker b(window_of(2, 2), clock, nullptr);
    QVERIFY_THROWS_EXCEPTION(std::logic_error, b.transition_to_half_open());
    QCOMPARE(b.state(), CircuitState::closed);
    b.transition_to_metrics_only();
    QVERIFY_THROWS_EXCEPTION(std::logic_error, b.transition_to_open());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, b.transition_to_half_open());
    QCOMPARE(b.state(), CircuitState::metrics_only);
    b.transition_to_closed();
    b.transition_to_open();  // legal from CLOSED
    QCOMPARE(b.state(), CircuitState::open);
  }

  void eventsTellTheWholeCycle() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.permitted_number_of_calls_in_half_open_state = 1;
    CircuitBreaker b(c, clock, nullptr);
    std::vector<BreakerEvent> events;
    b.on_event([&](const BreakerEvent& e) { events.push_back(e); });
    using T = BreakerEvent::Type;
    QVERIFY(call(b, 'S'));
    QVERIFY(call(b, 'F'));  // 50% of 2: trips
    QVERIFY(!b.try_acquire_permission());
    clock.advance(61s);
    QVERIFY(call(b, 'S'));  // the probe closes it
    b.reset();
    QCOMPARE(types(events), (std::vector<T>{T::success, T::error, T::failure_rate_exceeded, T::state_transition,
                                            T::call_not_permitted, T::state_transition, T::success,
                                            T::state_transition, T::reset}));
    QCOMPARE(events[2].rate, 50.0f);
    QCOMPARE(events[3].from, CircuitState::closed);
    QCOMPARE(events[3].to, CircuitState::open);
    QCOMPARE(events[5].to, CircuitState::half_open);
    QCOMPARE(events[7].to, CircuitState::closed);
    QCOMPARE(events[1].elapsed, std::chrono::nanoseconds(10ms));
    QCOMPARE(events[0].breaker, std::string_view("backend"));
  }

  void listenerMayCallBackIntoTheBreaker() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.automatic_transition_from_open_to_half_open_enabled = true;
    CircuitBreaker b(c, clock, nullptr);
    std::vector<CircuitState> seen;
    b.on_event([&](const BreakerEvent& e) {
      if (e.type == BreakerEvent::Type::state_transition) seen.push_back(b.snapshot().state);
    });
    trip(b);
    clock.advance(60s);
    QCOMPARE(b.state(), CircuitState::half_open);
    QCOMPARE(seen, (std::vector<CircuitState>{CircuitState::open, CircuitState::half_open}));
  }

  void stateMetricIsOneForTheCurrentStateOnly() {
    FakeClock clock;
    prometheus::Registry registry;
    CircuitBreaker b(window_of(2, 2), clock, &registry);
    auto state_gauge = [&](const char* s) {
      return sample(registry, "resilience4j_circuitbreaker_state", {{"name", "backend"}, {"state", s}});
    };
    const char* names[] = {"closed", "open", "half_open", "disabled", "forced_open", "metrics_only"};
    auto check = [&](const char* current) {
      for (const char* n : names)
        if (state_gauge(n) != (std::string(n) == current ? 1.0 : 0.0)) return false;
      return true;
    };
    QVERIFY(check("closed"));
    QVERIFY(call(b, 'S'));
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_failure_rate", {{"name", "backend"}}), -1.0);
    QVERIFY(call(b, 'F'));
    QVERIFY(check("open"));
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_failure_rate", {{"name", "backend"}}), 50.0);
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_buffered_calls", {{"kind", "failed"}}), 1.0);
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_buffered_calls", {{"kind", "successful"}}), 1.0);
    clock.advance(61s);
    QVERIFY(b.try_acquire_permission());
    QVERIFY(check("half_open"));
    b.transition_to_forced_open();
    QVERIFY(check("forced_open"));
    b.transition_to_metrics_only();
    QVERIFY(check("metrics_only"));
    b.transition_to_disabled();
    QVERIFY(check("disabled"));
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_calls_seconds", {{"kind", "successful"}}), 1.0);
    QCOMPARE(sample(registry, "resilience4j_circuitbreaker_calls_seconds", {{"kind", "failed"}}), 1.0);
    // The exposition carries the names dashboards query.
    const auto text = prometheus::TextSerializer().Serialize(registry.Collect());
    for (const char* line :
         {"resilience4j_circuitbreaker_state{name=\"backend\",state=\"disabled\"} 1",
          "resilience4j_circuitbreaker_calls_seconds_count{kind=\"failed\",name=\"backend\"} 1",
          "resilience4j_circuitbreaker_not_permitted_calls_total{kind=\"not_permitted\",name=\"backend\"} 0",
          "resilience4j_circuitbreaker_slow_call_rate{name=\"backend\"}"})
      QVERIFY2(text.find(line) != std::string::npos, line);
  }

  void concurrentCallersNeverGetMoreProbesThanPermitted() {
    FakeClock clock;
    auto c = window_of(2, 2);
    c.permitted_number_of_calls_in_half_open_state = 5;
    CircuitBreaker b(c, clock, nullptr);
    trip(b);
    clock.advance(61s);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i)
          if (b.try_acquire_permission()) ++admitted;
      });
    for (auto& t : threads) t.join();
    QCOMPARE(admitted.load(), 5);
    QCOMPARE(b.snapshot().not_permitted_calls, std::int64_t(8 * 1000 - 5));
  }

  void refusesInvalidConfig_data() {
    QTest::addColumn<int>("which");
    QTest::newRow("failure threshold 0") << 0;
    QTest::newRow("failure threshold 101") << 1;
    QTest::newRow("slow threshold 0") << 2;
    QTest::newRow("window 0") << 3;
    QTest::newRow("minimum 0") << 4;
    QTest::newRow("no probes") << 5;
    QTest::newRow("negative half-open wait") << 6;
  }
  void refusesInvalidConfig() {
    QFETCH(int, which);
    CircuitBreakerConfig c;
    switch (which) {
      case 0: c.failure_rate_threshold = 0; break;
      case 1: c.failure_rate_threshold = 101; break;
      case 2: c.slow_call_rate_threshold = 0; break;
      case 3: c.sliding_window_size = 0; break;
      case 4: c.minimum_number_of_calls = 0; break;
      case 5: c.permitted_number_of_calls_in_half_open_state = 0; break;
      default: c.max_wait_duration_in_half_open_state = -1ms; break;
    }
    FakeClock clock;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, CircuitBreaker(c, clock, nullptr));
  }
};

QTEST_APPLESS_MAIN(TestCircuitBreaker)
#include "tst_circuit_breaker.moc"
