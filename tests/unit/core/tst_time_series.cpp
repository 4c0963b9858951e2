// TimeSeriesStore: 1 s resolution for the last hour in a ring, 10 s aggregates up to 24 h,
// and a hard bound on memory.
#include <QtTest>

#include "core/time_series.h"

using mambogo::core::TimePoint;
using mambogo::core::TimeSeriesStore;

namespace {
constexpr std::int64_t kBase = 1'700'000'000'000;  // ms, a multiple of 10 s
std::int64_t at(std::int64_t second) { return kBase + second * 1000; }
}  // namespace

class TestTimeSeries : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void keepsTheLastHourAtOneSecond() {
    TimeSeriesStore store;
    for (int i = 0; i < 3600; ++i) QVERIFY(store.append(QStringLiteral("rps"), at(i) + 250, i));
    const auto points = store.query(QStringLiteral("rps"), at(0), at(3599));
    QCOMPARE(points.size(), std::size_t(3600));
    QCOMPARE(points.front(), (TimePoint{at(0), 0}));
    QCOMPARE(points.back(), (TimePoint{at(3599), 3599}));
    QCOMPARE(store.latest(QStringLiteral("rps"))->value, 3599.0);

    const auto window = store.query(QStringLiteral("rps"), at(100) - 1, at(109) + 999);
    QCOMPARE(window.size(), std::size_t(10));
    QCOMPARE(window.front().value, 100.0);
  }

  void ringWrapTurnsOlderSecondsIntoTenSecondAverages() {
    TimeSeriesStore store;
    for (int i = 0; i < 5000; ++i) store.append(QStringLiteral("rps"), at(i), i);
    const auto points = store.query(QStringLiteral("rps"), at(0), at(4999));
    // Seconds 1400..4999 at 1 s; 0..1399 as 140 steps of 10 s, each the average of its seconds.
    QCOMPARE(points.size(), std::size_t(140 + 3600));
    QCOMPARE(points[0], (TimePoint{at(0), 4.5}));
    QCOMPARE(points[139], (TimePoint{at(1390), 1394.5}));
    QCOMPARE(points[140], (TimePoint{at(1400), 1400}));
    for (std::size_t i = 1; i < points.size(); ++i) QVERIFY(points[i].tMs > points[i - 1].tMs);
  }

  void latencySeriesKeepTheMaximum() {
    TimeSeriesStore store;
    for (int i = 0; i < 3700; ++i)
      store.append(QStringLiteral("p99"), at(i), i % 10 == 3 ? 0.9 : 0.1, TimeSeriesStore::Aggregation::Max);
    const auto old = store.query(QStringLiteral("p99"), at(0), at(99));
    QCOMPARE(old.size(), std::size_t(10));
    for (const TimePoint& p : old) QCOMPARE(p.value, 0.9);
  }

  void keepsAtMostTwentyFourHours() {
    TimeSeriesStore store;
    const int seconds = 25 * 3600;
    for (int i = 0; i < seconds; ++i) store.append(QStringLiteral("cpu"), at(i), 1.0);
    const auto points = store.query(QStringLiteral("cpu"), at(0), at(seconds));
    QVERIFY(!points.empty());
    QCOMPARE(points.back().tMs, at(seconds - 1));
    const std::int64_t span = points.back().tMs - points.front().tMs;
    QVERIFY2(span <= 24 * 3600 * 1000 + 10'000 && span >= 24 * 3600 * 1000 - 20'000, qPrintable(QString::number(span)));
    QVERIFY(points.size() <= std::size_t(3600 + 24 * 360));
  }

  void sameSecondReplacesAndOlderIsRefused() {
    TimeSeriesStore store;
    QVERIFY(store.append(QStringLiteral("s"), at(5), 1));
    QVERIFY(store.append(QStringLiteral("s"), at(5) + 500, 2));
    QVERIFY(!store.append(QStringLiteral("s"), at(4), 3));
    const auto points = store.query(QStringLiteral("s"), at(0), at(10));
    QCOMPARE(points.size(), std::size_t(1));
    QCOMPARE(points[0].value, 2.0);
  }

  void gapsStayGaps() {
    TimeSeriesStore store;
    for (int s : {0, 1, 5, 3605}) store.append(QStringLiteral("g"), at(s), s);
    const auto points = store.query(QStringLiteral("g"), at(0), at(4000));
    // 0, 1 and 5 fell out of the hour into the step [0, 10) as their average; 3605 is at 1 s;
    // the seconds in between have no point.
    QCOMPARE(points.size(), std::size_t(2));
    QCOMPARE(points[0], (TimePoint{at(0), (0 + 1 + 5) / 3.0}));
    QCOMPARE(points[1], (TimePoint{at(3605), 3605}));
    QVERIFY(store.query(QStringLiteral("unknown"), at(0), at(10)).empty());
  }

  void memoryIsBoundedBySeriesCount() {
    static_assert(TimeSeriesStore::kBytesPerSeries <= 200 * 1024);
    TimeSeriesStore store(3);
    for (const char* name : {"a", "b", "c"}) QVERIFY(store.append(QLatin1String(name), at(0), 1));
    QVERIFY(!store.append(QStringLiteral("d"), at(0), 1));
    QVERIFY(store.append(QStringLiteral("a"), at(1), 1));  // existing series still take samples
    QCOMPARE(store.seriesNames(), (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
    QCOMPARE(store.memoryBytes(), 3 * TimeSeriesStore::kBytesPerSeries);
  }
};

QTEST_GUILESS_MAIN(TestTimeSeries)
#include "tst_time_series.moc"
