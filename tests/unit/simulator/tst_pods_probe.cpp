// Probe result bookkeeping (kubelet's prober worker) and Chaos Mesh target counting.
#include "pods/chaos.h"
#include "pods/probe.h"

#include <QtTest>

using namespace mambogo::sim;
using namespace std::chrono_literals;

class PodProbeTest : public QObject {
  Q_OBJECT
 private slots:
  void settingsDefaultLikeKubernetes() {
    const auto s = ProbeSettings::from_json(Json::object());
    QCOMPARE(s.period, 10'000ms);
    QCOMPARE(s.timeout, 1'000ms);
    QCOMPARE(s.success_threshold, 1);
    QCOMPARE(s.failure_threshold, 3);
    const auto t = ProbeSettings::from_json({{"initialDelaySeconds", 30}, {"periodSeconds", 10}}, 0.1);
    QCOMPARE(t.initial_delay, 3'000ms);
    QCOMPARE(t.period, 1'000ms);
  }

  void readinessNeedsSuccessThreshold() {
    ProbeTracker r(ProbeKind::readiness, ProbeSettings::from_json({{"successThreshold", 2}, {"failureThreshold", 2}}));
    const auto t0 = std::chrono::steady_clock::now();
    QVERIFY(!r.result());  // readiness starts as failure
    QVERIFY(!r.record(true, t0));
    QVERIFY(r.record(true, t0));
    QVERIFY(r.result());
    QVERIFY(!r.record(false, t0));  // one failure is below the threshold
    QVERIFY(!r.record(true, t0));
    QVERIFY(!r.record(false, t0));
    QVERIFY(r.record(false, t0));
    QVERIFY(!r.result());
    QVERIFY(!r.on_hold());  // readiness keeps probing
  }

  void livenessFailureHoldsUntilRestart() {
    ProbeTracker l(ProbeKind::liveness, ProbeSettings::from_json({{"failureThreshold", 3}, {"periodSeconds", 1}}));
    const auto t0 = std::chrono::steady_clock::now();
    QVERIFY(l.result());  // liveness starts as success
    QVERIFY(l.due(t0));
    l.record(false, t0);
    QVERIFY(!l.due(t0 + 500ms));
    QVERIFY(l.due(t0 + 1s));
    QVERIFY(!l.record(false, t0));
    QVERIFY(l.record(false, t0));
    QVERIFY(!l.result());
    QVERIFY(l.on_hold());
    QVERIFY(!l.due(t0 + 1h));
    l.reset(t0);
    QVERIFY(l.result());
    QVERIFY(l.due(t0));
  }

  void initialDelayDefersTheFirstProbe() {
    ProbeTracker r(ProbeKind::readiness, ProbeSettings::from_json({{"initialDelaySeconds", 5}}));
    const auto t0 = std::chrono::steady_clock::now();
    r.reset(t0);
    QVERIFY(!r.due(t0 + 4s));
    QVERIFY(r.due(t0 + 5s));
  }

  // kubelet's manual trigger (a pod sync): allowed once initialDelaySeconds have passed, and it
  // leaves the periodic schedule where it was.
  void anExtraRunKeepsThePeriod() {
    ProbeTracker r(ProbeKind::readiness, ProbeSettings::from_json({{"initialDelaySeconds", 1}, {"periodSeconds", 10}}));
    const auto t0 = std::chrono::steady_clock::now();
    r.reset(t0);
    QVERIFY(!r.may_run(t0 + 500ms));
    QVERIFY(r.may_run(t0 + 1s));
    QVERIFY(!r.record(false, t0 + 1s));  // the periodic run at the initial delay
    QCOMPARE(r.next_due(), t0 + 11s);
    QVERIFY(!r.record(false, t0 + 3s, false));  // an extra run
    QCOMPARE(r.next_due(), t0 + 11s);
    QVERIFY(r.record(true, t0 + 4s, false));
    QVERIFY(r.result());
    QCOMPARE(r.next_due(), t0 + 11s);
  }

  void startupFailureIsAChange() {
    ProbeTracker s(ProbeKind::startup, ProbeSettings::from_json({{"failureThreshold", 2}}));
    const auto t0 = std::chrono::steady_clock::now();
    QVERIFY(!s.record(false, t0));
    QVERIFY(s.record(false, t0));  // unknown → failure: the kubelet kills the container
    QVERIFY(s.on_hold());
  }

  void chaosModesCountTargets_data() {
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("value");
    QTest::addColumn<int>("candidates");
    QTest::addColumn<int>("draw");
    QTest::addColumn<int>("expected");
    QTest::newRow("one") << "one" << "" << 5 << 0 << 1;
    QTest::newRow("one of none") << "one" << "" << 0 << 0 << 0;
    QTest::newRow("all") << "all" << "" << 5 << 0 << 5;
    QTest::newRow("fixed") << "fixed" << "2" << 5 << 0 << 2;
    QTest::newRow("fixed over") << "fixed" << "9" << 5 << 0 << 5;
    QTest::newRow("fixed-percent floors") << "fixed-percent" << "50" << 5 << 0 << 2;
    QTest::newRow("random-max-percent") << "random-max-percent" << "60" << 10 << 40 << 4;
    QTest::newRow("random draw capped") << "random-max-percent" << "30" << 10 << 90 << 3;
  }
  void chaosModesCountTargets() {
    QFETCH(QString, mode);
    QFETCH(QString, value);
    QFETCH(int, candidates);
    QFETCH(int, draw);
    QFETCH(int, expected);
    QCOMPARE(static_cast<int>(chaos_target_count(mode.toStdString(), value.toStdString(),
                                                 static_cast<std::size_t>(candidates), draw)),
             expected);
  }

  void badChaosModesAreRejected() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, chaos_target_count("some", "", 3, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, chaos_target_count("fixed", "two", 3, 0));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, chaos_target_count("fixed-percent", "150", 3, 0));
  }

  void goDurations() {
    QCOMPARE(parse_go_duration("30s").value(), 30'000ms);
    QCOMPARE(parse_go_duration("1m30s").value(), 90'000ms);
    QCOMPARE(parse_go_duration("500ms").value(), 500ms);
    QCOMPARE(parse_go_duration("1.5h").value(), 5'400'000ms);
    QVERIFY(!parse_go_duration("30"));
    QVERIFY(!parse_go_duration("abc"));
    QVERIFY(!parse_go_duration("-5s"));
  }
};

QTEST_GUILESS_MAIN(PodProbeTest)
#include "tst_pods_probe.moc"
