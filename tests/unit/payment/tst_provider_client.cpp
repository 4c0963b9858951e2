// The provider as payment-service calls it: retry, breaker, time limiter and fallback
// around the simulator. The breaker runs on a FakeClock, so its OPEN wait is exact.
#include <QtTest>

#include <prometheus/registry.h>

#include "metric_value.h"
#include "payment/provider_client.h"

using namespace mambogo::payment;
using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {

ProviderProfile instant() {
  ProviderProfile p;
  p.latency_p50_ms = 0;
  p.latency_p99_ms = 0;
  return p;
}

ProviderClientOptions small_breaker() {
  ProviderClientOptions o;
  o.retry_wait = 1ms;
  o.breaker_window_size = 4;
  o.breaker_minimum_calls = 4;
  o.breaker_wait_in_open = 10s;
  o.breaker_half_open_calls = 2;
  return o;
}

ChargeRequest req(const std::string& key) { return {key, 500, "USD"}; }

}  // namespace

class TestProviderClient : public QObject {
  Q_OBJECT
 private slots:
  void capturesOnTheFirstAttempt() {
    ProviderSimulator sim(instant(), 1, nullptr);
    FakeClock clock;
    ProviderClient client(sim, small_breaker(), clock, nullptr);
    auto a = client.charge(req("o"));
    QCOMPARE(a.kind, ProviderAnswer::Kind::captured);
    QCOMPARE(a.attempts, 1);
    QVERIFY(a.reference.rfind("ch_", 0) == 0);
  }

  void aDeclineIsNotRetriedAndKeepsTheBreakerClosed() {
    ProviderProfile p = instant();
    p.decline_rate = 1;
    ProviderSimulator sim(p, 1, nullptr);
    FakeClock clock;
    ProviderClient client(sim, small_breaker(), clock, nullptr);
    for (int i = 0; i < 6; ++i) {
      auto a = client.charge(req("o" + std::to_string(i)));
      QCOMPARE(a.kind, ProviderAnswer::Kind::declined);
      QCOMPARE(a.attempts, 1);
    }
    QCOMPARE(client.breaker().state(), CircuitState::closed);
  }

  void failuresAreRetriedThenFallBackAsUnavailable() {
    ProviderProfile p = instant();
    p.failure_rate = 1;
    ProviderSimulator sim(p, 1, nullptr);
    FakeClock clock;
    auto options = small_breaker();
    options.breaker_minimum_calls = options.breaker_window_size = 20;
    ProviderClient client(sim, options, clock, nullptr);
    auto a = client.charge(req("o"));
    QCOMPARE(a.kind, ProviderAnswer::Kind::unavailable);
    QCOMPARE(a.attempts, 3);
    QCOMPARE(a.reason, std::string("provider_error"));
    QCOMPARE(a.retry_after, 1s);
    QCOMPARE(sim.stats().errors, std::uint64_t(3));
  }

  void aRetryAfterATransientFailureCaptures() {
    ProviderProfile p = instant();
    p.failure_rate = 0.5;
    ProviderSimulator sim(p, 11, nullptr);
    FakeClock clock;
    auto options = small_breaker();
    options.max_attempts = 10;
    options.breaker_minimum_calls = options.breaker_window_size = 100;
    ProviderClient client(sim, options, clock, nullptr);
    int retried = 0;
    for (int i = 0; i < 20; ++i) {
      auto a = client.charge(req("o" + std::to_string(i)));
      QCOMPARE(a.kind, ProviderAnswer::Kind::captured);
      retried += a.attempts > 1;
    }
    QVERIFY(retried > 0);
    QCOMPARE(sim.stats().captured, std::uint64_t(20));  // one charge per key, however many attempts
  }

  void theBreakerOpensRejectsWithRetryAfterAndClosesAfterProbes() {
    prometheus::Registry registry;
    ProviderProfile p = instant();
    p.outage = true;
    ProviderSimulator sim(p, 1, nullptr);
    FakeClock clock;
    auto options = small_breaker();
    options.max_attempts = 1;
    ProviderClient client(sim, options, clock, &registry);
    for (int i = 0; i < 4; ++i) QCOMPARE(client.charge(req("o" + std::to_string(i))).kind, ProviderAnswer::Kind::unavailable);
    QCOMPARE(client.breaker().state(), CircuitState::open);
    QCOMPARE(mambogo::test::metric_value(registry, "resilience4j_circuitbreaker_state",
                                         {{"name", "payment-provider"}, {"state", "open"}}),
             1.0);

    clock.advance(3s);
    auto rejected = client.charge(req("x"));
    QCOMPARE(rejected.kind, ProviderAnswer::Kind::unavailable);
    QCOMPARE(rejected.reason, std::string("circuit_open"));
    QCOMPARE(rejected.attempts, 0);
    QCOMPARE(rejected.retry_after, 7s);  // what is left of the OPEN wait
    QCOMPARE(sim.stats().errors, std::uint64_t(4));  // the provider was not called

    sim.set_outage(false);
    clock.advance(8s);
    QCOMPARE(client.charge(req("y")).kind, ProviderAnswer::Kind::captured);
    QCOMPARE(client.breaker().state(), CircuitState::half_open);
    QCOMPARE(client.charge(req("z")).kind, ProviderAnswer::Kind::captured);
    QCOMPARE(client.breaker().state(), CircuitState::closed);
    QCOMPARE(mambogo::test::metric_value(registry, "resilience4j_circuitbreaker_state",
                                         {{"name", "payment-provider"}, {"state", "closed"}}),
             1.0);
  }

  void aSlowProviderIsCutByTheTimeLimiter() {
    ProviderProfile p = instant();
    p.latency_p50_ms = 2'000;
    ProviderSimulator sim(p, 1, nullptr);
    auto options = small_breaker();
    options.timeout = 30ms;
    options.max_attempts = 2;
    ProviderClient client(sim, options, system_clock(), nullptr);
    auto a = client.charge(req("o"));
    QCOMPARE(a.kind, ProviderAnswer::Kind::unavailable);
    QCOMPARE(a.reason, std::string("provider_timeout"));
    QCOMPARE(a.attempts, 2);
    // The provider took the charge on the first attempt; the second was a replay.
    QCOMPARE(sim.stats().captured, std::uint64_t(1));
    QCOMPARE(sim.stats().replayed, std::uint64_t(1));
  }
};

QTEST_GUILESS_MAIN(TestProviderClient)
#include "tst_provider_client.moc"
