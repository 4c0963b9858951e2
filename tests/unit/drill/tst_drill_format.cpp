// The drill file format (app/drill/drill.h): every built-in drill parses and says what it
// teaches; a malformed file is refused with its file, line and reason before anything runs;
// checks compare as documented; --fast scales what it should and keeps recovery.
#include <QtTest>

#include "drill/drill.h"

using mambogo::drill::Check;
using mambogo::drill::Drill;
using mambogo::drill::DrillError;
using mambogo::drill::Expectation;
using mambogo::drill::Step;

namespace {

const QByteArray kValid = R"(title: Small drill
teaches: something
questions: [Q3]
fast: 0.5
load: {plan: builtin:orders, rate: 4, duration: 60s}
hypothesis:
  warmup: 10s
  recovery: 30s
  checks: ["load.errorRate < 0.01"]
method:
  - {id: outage, at: 5s, fault: {type: http-replace-code, service: payment-service, code: 503, duration: 20s}}
  - {at: 25s, recover: outage}
  - {at: 2s, setting: {service: product-service, name: cache.l1.enabled, value: false}}
expect:
  - name: breaker opens
    check: "breaker.order-service.payment-service == open"
    eventually: {after: outage, within: 15s}
  - check: 'delta:metric.payment-service.payments_total{status="captured"} <= delta:max.order-service.orders_in_state{state="CONFIRMED"}'
    at_end: true
  - check: "load.errorRate < 0.05"
    always: {after: start, until: end}
predict:
  - {id: breaker-delay, question: "Seconds to open?", expect: breaker opens, unit: s, tolerance: 3}
)";

// Replaces `from` with `to` in the valid drill and parses it; returns the error.
std::optional<DrillError> refusal(const QByteArray& from, const QByteArray& to) {
  QByteArray yaml = kValid;
  if (!from.isEmpty()) {
    const qsizetype at = yaml.indexOf(from);
    if (at < 0) qFatal("test bug: %s not in the drill", from.constData());
    yaml.replace(at, from.size(), to);
  }
  try {
    mambogo::drill::parseDrill(yaml, QStringLiteral("bad.yaml"));
  } catch (const DrillError& e) {
    return e;
  }
  return std::nullopt;
}

}  // namespace

class TestDrillFormat : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void validDrillParses() {
    const Drill d = mambogo::drill::parseDrill(kValid, QStringLiteral("/x/07-small.yaml"));
    QCOMPARE(d.id, QStringLiteral("small"));
    QCOMPARE(d.title, QStringLiteral("Small drill"));
    QCOMPARE(d.load.rate.value_or(0), 4.0);
    QCOMPARE(d.load.durationS, 60.0);
    QCOMPARE(d.method.size(), 3);
    // Steps are sorted by time.
    QCOMPARE(d.method[0].kind, Step::Kind::Setting);
    QCOMPARE(d.method[0].value.toBool(true), false);
    QCOMPARE(d.method[1].kind, Step::Kind::Fault);
    QCOMPARE(d.method[1].fault.kind, mambogo::core::FaultSpec::Kind::HttpReplaceCode);
    QCOMPARE(d.method[1].fault.replaceCode, 503);
    QCOMPARE(d.method[1].fault.durationS, 20);
    QCOMPARE(d.method[2].kind, Step::Kind::Recover);
    QCOMPARE(d.expectations.size(), 3);
    QCOMPARE(d.expectations[0].mode, Expectation::Mode::Eventually);
    QCOMPARE(d.expectations[0].withinS, 15.0);
    QVERIFY(d.expectations[1].check.valueProbe.has_value());
    QCOMPARE(d.expectations[2].mode, Expectation::Mode::Always);
  }

  void everyBuiltInDrillParses() {
    const QStringList files = mambogo::drill::drillFiles(mambogo::drill::builtInDrillDir());
    QVERIFY2(files.size() >= 10, qPrintable(mambogo::drill::builtInDrillDir()));
    QSet<QString> questions;
    for (const QString& file : files) {
      try {
        const Drill d = mambogo::drill::loadDrillFile(file);
        QVERIFY2(!d.teaches.isEmpty() && !d.proves.isEmpty(), qPrintable(file));
        QVERIFY2(!d.expectations.isEmpty(), qPrintable(file));
        for (const QString& q : d.questions) questions.insert(q);
        QCOMPARE(mambogo::drill::findDrill(d.id), file);
      } catch (const DrillError& e) {
        QFAIL(e.what());
      }
    }
    // Interview mode links each of the guide's four questions to drills that answer it.
    QCOMPARE(questions, (QSet<QString>{"Q1", "Q2", "Q3", "Q4"}));
  }

  void malformedFilesAreRefusedWithLineAndReason_data() {
    QTest::addColumn<QByteArray>("from");
    QTest::addColumn<QByteArray>("to");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("reason");
    QTest::newRow("not yaml") << QByteArray("title: Small drill") << QByteArray("title: [unclosed") << 2 << "not valid YAML";  // where the parser noticed
    QTest::newRow("unknown field") << QByteArray("teaches: something") << QByteArray("teachez: something") << 2
                                   << "unknown field \"teachez\"";
    QTest::newRow("bad duration") << QByteArray("duration: 60s") << QByteArray("duration: soon") << 5 << "load.duration: not a duration";
    QTest::newRow("unknown probe") << QByteArray("load.errorRate < 0.01") << QByteArray("cpu.hot < 1") << 9
                                   << "unknown probe \"cpu.hot\"";
    QTest::newRow("not a check") << QByteArray("load.errorRate < 0.01") << QByteArray("load.errorRate is low") << 9
                                 << "not a check";
    QTest::newRow("order needs a number") << QByteArray("load.errorRate < 0.01") << QByteArray("load.errorRate < low") << 9
                                          << "needs a number or a probe";
    QTest::newRow("unknown fault type") << QByteArray("type: http-replace-code") << QByteArray("type: meteor") << 11
                                        << "unknown fault type";
    QTest::newRow("fault without service") << QByteArray("service: payment-service, code") << QByteArray("code") << 11
                                           << "method[0].fault: needs \"service\"";
    QTest::newRow("recover of no fault") << QByteArray("recover: outage") << QByteArray("recover: outrage") << 12
                                         << "\"outrage\" is not the id of a fault step";
    QTest::newRow("step after the load") << QByteArray("at: 25s") << QByteArray("at: 55s") << 12 << "after the load ends";
    QTest::newRow("two actions") << QByteArray("{at: 25s, recover: outage}") << QByteArray("{at: 25s, recover: outage, mark: x}") << 12
                                 << "exactly one of";
    QTest::newRow("unknown anchor") << QByteArray("after: outage, within") << QByteArray("after: nothing, within") << 15
                                    << "\"nothing\" is not a step id";
    QTest::newRow("two modes") << QByteArray("    at_end: true") << QByteArray("    at_end: true\n    always: {}") << 18
                               << "exactly one of eventually, always, at_end";
    QTest::newRow("bad question") << QByteArray("[Q3]") << QByteArray("[Q9]") << 3 << "must be Q1, Q2, Q3 or Q4";
    QTest::newRow("loss out of range") << QByteArray("code: 503") << QByteArray("code: 999") << 11 << "fault.code: must be a number in 100..599";
    QTest::newRow("prediction of no expectation") << QByteArray("expect: breaker opens, unit") << QByteArray("expect: breaker shuts, unit") << 23
                                                  << "predict[0].expect: \"breaker shuts\" is not the name of an expectation";
    QTest::newRow("prediction without tolerance") << QByteArray(", tolerance: 3}") << QByteArray("}") << 23
                                                  << "predict[0]: needs \"tolerance\"";
    QTest::newRow("zero tolerance") << QByteArray("tolerance: 3}") << QByteArray("tolerance: 0}") << 23
                                    << "predict[0].tolerance: must be a number";
    QTest::newRow("prediction id with spaces") << QByteArray("id: breaker-delay") << QByteArray("id: breaker delay") << 23
                                               << "predict[0].id: must be lower-case letters";
    QTest::newRow("burst probe of no burst") << QByteArray("check: \"load.errorRate < 0.05\"") << QByteArray("check: \"burst.outage.limited < 5\"") << 20
                                             << "\"outage\" is not the id of a burst step";
    QTest::newRow("no title") << QByteArray("title: Small drill\n") << QByteArray("") << 1 << "needs \"title\"";
  }
  void malformedFilesAreRefusedWithLineAndReason() {
    QFETCH(QByteArray, from);
    QFETCH(QByteArray, to);
    QFETCH(int, line);
    QFETCH(QString, reason);
    const auto e = refusal(from, to);
    QVERIFY2(e.has_value(), "accepted");
    QCOMPARE(e->file, QStringLiteral("bad.yaml"));
    QVERIFY2(e->reason.contains(reason), qPrintable(e->reason));
    QCOMPARE(e->line, line);
    QVERIFY(QString::fromUtf8(e->what()).startsWith(QStringLiteral("bad.yaml:%1: ").arg(line)));
  }

  void unreadableFileNamesTheFile() {
    try {
      mambogo::drill::loadDrillFile(QStringLiteral("/nonexistent/drill.yaml"));
      QFAIL("loaded");
    } catch (const DrillError& e) {
      QVERIFY(QString::fromUtf8(e.what()).startsWith(QStringLiteral("/nonexistent/drill.yaml: cannot read")));
    }
  }

  void checksCompareAsDocumented() {
    QString why;
    const auto lt = Check::parse(QStringLiteral("service.order-service.p99 < 300"), &why);
    QVERIFY(lt);
    QVERIFY(lt->holds(299.9));
    QVERIFY(!lt->holds(300.0));
    QVERIFY(!lt->holds(QJsonValue()));  // no data never satisfies
    QVERIFY(!lt->holds(QStringLiteral("300")));
    const auto word = Check::parse(QStringLiteral("breaker.order-service.payment-service != closed"), &why);
    QVERIFY(word);
    QVERIFY(word->holds(QStringLiteral("open")));
    QVERIFY(!word->holds(QStringLiteral("closed")));
    const auto probes = Check::parse(QStringLiteral("delta:metric.a.x >= delta:max.b.y{k=\"v\"}"), &why);
    QVERIFY2(probes, qPrintable(why));
    QVERIFY(probes->holds(5.0, 5.0));
    QVERIFY(!probes->holds(4.0, 5.0));
    QVERIFY(!probes->holds(5.0, QJsonValue()));
  }

  // "Predict first": the prediction names an expectation; the score is 100 within the
  // tolerance and falls linearly to 0 at three times it, on both sides.
  void predictionsAreParsedAndScored() {
    const Drill d = mambogo::drill::parseDrill(kValid, QStringLiteral("x.yaml"));
    QCOMPARE(d.predictions.size(), 1);
    QCOMPARE(d.predictions[0].id, QStringLiteral("breaker-delay"));
    QCOMPARE(d.predictions[0].expectation, QStringLiteral("breaker opens"));
    QCOMPARE(d.expectationIndex(d.predictions[0].expectation), 0);
    QCOMPARE(d.predictions[0].tolerance, 3.0);
    QVERIFY(d.prediction(QStringLiteral("breaker-delay")));
    QVERIFY(!d.prediction(QStringLiteral("nothing")));
    using mambogo::drill::predictionScore;
    QCOMPARE(predictionScore(10, 10, 3), 100);
    QCOMPARE(predictionScore(13, 10, 3), 100);
    QCOMPARE(predictionScore(16, 10, 3), 50);
    QCOMPARE(predictionScore(4, 10, 3), 50);
    QCOMPARE(predictionScore(19, 10, 3), 0);
    QCOMPARE(predictionScore(100, 10, 3), 0);
    // The built-in payment outage asks when the breaker opens.
    const Drill outage = mambogo::drill::loadDrillFile(mambogo::drill::findDrill(QStringLiteral("payment-outage")));
    QVERIFY(outage.prediction(QStringLiteral("breaker-opens")));
  }

  void fastScalesTimesButKeepsRecovery() {
    const Drill d = mambogo::drill::parseDrill(kValid, QStringLiteral("x.yaml"));
    const Drill f = d.scaled(d.fastScale);
    QCOMPARE(f.load.durationS, 30.0);
    QCOMPARE(f.warmupS, 5.0);
    QCOMPARE(f.method[1].atS, 2.5);
    QCOMPARE(f.method[1].fault.durationS, 10);
    QCOMPARE(f.expectations[0].withinS, 7.5);
    QCOMPARE(f.recoveryS, 30.0);  // waits for the system's own timers
  }
};

QTEST_GUILESS_MAIN(TestDrillFormat)
#include "tst_drill_format.moc"
