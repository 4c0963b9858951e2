// The payment-provider simulator: its latency distribution, its rates, its determinism, its
// outage modes, and the idempotency that lets a charge happen at most once per key.
#include <QtTest>

#include <algorithm>
#include <vector>

#include <prometheus/registry.h>

#include "metric_value.h"
#include "payment/provider_simulator.h"

using namespace mambogo::payment;
using namespace std::chrono_literals;

namespace {

ProviderProfile instant(double failure = 0, double decline = 0) {
  ProviderProfile p;
  p.latency_p50_ms = 0;
  p.latency_p99_ms = 0;
  p.failure_rate = failure;
  p.decline_rate = decline;
  return p;
}

double quantile_ms(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

ChargeRequest req(const std::string& key) { return {key, 1000, "USD"}; }

}  // namespace

class TestProviderSimulator : public QObject {
  Q_OBJECT
 private slots:
  void latencyFollowsTheConfiguredMedianAndP99() {
    ProviderProfile p;
    p.latency_p50_ms = 50;
    p.latency_p99_ms = 400;
    ProviderSimulator sim(p, 42, nullptr);
    std::vector<double> ms;
    for (int i = 0; i < 50'000; ++i) ms.push_back(std::chrono::duration<double, std::milli>(sim.sample_latency()).count());
    QVERIFY2(std::abs(quantile_ms(ms, 0.50) - 50) < 50 * 0.05, qPrintable(QString::number(quantile_ms(ms, 0.5))));
    QVERIFY2(std::abs(quantile_ms(ms, 0.99) - 400) < 400 * 0.10, qPrintable(QString::number(quantile_ms(ms, 0.99))));
    QVERIFY(*std::min_element(ms.begin(), ms.end()) > 0);
  }

  void p99NotAboveP50GivesAFixedLatency() {
    ProviderProfile p;
    p.latency_p50_ms = 30;
    p.latency_p99_ms = 30;
    ProviderSimulator sim(p, 1, nullptr);
    for (int i = 0; i < 100; ++i) QCOMPARE(sim.sample_latency(), std::chrono::nanoseconds(30ms));
    sim.set_latency(0, 500);
    QCOMPARE(sim.sample_latency(), std::chrono::nanoseconds(0));
  }

  void sameSeedGivesTheSameSequence() {
    auto run = [](std::uint64_t seed) {
      ProviderSimulator sim(instant(0.3, 0.2), seed, nullptr);
      std::vector<std::string> seen;
      for (int i = 0; i < 300; ++i) {
        auto r = sim.charge(req("order-" + std::to_string(i)), 1s);
        seen.push_back(std::string(to_string(r.outcome)) + r.reference);
      }
      return seen;
    };
    QCOMPARE(run(7), run(7));
    QVERIFY(run(7) != run(8));
  }

  void failureAndDeclineRatesAreHonoured() {
    ProviderSimulator sim(instant(0.3, 0.2), 3, nullptr);
    int failed = 0, declined = 0, captured = 0;
    const int n = 20'000;
    for (int i = 0; i < n; ++i) {
      switch (sim.charge(req("k" + std::to_string(i)), 1s).outcome) {
        case ChargeOutcome::failed: ++failed; break;
        case ChargeOutcome::declined: ++declined; break;
        case ChargeOutcome::captured: ++captured; break;
        case ChargeOutcome::timed_out: QFAIL("no latency, no timeout"); break;
      }
    }
    QVERIFY(std::abs(failed / double(n) - 0.3) < 0.02);
    // Declines are a share of the charges that got through.
    QVERIFY(std::abs(declined / double(n - failed) - 0.2) < 0.02);
    QCOMPARE(sim.stats().errors, std::uint64_t(failed));
    QCOMPARE(sim.stats().captured, std::uint64_t(captured));
  }

  void aKeyIsChargedOnceAndThenReplayed() {
    prometheus::Registry registry;
    ProviderSimulator sim(instant(), 5, &registry);
    auto first = sim.charge(req("order-1"), 1s);
    QCOMPARE(first.outcome, ChargeOutcome::captured);
    QVERIFY(!first.replayed);
    for (int i = 0; i < 9; ++i) {
      auto again = sim.charge(req("order-1"), 1s);
      QCOMPARE(again.outcome, ChargeOutcome::captured);
      QCOMPARE(again.reference, first.reference);
      QVERIFY(again.replayed);
    }
    QCOMPARE(mambogo::test::metric_value(registry, "provider_charges_total", {{"result", "captured"}}), 1.0);
    QCOMPARE(mambogo::test::metric_value(registry, "provider_charges_total", {{"result", "replayed"}}), 9.0);
  }

  void aDeclineIsRememberedToo() {
    ProviderSimulator sim(instant(0, 1), 5, nullptr);
    QCOMPARE(sim.charge(req("o"), 1s).outcome, ChargeOutcome::declined);
    sim.set_decline_rate(0);
    auto again = sim.charge(req("o"), 1s);
    QCOMPARE(again.outcome, ChargeOutcome::declined);
    QCOMPARE(again.reason, std::string("card_declined"));
    QCOMPARE(sim.stats().declined, std::uint64_t(1));
  }

  void aTimedOutChargeHappenedAndIsNotRepeated() {
    ProviderProfile slow = instant();
    slow.latency_p50_ms = 200;
    ProviderSimulator sim(slow, 9, nullptr);
    QCOMPARE(sim.charge(req("o"), 20ms).outcome, ChargeOutcome::timed_out);
    QCOMPARE(sim.stats().captured, std::uint64_t(1));  // the provider took it
    sim.set_latency(0, 0);
    auto retried = sim.charge(req("o"), 1s);
    QCOMPARE(retried.outcome, ChargeOutcome::captured);
    QVERIFY(retried.replayed);
    QCOMPARE(sim.stats().captured, std::uint64_t(1));
  }

  void outageFailModeFailsAtOnceAndChargesNothing() {
    ProviderProfile p = instant();
    p.latency_p50_ms = 5'000;  // an outage that fails does not wait for it
    p.outage = true;
    ProviderSimulator sim(p, 1, nullptr);
    QElapsedTimer t;
    t.start();
    auto r = sim.charge(req("o"), 10s);
    QCOMPARE(r.outcome, ChargeOutcome::failed);
    QCOMPARE(r.reason, std::string("provider_outage"));
    QVERIFY(t.elapsed() < 5'000);
    sim.set_outage(false);
    sim.set_latency(0, 0);
    auto healed = sim.charge(req("o"), 1s);
    QCOMPARE(healed.outcome, ChargeOutcome::captured);
    QVERIFY(!healed.replayed);  // the failed call charged nothing
  }

  void outageHangModeLastsUntilTheCallersLimit() {
    ProviderProfile p = instant();
    p.outage = true;
    p.outage_mode = OutageMode::hang;
    ProviderSimulator sim(p, 1, nullptr);
    QElapsedTimer t;
    t.start();
    auto r = sim.charge(req("o"), 100ms);
    QCOMPARE(r.outcome, ChargeOutcome::timed_out);
    QVERIFY(t.elapsed() >= 100);
    QCOMPARE(sim.stats().errors, std::uint64_t(1));
    QCOMPARE(sim.stats().captured, std::uint64_t(0));
  }

  void rejectsProfilesOutOfRange_data() {
    QTest::addColumn<double>("failure");
    QTest::addColumn<double>("decline");
    QTest::addColumn<double>("p50");
    QTest::newRow("failure > 1") << 1.5 << 0.0 << 10.0;
    QTest::newRow("decline < 0") << 0.0 << -0.1 << 10.0;
    QTest::newRow("negative latency") << 0.0 << 0.0 << -1.0;
    QTest::newRow("NaN rate") << std::nan("") << 0.0 << 10.0;
  }
  void rejectsProfilesOutOfRange() {
    QFETCH(double, failure);
    QFETCH(double, decline);
    QFETCH(double, p50);
    ProviderProfile p;
    p.failure_rate = failure;
    p.decline_rate = decline;
    p.latency_p50_ms = p50;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ProviderSimulator(p, 1, nullptr));
    ProviderSimulator sim(instant(), 1, nullptr);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sim.set_failure_rate(failure > 1 ? failure : 2.0));
    QCOMPARE(sim.profile().failure_rate, 0.0);  // unchanged
  }

  void forgetsTheOldestKeysBeyondItsWindow() {
    ProviderSimulator sim(instant(), 1, nullptr, 2);
    sim.charge(req("a"), 1s);
    sim.charge(req("b"), 1s);
    sim.charge(req("c"), 1s);
    QVERIFY(sim.charge(req("c"), 1s).replayed);
    QVERIFY(!sim.charge(req("a"), 1s).replayed);
  }
};

QTEST_GUILESS_MAIN(TestProviderSimulator)
#include "tst_provider_simulator.moc"
