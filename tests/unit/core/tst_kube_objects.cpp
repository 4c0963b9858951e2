// Reading Kubernetes objects: quantities, kubectl's pod STATUS, label selectors, ages.
#include <QJsonDocument>
#include <QtTest>

#include "core/kube_objects.h"

using namespace mambogo::core;

namespace {
QJsonObject json(const char* text) { return QJsonDocument::fromJson(text).object(); }
}  // namespace

class TestKubeObjects : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void parsesQuantities_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<double>("value");
    QTest::newRow("millicores") << "250m" << 0.25;
    QTest::newRow("cores") << "2" << 2.0;
    QTest::newRow("fraction") << "1.5" << 1.5;
    QTest::newRow("nanocores") << "1500000n" << 0.0015;
    QTest::newRow("Mi") << "128Mi" << 128.0 * 1024 * 1024;
    QTest::newRow("Ki") << "1Ki" << 1024.0;
    QTest::newRow("G") << "1G" << 1e9;
    QTest::newRow("exponent") << "12e3" << 12000.0;
  }
  void parsesQuantities() {
    QFETCH(QString, text);
    QFETCH(double, value);
    QCOMPARE(parseQuantity(text).value_or(-1), value);
  }
  void rejectsMalformedQuantities() {
    for (const char* bad : {"", "m", "12Q", "1..2", "abc", "1 Mi"}) QVERIFY2(!parseQuantity(QLatin1String(bad)), bad);
  }

  void summarizesPodsAsKubectl() {
    const auto running = summarizePod(json(R"({"spec":{"containers":[{},{}]},"status":{"phase":"Running",
        "conditions":[{"type":"Ready","status":"False"}],
        "containerStatuses":[{"ready":true,"restartCount":2,"state":{"running":{}}},
                             {"ready":false,"restartCount":5,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}})"));
    QCOMPARE(running.status, QStringLiteral("CrashLoopBackOff"));
    QCOMPARE(running.readyContainers, 1);
    QCOMPARE(running.totalContainers, 2);
    QCOMPARE(running.restarts, 7);
    QVERIFY(!running.ready);

    const auto done = summarizePod(json(R"({"status":{"phase":"Succeeded","containerStatuses":[{"state":{"terminated":{"reason":"Completed","exitCode":0}}}]}})"));
    QCOMPARE(done.status, QStringLiteral("Completed"));
    const auto pending = summarizePod(json(R"({"spec":{"containers":[{}]},"status":{}})"));
    QCOMPARE(pending.status, QStringLiteral("Pending"));
    QCOMPARE(pending.totalContainers, 1);
    const auto leaving = summarizePod(json(R"({"metadata":{"deletionTimestamp":"2026-01-01T00:00:00Z"},"status":{"phase":"Running"}})"));
    QCOMPARE(leaving.status, QStringLiteral("Terminating"));
  }

  void matchesSelectors() {
    const QJsonObject labels = json(R"({"app":"order-service","tier":"backend"})");
    QVERIFY(selectorMatches(json(R"({"matchLabels":{"app":"order-service"}})"), labels));
    QVERIFY(!selectorMatches(json(R"({"matchLabels":{"app":"cart-service"}})"), labels));
    QVERIFY(selectorMatches(json(R"({"matchExpressions":[{"key":"tier","operator":"In","values":["backend","db"]}]})"), labels));
    QVERIFY(!selectorMatches(json(R"({"matchExpressions":[{"key":"tier","operator":"NotIn","values":["backend"]}]})"), labels));
    QVERIFY(selectorMatches(json(R"({"matchExpressions":[{"key":"canary","operator":"DoesNotExist"}]})"), labels));
    QVERIFY(!selectorMatches(json(R"({"matchExpressions":[{"key":"canary","operator":"Exists"}]})"), labels));
    QVERIFY(!selectorMatches(QJsonObject(), labels));  // an empty selector selects nothing
  }

  void printsAgesAsKubectl() {
    const QDateTime t0 = QDateTime::fromString(QStringLiteral("2026-01-01T00:00:00Z"), Qt::ISODate);
    QCOMPARE(humanAge(t0, t0.addSecs(45)), QStringLiteral("45s"));
    QCOMPARE(humanAge(t0, t0.addSecs(5 * 60)), QStringLiteral("5m"));
    QCOMPARE(humanAge(t0, t0.addSecs(3 * 3600)), QStringLiteral("3h"));
    QCOMPARE(humanAge(t0, t0.addDays(4)), QStringLiteral("4d"));
    QCOMPARE(humanAge(QDateTime(), t0), QString());
  }
};

QTEST_GUILESS_MAIN(TestKubeObjects)
#include "tst_kube_objects.moc"
