// The pure rules of cart-service: quantities, product answers, the cart's JSON, the
// upstream URL.
#include <QtTest>

#include "cart/cart_model.h"

using namespace mambogo::cart;

class TestCartModel : public QObject {
  Q_OBJECT
 private slots:
  void quantities_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<int>("expected");  // -1: refused
    QTest::newRow("integer") << "3" << 3;
    QTest::newRow("numeric string") << "\"7\"" << 7;
    QTest::newRow("lowest") << "1" << 1;
    QTest::newRow("highest") << "99" << 99;
    QTest::newRow("zero") << "0" << -1;
    QTest::newRow("too many") << "100" << -1;
    QTest::newRow("float") << "2.5" << -1;
    QTest::newRow("string with space") << "\" 3\"" << -1;
    QTest::newRow("string with suffix") << "\"3x\"" << -1;
    QTest::newRow("empty string") << "\"\"" << -1;
    QTest::newRow("bool") << "true" << -1;
    QTest::newRow("null") << "null" << -1;
    QTest::newRow("huge") << "99999999999999999999" << -1;
  }
  void quantities() {
    QFETCH(QString, json);
    QFETCH(int, expected);
    auto value = nlohmann::json::parse(json.toStdString());
    QCOMPARE(parse_quantity(&value, 1, 99).value_or(-1), expected);
    QVERIFY(!parse_quantity(nullptr, 1, 99));
  }

  void productAnswers() {
    auto p = parse_product(nlohmann::json::parse(R"({"id":"x","name":"Hat","price":12.34,"isActive":false})"));
    QVERIFY(p);
    QCOMPARE(p->price_cents, std::int64_t(1234));
    QVERIFY(!p->active);
    QVERIFY(parse_product(nlohmann::json::parse(R"({"id":"x","name":"Hat","price":1})"))->active);
    QVERIFY(!parse_product(nlohmann::json::parse(R"({"id":"x","price":1})")));
    QVERIFY(!parse_product(nlohmann::json::parse(R"({"id":"x","name":"Hat","price":"1"})")));
    QVERIFY(!parse_product(nlohmann::json::parse(R"({"id":"x","name":"Hat","price":-1})")));
    QVERIFY(!parse_product(nlohmann::json::parse("[]")));
  }

  void theCartJsonHasTotals() {
    Cart c{"u", {{"a", "A", 1999, 3}, {"b", "B", 1, 2}}, "2026-01-01T00:00:00.000Z"};
    auto j = to_json(c);
    QCOMPARE(j["userId"].get<std::string>(), std::string("u"));
    QCOMPARE(j["items"][0]["lineTotal"].get<double>(), 59.97);
    QCOMPARE(j["items"][1]["unitPrice"].get<double>(), 0.01);
    QCOMPARE(j["totalAmount"].get<double>(), 59.99);
    QVERIFY(to_json(Cart{"u", {}, {}})["updatedAt"].is_null());
  }

  void upstreamUrls_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<QString>("host");  // empty: refused
    QTest::addColumn<int>("port");
    QTest::newRow("host and port") << "http://127.0.0.1:8081" << "127.0.0.1" << 8081;
    QTest::newRow("trailing slash") << "http://product-service:8080/" << "product-service" << 8080;
    QTest::newRow("default port") << "http://product-service" << "product-service" << 80;
    QTest::newRow("https") << "https://x:1" << "" << 0;
    QTest::newRow("no scheme") << "127.0.0.1:8081" << "" << 0;
    QTest::newRow("a path") << "http://x:1/api" << "" << 0;
    QTest::newRow("port 0") << "http://x:0" << "" << 0;
    QTest::newRow("port too big") << "http://x:70000" << "" << 0;
    QTest::newRow("no host") << "http://:80" << "" << 0;
  }
  void upstreamUrls() {
    QFETCH(QString, url);
    QFETCH(QString, host);
    QFETCH(int, port);
    auto parsed = parse_http_url(url.toStdString());
    QCOMPARE(parsed.has_value(), !host.isEmpty());
    if (!parsed) return;
    QCOMPARE(QString::fromStdString(parsed->host), host);
    QCOMPARE(int(parsed->port), port);
  }

  void idsAreCanonicalised() {
    QCOMPARE(canonical_uuid("ABCDEF01-2345-4789-8BCD-EF0123456789").value_or(""),
             std::string("abcdef01-2345-4789-8bcd-ef0123456789"));
    QVERIFY(!canonical_uuid("abcdef01-2345-4789-8bcd-ef012345678"));
    QVERIFY(!canonical_uuid("abcdef01+2345-4789-8bcd-ef0123456789"));
  }
};

QTEST_GUILESS_MAIN(TestCartModel)
#include "tst_cart_model.moc"
