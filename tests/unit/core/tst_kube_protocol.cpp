// The pure parts of the Kubernetes client: cutting a watch stream into event lines whatever
// the chunking, and turning Status bodies into readable errors.
#include <QtTest>

#include "core/kube_client.h"
#include "core/watch_stream.h"

using mambogo::core::KubeError;
using mambogo::core::WatchLineSplitter;

class TestKubeProtocol : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void splitsWatchStreamIntoLines_data() {
    QTest::addColumn<QList<QByteArray>>("chunks");
    QTest::addColumn<QList<QByteArray>>("lines");
    QTest::addColumn<QByteArray>("rest");
    const QByteArray a = R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})";
    const QByteArray b = R"({"type":"DELETED","object":{"metadata":{"name":"b"}}})";
    QTest::newRow("one line per chunk") << QList<QByteArray>{a + "\n", b + "\n"} << QList<QByteArray>{a, b} << QByteArray();
    QTest::newRow("two lines in one chunk") << QList<QByteArray>{a + "\n" + b + "\n"} << QList<QByteArray>{a, b} << QByteArray();
    QTest::newRow("line split across chunks") << QList<QByteArray>{a.left(10), a.mid(10, 7), a.mid(17) + "\n" + b.left(3)}
                                              << QList<QByteArray>{a} << b.left(3);
    QTest::newRow("newline alone in a chunk") << QList<QByteArray>{a, "\n"} << QList<QByteArray>{a} << QByteArray();
    QTest::newRow("CRLF and blank lines") << QList<QByteArray>{a + "\r\n\r\n\n", "  \n" + b + "\r", "\n"}
                                          << QList<QByteArray>{a, b} << QByteArray();
    QTest::newRow("no newline yet") << QList<QByteArray>{a} << QList<QByteArray>{} << a;
    QList<QByteArray> singleBytes;
    for (char c : a + "\n" + b + "\n") singleBytes.append(QByteArray(1, c));
    QTest::newRow("one byte per chunk") << singleBytes << QList<QByteArray>{a, b} << QByteArray();
  }

  void splitsWatchStreamIntoLines() {
    QFETCH(QList<QByteArray>, chunks);
    QFETCH(QList<QByteArray>, lines);
    QFETCH(QByteArray, rest);
    WatchLineSplitter splitter;
    QList<QByteArray> got;
    for (const QByteArray& chunk : chunks) QVERIFY(splitter.feed(chunk, got));
    QCOMPARE(got, lines);
    QCOMPARE(splitter.takeRest(), rest);
    QCOMPARE(splitter.pendingBytes(), 0);
  }

  void refusesALineBeyondTheLimit() {
    WatchLineSplitter splitter(16);
    QList<QByteArray> got;
    QVERIFY(splitter.feed("0123456789\n0123456789", got));
    QCOMPARE(got, QList<QByteArray>{"0123456789"});
    QVERIFY(!splitter.feed("0123456789", got));  // 20 bytes without a newline
    splitter.reset();
    QVERIFY(splitter.feed("ok\n", got));
    QCOMPARE(got.last(), QByteArray("ok"));
  }

  void statusBodyBecomesReadableError() {
    // (Escaped, not raw: moc misreads \" inside raw strings.)
    const QByteArray body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                            "\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\","
                            "\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}";
    const KubeError e = KubeError::fromBody(404, body);
    QCOMPARE(e.code, 404);
    QCOMPARE(e.reason, QStringLiteral("NotFound"));
    QCOMPARE(e.message, QStringLiteral("pods \"x\" not found"));
    QCOMPARE(e.toString(), QStringLiteral("NotFound (404): pods \"x\" not found"));
  }

  void statusInsideAWatchErrorEventKeepsItsCode() {
    const QByteArray body = R"j({"kind":"Status","status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410})j";
    const KubeError e = KubeError::fromBody(0, body);
    QCOMPARE(e.code, 410);
    QCOMPARE(e.reason, QStringLiteral("Expired"));
  }

  void nonStatusBodyGivesItsFirstLineAndAReasonFromTheCode() {
    const KubeError e = KubeError::fromBody(503, "upstream connect error\n<html>...</html>");
    QCOMPARE(e.toString(), QStringLiteral("ServiceUnavailable (503): upstream connect error"));
    QCOMPARE(KubeError::fromBody(502, "").toString(), QStringLiteral("InternalError (502): HTTP 502"));
    QVERIFY(!KubeError{}.isError());
  }
};

QTEST_GUILESS_MAIN(TestKubeProtocol)
#include "tst_kube_protocol.moc"
