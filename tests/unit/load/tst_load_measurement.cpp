// The measuring parts of the load engine without sockets: the histogram's HdrHistogram
// properties, the open model's arrival schedule, and threshold parsing and evaluation.
#include <QtTest>
#include <cmath>
#include <random>

#include "load/histogram.h"
#include "load/schedule.h"
#include "load/stats.h"
#include "load/threshold.h"

using namespace mambogo::load;

class TestLoadMeasurement : public QObject {
  Q_OBJECT

 private slots:
  void histogramHasHdrHistogramLayoutAndFixedMemory() {
    Histogram h;
    // 3 significant digits from 1 µs to 1 h: 2048 sub-buckets, 22 buckets → 23 * 1024 counters.
    QCOMPARE(h.counter_count(), std::size_t{23 * 1024});
    for (int i = 0; i < 100'000; ++i) h.record(i % 5000);
    QCOMPARE(h.counter_count(), std::size_t{23 * 1024});
  }

  void everyValueKeepsThreeSignificantDigits() {
    Histogram h;
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> pick(1, Histogram::highest);
    for (int i = 0; i < 20'000; ++i) {
      std::int64_t v = i < 2048 ? i + 1 : pick(rng);
      QVERIFY(h.lowest_equivalent(v) <= v);
      QVERIFY(h.highest_equivalent(v) >= v);
      double width = static_cast<double>(h.highest_equivalent(v) - h.lowest_equivalent(v) + 1);
      QVERIFY2(width <= std::max(1.0, static_cast<double>(v) / 1000.0), qPrintable(QString::number(v)));
    }
    // Below 2048 µs every microsecond is its own bucket.
    QCOMPARE(h.lowest_equivalent(2047), std::int64_t{2047});
    QCOMPARE(h.highest_equivalent(2047), std::int64_t{2047});
  }

  void percentilesMatchAKnownDistribution() {
    Histogram h;
    for (std::int64_t v = 1; v <= 10'000; ++v) h.record(v * 100);  // 100 µs .. 1 s uniformly
    QCOMPARE(h.total_count(), std::int64_t{10'000});
    QCOMPARE(h.min(), std::int64_t{100});
    QCOMPARE(h.max(), std::int64_t{1'000'000});
    auto near = [](std::int64_t got, double want) {
      return std::abs(static_cast<double>(got) - want) <= want * 0.001 + 1;
    };
    QVERIFY(near(h.value_at_percentile(50), 500'000));
    QVERIFY(near(h.value_at_percentile(90), 900'000));
    QVERIFY(near(h.value_at_percentile(99), 990'000));
    QVERIFY(near(h.value_at_percentile(99.9), 999'000));
    QCOMPARE(h.value_at_percentile(100), std::int64_t{1'000'000});
    QVERIFY(std::abs(h.mean() - 500'050.0) < 500);
  }

  void mergingEqualsRecordingEverythingInOne() {
    Histogram a, b, all;
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(7.0, 1.2);  // a long tail, in µs
    for (int i = 0; i < 50'000; ++i) {
      auto v = static_cast<std::int64_t>(latency(rng));
      (i % 3 ? a : b).record(v);
      all.record(v);
    }
    a.merge(b);
    QCOMPARE(a.total_count(), all.total_count());
    QCOMPARE(a.max(), all.max());
    QCOMPARE(a.min(), all.min());
    for (double p : {50.0, 90.0, 99.0, 99.9, 99.99})
      QCOMPARE(a.value_at_percentile(p), all.value_at_percentile(p));
  }

  void valuesAboveAnHourAreClampedAndCounted() {
    Histogram h;
    h.record(Histogram::highest * 3);
    h.record(-5);
    QCOMPARE(h.saturated(), std::int64_t{1});
    QCOMPARE(h.max(), Histogram::highest);
    QCOMPARE(h.min(), std::int64_t{0});
    h.reset();
    QCOMPARE(h.total_count(), std::int64_t{0});
    QCOMPARE(h.value_at_percentile(99), std::int64_t{0});
  }

  void constantRateArrivalsAreEvenlySpaced() {
    ArrivalPhase p;
    p.duration_s = 2;
    p.rate = 10;
    ArrivalSchedule s({p});
    std::vector<double> at;
    while (auto a = s.next()) at.push_back(std::chrono::duration<double>(a->at).count());
    QCOMPARE(at.size(), std::size_t{20});
    for (std::size_t i = 0; i < at.size(); ++i)
      QVERIFY(std::abs(at[i] - 0.1 * static_cast<double>(i)) < 1e-6);
  }

  void rampCountsTheIntegralOfTheRate() {
    ArrivalPhase ramp;
    ramp.duration_s = 10;
    ramp.rate = 10;
    ramp.ramp_to = 50;  // average 30/s over 10 s → 300 arrivals
    ArrivalPhase pause;
    pause.pause = true;
    pause.duration_s = 5;
    ArrivalPhase count;
    count.duration_s = 4;
    count.arrival_count = 8;
    ArrivalSchedule s({ramp, pause, count});
    int in_ramp = 0, first_half = 0, in_count = 0;
    double last = -1;
    while (auto a = s.next()) {
      double t = std::chrono::duration<double>(a->at).count();
      QVERIFY(t >= last);  // non-decreasing
      last = t;
      if (a->phase == 0) {
        ++in_ramp;
        first_half += t < 5;
      } else {
        QCOMPARE(a->phase, std::size_t{2});
        QVERIFY(t >= 15 && t < 19);  // nothing during the pause
        ++in_count;
      }
    }
    QVERIFY(std::abs(in_ramp - 300) <= 1);
    QVERIFY(std::abs(first_half - 100) <= 1);  // 10→30/s over the first 5 s: 100 arrivals
    QCOMPARE(in_count, 8);
    QCOMPARE(phase_at({ramp, pause, count}, 12.0), std::size_t{1});
  }

  void thresholdsParseK6AndArtillerySpellings_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("metric");
    QTest::addColumn<double>("percentile");
    QTest::addColumn<double>("limit");
    QTest::newRow("k6") << "http_req_duration:p(95)<500" << int(Threshold::Metric::duration) << 95.0 << 500.0;
    QTest::newRow("short") << "p99<0.25s" << int(Threshold::Metric::duration) << 99.0 << 250.0;
    QTest::newRow("p999") << "p999 <= 900ms" << int(Threshold::Metric::duration) << 99.9 << 900.0;
    QTest::newRow("service") << "http_req_duration_service:p(99)<2000us"
                             << int(Threshold::Metric::service_duration) << 99.0 << 2.0;
    QTest::newRow("failed") << "http_req_failed:rate<0.01" << int(Threshold::Metric::failed) << 95.0 << 0.01;
    QTest::newRow("rate") << "rate<0.05" << int(Threshold::Metric::failed) << 95.0 << 0.05;
    QTest::newRow("dropped") << "dropped_iterations:count==0" << int(Threshold::Metric::dropped) << 95.0
                             << 0.0;
  }
  void thresholdsParseK6AndArtillerySpellings() {
    QFETCH(QString, text);
    QFETCH(int, metric);
    QFETCH(double, percentile);
    QFETCH(double, limit);
    auto t = parse_threshold(text.toStdString());
    QCOMPARE(int(t.metric), metric);
    if (t.aggregation == Threshold::Aggregation::percentile) QCOMPARE(t.percentile, percentile);
    QCOMPARE(t.limit, limit);
  }

  void malformedThresholdsAreRejectedWithTheReason_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no op") << "p(95) 500"
                           << "no comparison";
    QTest::newRow("metric") << "http_req_latency:p(95)<5"
                            << "unknown metric";
    QTest::newRow("aggregation") << "p(95)<abc"
                                 << "not a number";
    QTest::newRow("mismatch") << "http_req_failed:p(95)<5"
                              << "does not apply";
    QTest::newRow("range") << "p(101)<5"
                           << "within 0..100";
  }
  void malformedThresholdsAreRejectedWithTheReason() {
    QFETCH(QString, text);
    QFETCH(QString, reason);
    try {
      parse_threshold(text.toStdString());
      QFAIL("accepted");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains(reason), e.what());
    }
  }

  void thresholdsEvaluateAgainstASummary() {
    Summary s;
    s.duration_s = 10;
    for (int i = 1; i <= 100; ++i) {
      ++s.overall.count;
      s.overall.corrected.record(i * 1000);  // 1..100 ms
    }
    s.overall.failed = 2;
    auto p95 = evaluate(parse_threshold("p(95)<96"), s);
    QVERIFY(p95.passed);
    // HdrHistogram reports the highest value equivalent to the bucket (95.039 ms here).
    QVERIFY2(p95.observed_text.starts_with("p(95)=95.0") && p95.observed_text.ends_with("ms"),
             p95.observed_text.c_str());
    QVERIFY(!evaluate(parse_threshold("p(99)<50"), s).passed);
    QVERIFY(!evaluate(parse_threshold("http_req_failed:rate<0.01"), s).passed);
    QVERIFY(evaluate(parse_threshold("http_reqs:rate>=10"), s).passed);
    QVERIFY(evaluate(parse_threshold("http_reqs:count==100"), s).passed);
  }
};

QTEST_GUILESS_MAIN(TestLoadMeasurement)
#include "tst_load_measurement.moc"
