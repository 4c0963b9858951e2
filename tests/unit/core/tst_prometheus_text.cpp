// The Prometheus text parser on real service output and on malformed input, and the PromQL
// maths (histogram_quantile, counter increase/rate) against hand-computed values.
#include <QFile>
#include <QRandomGenerator>
#include <QtTest>
#include <cmath>
#include <limits>

#include "core/prometheus_text.h"

using namespace mambogo::core::prom;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string readData(const char* name) {
  QFile f(QStringLiteral(MAMBOGO_CORE_TEST_DATA "/") + QLatin1String(name));
  if (!f.open(QIODevice::ReadOnly)) qFatal("missing test data %s", name);
  return f.readAll().toStdString();
}

const Sample* find(const Exposition& e, std::string_view name, std::initializer_list<std::pair<const char*, const char*>> labels) {
  for (const Sample& s : e.samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) all = all && s.label(k) == std::optional<std::string_view>(v);
    if (all) return &s;
  }
  return nullptr;
}
}  // namespace

class TestPrometheusText : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  // Captured from mambogo-demo's /metrics (prometheus-cpp's serializer plus the runtime's own
  // request histogram) after 30 GET /hello, one /api/slow, one 404 and one 415.
  void parsesRealServiceOutput() {
    const Exposition e = parsePrometheusText(readData("mambogo_demo_metrics.txt"));
    QVERIFY2(e.errors.empty(), e.errors.empty() ? "" : e.errors.front().toString().c_str());
    QCOMPARE(e.typeOf("http_server_requests_seconds_bucket"), MetricType::Histogram);
    QCOMPARE(e.familyOf("http_server_requests_seconds_count"), std::string("http_server_requests_seconds"));
    QCOMPARE(e.typeOf("process_cpu_seconds_total"), MetricType::Counter);
    QCOMPARE(e.families.at("http_server_requests_seconds").help,
             std::string("Time from the first byte of a request to the end of its response"));

    const Sample* hello = find(e, "http_server_requests_seconds_count", {{"uri", "/hello"}, {"status", "200"}});
    QVERIFY(hello);
    QCOMPARE(hello->value, 30.0);
    QCOMPARE(hello->label("method"), std::optional<std::string_view>("GET"));
    const Sample* inf = find(e, "http_server_requests_seconds_bucket", {{"uri", "/hello"}, {"le", "+Inf"}});
    QVERIFY(inf);
    QCOMPARE(inf->value, 30.0);
    const Sample* slowSum = find(e, "http_server_requests_seconds_sum", {{"uri", "/api/slow"}});
    QVERIFY(slowSum);
    QVERIFY(slowSum->value > 0.1 && slowSum->value < 0.2);
    QVERIFY(find(e, "http_server_requests_seconds_count", {{"status", "404"}, {"uri", "UNKNOWN"}}));

    // /hello: 26 under 0.5 ms, 29 under 2.5 ms, all 30 under 5 ms: p50 inside the first bucket.
    std::vector<Bucket> buckets;
    for (const Sample& s : e.samples)
      if (s.name == "http_server_requests_seconds_bucket" && s.label("uri") == std::optional<std::string_view>("/hello"))
        buckets.push_back({*parseFloat(*s.label("le")), s.value});
    QCOMPARE(buckets.size(), std::size_t(15));
    QCOMPARE(histogramQuantile(0.5, buckets), 0.0005 * 15.0 / 26.0);
    QCOMPARE(histogramQuantile(0.99, buckets), 0.0025 + 0.0025 * ((29.7 - 29.0) / 1.0));
  }

  void parsesEscapesSpecialValuesTimestampsAndSummaries() {
    const std::string text =
        "# HELP odd_total A \\\\ backslash and a\\nnewline\n"
        "# TYPE odd_total counter\n"
        "odd_total{path=\"C:\\\\dir\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",} 1.5e3 1712345678901\n"
        "  # a plain comment\n"
        "\n"
        "temp_celsius{room=\"x\"}\t-Inf\n"
        "temp_celsius{room=\"y\"} +Inf\n"
        "temp_celsius{room=\"z\"} NaN\n"
        "# TYPE rpc_seconds summary\n"
        "rpc_seconds{quantile=\"0.5\"} 0.012\n"
        "rpc_seconds{quantile=\"0.99\"} 0.3\n"
        "rpc_seconds_sum 17.5\n"
        "rpc_seconds_count 1000\n"
        "no_labels{} 7\r\n";
    const Exposition e = parsePrometheusText(text);
    QVERIFY2(e.errors.empty(), e.errors.empty() ? "" : e.errors.front().toString().c_str());
    QCOMPARE(e.samples.size(), std::size_t(9));
    const Sample& odd = e.samples[0];
    QCOMPARE(odd.label("path"), std::optional<std::string_view>("C:\\dir"));
    QCOMPARE(odd.label("quote"), std::optional<std::string_view>("say \"hi\""));
    QCOMPARE(odd.label("nl"), std::optional<std::string_view>("a\nb"));
    QCOMPARE(odd.value, 1500.0);
    QCOMPARE(odd.timestampMs, std::optional<std::int64_t>(1712345678901));
    QCOMPARE(e.families.at("odd_total").help, std::string("A \\ backslash and a\nnewline"));
    QCOMPARE(e.samples[1].value, -kInf);
    QCOMPARE(e.samples[2].value, kInf);
    QVERIFY(std::isnan(e.samples[3].value));
    QCOMPARE(e.typeOf("rpc_seconds_count"), MetricType::Summary);
    QCOMPARE(e.samples[5].label("quantile"), std::optional<std::string_view>("0.99"));
    QCOMPARE(e.samples[8].name, std::string("no_labels"));
    QCOMPARE(e.samples[8].value, 7.0);
  }

  void reportsMalformedLinesWithLineNumberAndReason_data() {
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no value") << QByteArray("up") << "missing value for up";
    QTest::newRow("bad value") << QByteArray("up 1x") << "invalid value \"1x\" for up";
    QTest::newRow("bad name") << QByteArray("9up 1") << "invalid metric name, found '9'";
    QTest::newRow("bad escape") << QByteArray("up{a=\"\\t\"} 1") << "invalid escape \\t in label value";
    QTest::newRow("unterminated value") << QByteArray("up{a=\"x} 1") << "label value not terminated (missing '\"')";
    QTest::newRow("unquoted value") << QByteArray("up{a=x} 1") << "expected '\"' to open the value of label a, found 'x'";
    QTest::newRow("missing brace") << QByteArray("up{a=\"x\" 1") << "expected ',' or '}' after a label";
    QTest::newRow("duplicate label") << QByteArray("up{a=\"1\",a=\"2\"} 1") << "duplicate label a";
    QTest::newRow("bad timestamp") << QByteArray("up 1 12.5") << "invalid timestamp \"12.5\" for up";
    QTest::newRow("trailing text") << QByteArray("up 1 12 13") << "unexpected text after the timestamp of up";
    QTest::newRow("unknown type") << QByteArray("# TYPE up meter") << "unknown metric type \"meter\" for up";
    QTest::newRow("bucket without le") << QByteArray("# TYPE h histogram\nh_bucket{x=\"1\"} 1")
                                       << "histogram bucket h_bucket has no le label";
    QTest::newRow("bad le") << QByteArray("# TYPE h histogram\nh_bucket{le=\"fast\"} 1") << "invalid le \"fast\" on h_bucket";
    QTest::newRow("summary without quantile") << QByteArray("# TYPE s summary\ns 1") << "summary sample s has no quantile label";
    QTest::newRow("type after samples") << QByteArray("up 1\n# TYPE up gauge") << "TYPE line for up after its samples";
    QTest::newRow("second type") << QByteArray("# TYPE up gauge\n# TYPE up counter") << "second TYPE line for up";
    QTest::newRow("bad help escape") << QByteArray("# HELP up a \\x b") << "invalid escape \\x in HELP text";
  }

  void reportsMalformedLinesWithLineNumberAndReason() {
    QFETCH(QByteArray, line);
    QFETCH(QString, reason);
    // A good line before and after: the bad one is reported with its number, the others kept.
    const std::string text = "before 1\n" + line.toStdString() + "\nafter 2\n";
    const Exposition e = parsePrometheusText(text);
    QCOMPARE(e.errors.size(), std::size_t(1));
    const int badLine = 2 + static_cast<int>(line.count('\n'));
    QCOMPARE(e.errors[0].line, badLine);
    QCOMPARE(QString::fromStdString(e.errors[0].reason), reason);
    QVERIFY(find(e, "before", {}) && find(e, "after", {}));
  }

  void survivesArbitraryBytes() {
    // Bounded: 2000 random inputs of up to 300 bytes drawn from the format's own alphabet.
    const std::string alphabet = "a_{}=\",\\n# \t\n0123456789.+-eE:TYPEHELPInfNa\r\x01\xff";
    QRandomGenerator rng(42);
    for (int i = 0; i < 2000; ++i) {
      std::string input(rng.bounded(300), ' ');
      for (char& c : input) c = alphabet[rng.bounded(static_cast<quint32>(alphabet.size()))];
      const Exposition e = parsePrometheusText(input);
      for (const ParseError& err : e.errors) QVERIFY(err.line >= 1 && !err.reason.empty());
    }
  }

  void histogramQuantileMatchesHandComputedValues_data() {
    QTest::addColumn<double>("q");
    QTest::addColumn<std::vector<Bucket>>("buckets");
    QTest::addColumn<double>("expected");
    const std::vector<Bucket> b = {{0.1, 10}, {0.5, 30}, {1, 40}, {kInf, 40}};
    // rank = q * 40
    QTest::newRow("median inside 2nd bucket") << 0.5 << b << 0.1 + 0.4 * (20.0 - 10.0) / 20.0;  // 0.3
    QTest::newRow("p25 at a bucket edge") << 0.25 << b << 0.1;
    QTest::newRow("p10 in the lowest bucket from 0") << 0.1 << b << 0.1 * (4.0 / 10.0);
    QTest::newRow("p90 in 3rd bucket") << 0.9 << b << 0.5 + 0.5 * (36.0 - 30.0) / 10.0;  // 0.8
    QTest::newRow("p100") << 1.0 << b << 1.0;
    const std::vector<Bucket> tail = {{0.1, 10}, {1, 20}, {kInf, 30}};
    QTest::newRow("rank in +Inf bucket gives highest finite bound") << 0.9 << tail << 1.0;
    QTest::newRow("unsorted input is sorted") << 0.5 << std::vector<Bucket>{{kInf, 40}, {1, 40}, {0.1, 10}, {0.5, 30}} << 0.3;
    // rank 15: with 8 raised to 10 the bucket (0.5, 1] holds 10 and the rank is 5 into it.
    QTest::newRow("non-monotonic counts are raised") << 0.75 << std::vector<Bucket>{{0.1, 10}, {0.5, 8}, {1, 20}, {kInf, 20}}
                                                     << 0.5 + 0.5 * (5.0 / 10.0);
    QTest::newRow("equal bounds merged") << 0.5 << std::vector<Bucket>{{0.1, 5}, {0.1, 5}, {0.5, 15}, {0.5, 15}, {kInf, 40}, {1, 40}}
                                         << 0.3;
    QTest::newRow("negative lowest bound is returned") << 0.1 << std::vector<Bucket>{{-1, 5}, {1, 10}, {kInf, 10}} << -1.0;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("no +Inf bucket") << 0.5 << std::vector<Bucket>{{0.1, 1}, {1, 2}} << nan;
    QTest::newRow("only +Inf bucket") << 0.5 << std::vector<Bucket>{{kInf, 5}} << nan;
    QTest::newRow("empty") << 0.5 << std::vector<Bucket>{} << nan;
    QTest::newRow("no observations") << 0.5 << std::vector<Bucket>{{0.1, 0}, {kInf, 0}} << nan;
    QTest::newRow("q below 0") << -0.1 << b << -kInf;
    QTest::newRow("q above 1") << 1.1 << b << kInf;
    QTest::newRow("q NaN") << nan << b << nan;
  }

  void histogramQuantileMatchesHandComputedValues() {
    QFETCH(double, q);
    QFETCH(std::vector<Bucket>, buckets);
    QFETCH(double, expected);
    const double got = histogramQuantile(q, buckets);
    if (std::isnan(expected)) QVERIFY2(std::isnan(got), qPrintable(QString::number(got)));
    else QCOMPARE(got, expected);
  }

  void counterRateHandlesResets() {
    // 100 -> 130 -> 160 -> restart at 20 -> 50 over 40 s: increase 30 + 30 + 20 + 30 = 110.
    const std::vector<CounterPoint> points = {{0, 100}, {10'000, 130}, {20'000, 160}, {30'000, 20}, {40'000, 50}};
    QCOMPARE(counterIncrease(points), 110.0);
    QCOMPARE(counterRate(points), 110.0 / 40.0);
    const std::vector<CounterPoint> flat = {{0, 5}, {1'000, 5}};
    QCOMPARE(counterRate(flat), 0.0);
    QCOMPARE(counterIncrease(std::span<const CounterPoint>(points.data(), 1)), 0.0);
    QVERIFY(std::isnan(counterRate(std::span<const CounterPoint>(points.data(), 1))));
    const std::vector<CounterPoint> sameTime = {{5, 1}, {5, 2}};
    QVERIFY(std::isnan(counterRate(sameTime)));
  }

  void parsesFloatsAsGoDoes() {
    QCOMPARE(parseFloat("+Inf"), std::optional<double>(kInf));
    QCOMPARE(parseFloat("-Inf"), std::optional<double>(-kInf));
    QCOMPARE(parseFloat("1e-3"), std::optional<double>(0.001));
    QCOMPARE(parseFloat("-0.5"), std::optional<double>(-0.5));
    QVERIFY(std::isnan(*parseFloat("NaN")));
    QVERIFY(!parseFloat(""));
    QVERIFY(!parseFloat("+"));
    QVERIFY(!parseFloat("--1"));
    QVERIFY(!parseFloat("1.0.0"));
    QVERIFY(!parseFloat("0x"));
  }
};

QTEST_GUILESS_MAIN(TestPrometheusText)
#include "tst_prometheus_text.moc"
