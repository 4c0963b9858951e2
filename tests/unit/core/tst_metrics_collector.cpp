// MetricsCollector's maths on scrapes fed in directly (no server): rates from counters with a
// baseline and reset handling, 5xx share, histogram quantiles per pod and summed across the
// service's pods, breaker transitions, CPU/memory from PodMetrics, and what lands in the store.
#include <QJsonDocument>
#include <QSignalSpy>
#include <QtTest>
#include <cmath>

#include "core/metrics_collector.h"

using mambogo::core::MetricsCollector;
using mambogo::core::TimeSeriesStore;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000;
const char* const kLes[] = {"0.01", "0.1", "1", "+Inf"};

// One status's series in the runtime's exposition shape; `cumulative` per le above.
QByteArray series(const char* status, std::array<int, 4> cumulative) {
  const QByteArray labels = QByteArray("method=\"GET\",outcome=\"") + (status[0] == '5' ? "SERVER_ERROR" : "SUCCESS") +
                            "\",status=\"" + status + "\",uri=\"/api/orders\"";
  QByteArray out = "http_server_requests_seconds_count{" + labels + "} " + QByteArray::number(cumulative[3]) + "\n" +
                   "http_server_requests_seconds_sum{" + labels + "} 1.5\n";
  for (int i = 0; i < 4; ++i)
    out += "http_server_requests_seconds_bucket{" + labels + ",le=\"" + kLes[i] + "\"} " + QByteArray::number(cumulative[i]) + "\n";
  return out;
}

QByteArray exposition(const QByteArray& body, const char* breakerState) {
  QByteArray out = "# HELP http_server_requests_seconds Time\n# TYPE http_server_requests_seconds histogram\n" + body;
  out += "# TYPE resilience4j_circuitbreaker_state gauge\n";
  for (const char* state : {"closed", "open", "half_open", "disabled", "forced_open", "metrics_only"})
    out += QByteArray("resilience4j_circuitbreaker_state{name=\"payment\",state=\"") + state + "\"} " +
           (qstrcmp(state, breakerState) == 0 ? "1" : "0") + "\n";
  return out;
}

}  // namespace

class TestMetricsCollector : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void derivesRatesQuantilesAndBreakersAcrossPods() {
    TimeSeriesStore store;
    MetricsCollector collector(nullptr, nullptr, &store, MetricsCollector::Options{});
    QSignalSpy breakers(&collector, &MetricsCollector::breakerChanged);
    QSignalSpy updated(&collector, &MetricsCollector::updated);
    const QString app = QStringLiteral("order-service");

    // t0: baselines only.
    collector.ingestExposition(QStringLiteral("order-a"), app, exposition(series("200", {0, 0, 0, 0}), "closed"), kT0);
    collector.ingestExposition(QStringLiteral("order-b"), app, exposition(series("200", {3, 3, 3, 3}), "closed"), kT0);
    collector.finishRound(kT0);
    QVERIFY(std::isnan(collector.service(app).rps));

    // t0+1s: a served 8 OK (4 under 10 ms, 4 under 100 ms) and 2 x 503 (under 1 s); b 10 fast.
    collector.ingestExposition(QStringLiteral("order-a"), app,
                               exposition(series("200", {4, 8, 8, 8}) + series("503", {0, 0, 2, 2}), "closed"), kT0 + 1000);
    collector.ingestExposition(QStringLiteral("order-b"), app, exposition(series("200", {13, 13, 13, 13}), "closed"), kT0 + 1000);
    collector.ingestPodMetrics(QJsonDocument::fromJson(R"({"items":[
        {"metadata":{"name":"order-a"},"containers":[{"usage":{"cpu":"250m","memory":"64Mi"}},{"usage":{"cpu":"50000000n","memory":"1Mi"}}]},
        {"metadata":{"name":"order-b"},"containers":[{"usage":{"cpu":"1","memory":"128Mi"}}]}]})").object());
    collector.finishRound(kT0 + 1000);

    const auto a = collector.pod(QStringLiteral("order-a"));
    QCOMPARE(a.rps, 10.0);
    QCOMPARE(a.errorRate, 0.2);
    QCOMPARE(a.p50, 0.01 + 0.09 * (1.0 / 4.0));  // rank 5 of 10: 1 into (0.01, 0.1] holding 4
    QCOMPARE(a.p99, 0.1 + 0.9 * (1.9 / 2.0));    // rank 9.9: 1.9 into (0.1, 1] holding 2
    QCOMPARE(a.cpuCores, 0.3);
    QCOMPARE(a.memoryBytes, 65.0 * 1024 * 1024);
    QCOMPARE(a.breakers.value(QStringLiteral("payment")), QStringLiteral("closed"));

    const auto s = collector.service(app);
    QCOMPARE(s.rps, 20.0);
    QCOMPARE(s.errorRate, 0.1);
    QCOMPARE(s.p50, 0.01 * (10.0 / 14.0));   // summed buckets 14/18/20/20: rank 10 in the first
    QCOMPARE(s.p99, 0.1 + 0.9 * (1.8 / 2.0));
    QCOMPARE(s.cpuCores, 1.3);
    QCOMPARE(collector.services(), QStringList{app});

    // t0+2s: a restarted (counters back near 0) and its breaker opened; b idle.
    collector.ingestExposition(QStringLiteral("order-a"), app, exposition(series("200", {1, 1, 1, 1}), "open"), kT0 + 2000);
    collector.ingestExposition(QStringLiteral("order-b"), app, exposition(series("200", {13, 13, 13, 13}), "closed"), kT0 + 2000);
    collector.finishRound(kT0 + 2000);
    QCOMPARE(collector.pod(QStringLiteral("order-a")).rps, 1.0);  // the reset counts the new value
    QCOMPARE(collector.pod(QStringLiteral("order-b")).rps, 0.0);
    QVERIFY(std::isnan(collector.pod(QStringLiteral("order-b")).errorRate));
    QCOMPARE(collector.service(app).rps, 1.0);
    // The quantile window (10 s) still holds t0+1s: a's buckets are 5/9/11/11 now.
    QCOMPARE(collector.pod(QStringLiteral("order-a")).p99, 0.1 + 0.9 * ((0.99 * 11 - 9) / 2.0));
    QCOMPARE(breakers.size(), 1);
    QCOMPARE(breakers[0], (QVariantList{app, QStringLiteral("payment"), QStringLiteral("closed"), QStringLiteral("open")}));
    QCOMPARE(collector.service(app).breakers.value(QStringLiteral("payment")), QStringLiteral("open"));  // worst of the pods
    QCOMPARE(updated.size(), 3);

    const auto rps = store.query(MetricsCollector::seriesName(QStringLiteral("service"), app, QStringLiteral("rps")), kT0, kT0 + 2000);
    QCOMPARE(rps.size(), std::size_t(2));  // no point for the baseline round
    QCOMPARE(rps[0].value, 20.0);
    QCOMPARE(rps[1].value, 1.0);
    QCOMPARE(store.latest(MetricsCollector::seriesName(QStringLiteral("pod"), QStringLiteral("order-a"), QStringLiteral("cpu")))->value, 0.3);
  }

  void quantileWindowForgetsOldIncreases() {
    TimeSeriesStore store;
    MetricsCollector::Options options;
    options.quantileWindowMs = 3000;
    MetricsCollector collector(nullptr, nullptr, &store, options);
    const QString app = QStringLiteral("cart-service");
    collector.ingestExposition(QStringLiteral("cart-a"), app, exposition(series("200", {0, 0, 0, 0}), "closed"), kT0);
    collector.ingestExposition(QStringLiteral("cart-a"), app, exposition(series("200", {0, 0, 10, 10}), "closed"), kT0 + 1000);
    collector.finishRound(kT0 + 1000);
    QVERIFY(collector.service(app).p50 > 0.1);  // all slow
    // Then only fast requests for more than the window.
    for (int i = 2; i <= 5; ++i)
      collector.ingestExposition(QStringLiteral("cart-a"), app, exposition(series("200", {10 * (i - 1), 10 * (i - 1), 10 * i, 10 * i}), "closed"), kT0 + 1000 * i);
    collector.finishRound(kT0 + 5000);
    QVERIFY2(collector.service(app).p99 <= 0.01, qPrintable(QString::number(collector.service(app).p99)));
  }

  void malformedScrapeIsReportedNotCounted() {
    TimeSeriesStore store;
    MetricsCollector collector(nullptr, nullptr, &store, MetricsCollector::Options{});
    QSignalSpy failed(&collector, &MetricsCollector::scrapeFailed);
    collector.ingestExposition(QStringLiteral("p"), QStringLiteral("x"), "<html>502 Bad Gateway</html>", kT0);
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed[0][0].toString(), QStringLiteral("p"));
    QVERIFY2(failed[0][1].toString().startsWith(QStringLiteral("/metrics: line 1: ")), qPrintable(failed[0][1].toString()));
  }
};

QTEST_GUILESS_MAIN(TestMetricsCollector)
#include "tst_metrics_collector.moc"
