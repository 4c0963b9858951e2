// The value formats every service shares: money with exactly two decimals in and out, UUIDs
// checked and lower-cased, new ids random version 4, timestamps in UTC ISO 8601.
#include <QtTest>

#include <regex>
#include <set>

#include "runtime/values.h"

using namespace mambogo::runtime;

namespace {
const char* kUuid = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b";
}

class TestValues : public QObject {
  Q_OBJECT
 private slots:
  void moneyAlwaysHasTwoDecimals_data() {
    QTest::addColumn<qint64>("cents");
    QTest::addColumn<QString>("text");
    QTest::newRow("whole") << qint64(1900) << "19.00";
    QTest::newRow("ten cents") << qint64(1990) << "19.90";
    QTest::newRow("one cent") << qint64(1) << "0.01";
    QTest::newRow("zero") << qint64(0) << "0.00";
    QTest::newRow("negative") << qint64(-5) << "-0.05";
    QTest::newRow("large") << qint64(123456789012) << "1234567890.12";
  }
  void moneyAlwaysHasTwoDecimals() {
    QFETCH(qint64, cents);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(format_money(cents)), text);
  }

  void moneyParsesAtMostTwoDecimals_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<qint64>("cents");  // -1: refused
    QTest::newRow("integer") << "19" << qint64(1900);
    QTest::newRow("one decimal") << "19.9" << qint64(1990);
    QTest::newRow("two decimals") << "19.99" << qint64(1999);
    QTest::newRow("zero") << "0" << qint64(0);
    QTest::newRow("three decimals") << "19.999" << qint64(-1);
    QTest::newRow("negative") << "-1" << qint64(-1);
    QTest::newRow("plus") << "+1" << qint64(-1);
    QTest::newRow("exponent") << "1e3" << qint64(-1);
    QTest::newRow("empty") << "" << qint64(-1);
    QTest::newRow("no integer part") << ".5" << qint64(-1);
    QTest::newRow("trailing point") << "19." << qint64(-1);
    QTest::newRow("too large") << "1234567890" << qint64(-1);
    QTest::newRow("letters") << "abc" << qint64(-1);
    QTest::newRow("space") << " 1" << qint64(-1);
  }
  void moneyParsesAtMostTwoDecimals() {
    QFETCH(QString, text);
    QFETCH(qint64, cents);
    auto got = parse_money(text.toStdString());
    QCOMPARE(got ? qint64(*got) : qint64(-1), cents);
  }

  void uuidsAreCheckedAndLowerCased() {
    QCOMPARE(canonical_uuid("3F2B8C1E-9A4D-4E6F-8B7A-1C2D3E4F5A6B").value(), std::string(kUuid));
    QVERIFY(is_uuid(kUuid));
    QVERIFY(!is_uuid("3f2b8c1e9a4d4e6f8b7a1c2d3e4f5a6b"));          // no dashes
    QVERIFY(!is_uuid("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6"));        // short
    QVERIFY(!is_uuid("3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6g"));       // not hex
    QVERIFY(!is_uuid("{3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b}"));
    QVERIFY(!canonical_uuid("not-a-uuid"));
  }

  void newIdsAreDistinctVersionFourUuids() {
    const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
      const std::string id = new_uuid();
      QVERIFY2(std::regex_match(id, v4), id.c_str());
      seen.insert(id);
    }
    QCOMPARE(seen.size(), std::size_t(1000));
  }

  void timestampsAreUtcWithMilliseconds() {
    const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'795'731'589'123));
    QCOMPARE(utc_iso8601(t), std::string("2026-11-26T22:19:49.123Z"));
  }
};

QTEST_APPLESS_MAIN(TestValues)
#include "tst_values.moc"
