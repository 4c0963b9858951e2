#include <QtTest>

#include "runtime/framing.h"

using namespace mambogo::runtime;

class TestFraming : public QObject {
  Q_OBJECT
 private slots:
  void refusesAmbiguousFraming_data() {
    QTest::addColumn<QStringList>("headers");  // "Name: value"
    QTest::addColumn<bool>("accepted");
    QTest::newRow("no body") << QStringList{"Host: x"} << true;
    QTest::newRow("content-length") << QStringList{"Content-Length: 12"} << true;
    QTest::newRow("chunked") << QStringList{"Transfer-Encoding: chunked"} << true;
    QTest::newRow("gzip then chunked") << QStringList{"Transfer-Encoding: gzip, chunked"} << true;
    QTest::newRow("CL and TE") << QStringList{"Content-Length: 5", "Transfer-Encoding: chunked"} << false;
    QTest::newRow("TE and CL") << QStringList{"Transfer-Encoding: chunked", "Content-Length: 5"} << false;
    QTest::newRow("two equal CL") << QStringList{"Content-Length: 5", "Content-Length: 5"} << false;
    QTest::newRow("two different CL") << QStringList{"Content-Length: 5", "content-length: 6"} << false;
    QTest::newRow("CL list") << QStringList{"Content-Length: 5, 5"} << false;
    QTest::newRow("CL sign") << QStringList{"Content-Length: +5"} << false;
    QTest::newRow("CL empty") << QStringList{"Content-Length: "} << false;
    QTest::newRow("TE not chunked last") << QStringList{"Transfer-Encoding: chunked, gzip"} << false;
    QTest::newRow("TE identity") << QStringList{"Transfer-Encoding: identity"} << false;
    QTest::newRow("two TE") << QStringList{"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"} << false;
    QTest::newRow("TE case") << QStringList{"transfer-encoding: CHUNKED"} << true;
  }
  void refusesAmbiguousFraming() {
    QFETCH(QStringList, headers);
    QFETCH(bool, accepted);
    std::vector<Header> hs;
    for (const auto& h : headers) {
      auto colon = h.indexOf(':');
      hs.push_back({h.left(colon).toStdString(), h.mid(colon + 1).trimmed().toStdString()});
    }
    auto why = check_framing(hs);
    QCOMPARE(!why.has_value(), accepted);
    if (why) QVERIFY(!why->empty());
  }
};

QTEST_APPLESS_MAIN(TestFraming)
#include "tst_framing.moc"
