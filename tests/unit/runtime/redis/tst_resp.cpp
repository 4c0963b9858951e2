// RESP2 encoding and the incremental reply parser, on bytes alone.
#include <QtTest>

#include <string>
#include <vector>

#include "runtime/redis/resp.h"

using namespace mambogo::runtime::redis;
using Type = RedisReply::Type;

class TestResp : public QObject {
  Q_OBJECT
 private slots:
  void commandsAreArraysOfBulkStrings() {
    std::string out;
    const std::string binary("a\0\r\n", 4);
    const std::string_view args[] = {"SET", "k", binary};
    append_command(out, args);
    QCOMPARE(out, std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\0\r\n\r\n", 30));
  }

  void everyReplyType() {
    const std::string data =
        "+OK\r\n-NOSCRIPT No matching script\r\n:-42\r\n$5\r\nab\r\nc\r\n$-1\r\n*-1\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n";
    std::size_t pos = 0;
    std::vector<RedisReply> replies;
    RedisReply r;
    while (parse_reply(data, pos, r) == ParseResult::complete) replies.push_back(std::exchange(r, {}));
    QCOMPARE(pos, data.size());
    QCOMPARE(replies.size(), std::size_t(7));
    QCOMPARE(replies[0].type, Type::status);
    QCOMPARE(replies[1].type, Type::error);
    QCOMPARE(replies[1].str, std::string("NOSCRIPT No matching script"));
    QCOMPARE(replies[2].integer, -42LL);
    QCOMPARE(replies[3].str, std::string("ab\r\nc"));
    QCOMPARE(replies[4].type, Type::nil);
    QCOMPARE(replies[5].type, Type::nil);
    QCOMPARE(replies[6].type, Type::array);
    QCOMPARE(replies[6].elements.size(), std::size_t(2));
    QCOMPARE(replies[6].elements[1].elements[0].type, Type::string);
    QCOMPARE(replies[6].elements[1].elements[0].str, std::string());
  }

  // Whatever the split, a reply is complete only when its last byte has arrived.
  void incompleteUntilTheLastByte() {
    const std::string data = "*2\r\n:1\r\n$3\r\nabc\r\n";
    for (std::size_t cut = 0; cut < data.size(); ++cut) {
      std::size_t pos = 0;
      RedisReply r;
      QCOMPARE(parse_reply(std::string_view(data).substr(0, cut), pos, r), ParseResult::incomplete);
      QCOMPARE(pos, std::size_t(0));
    }
    std::size_t pos = 0;
    RedisReply r;
    QCOMPARE(parse_reply(data, pos, r), ParseResult::complete);
    QCOMPARE(r.elements[1].str, std::string("abc"));
  }

  void malformedInputIsRefused_data() {
    QTest::addColumn<QByteArray>("data");
    QTest::newRow("unknown type") << QByteArray("?x\r\n");
    QTest::newRow("bad integer") << QByteArray(":12a\r\n");
    QTest::newRow("negative length") << QByteArray("$-2\r\n");
    QTest::newRow("bulk without CRLF") << QByteArray("$1\r\nabX\r\n");
    QTest::newRow("huge bulk") << QByteArray("$99999999999\r\n");
    QTest::newRow("too deep") << QByteArray(QByteArray("*1\r\n").repeated(40) + ":1\r\n");
  }
  void malformedInputIsRefused() {
    QFETCH(QByteArray, data);
    std::size_t pos = 0;
    RedisReply r;
    QCOMPARE(parse_reply(std::string_view(data.constData(), data.size()), pos, r), ParseResult::malformed);
  }
};

QTEST_APPLESS_MAIN(TestResp)
#include "tst_resp.moc"
