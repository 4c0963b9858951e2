#include <QtTest>

#include <nlohmann/json.hpp>

#include "runtime/http_message.h"
#include "runtime/json_body.h"

using namespace mambogo::runtime;

class TestHttpMessage : public QObject {
  Q_OBJECT
 private slots:
  void splitsPathAndQuery() {
    Request r;
    r.target = "/api/products?category=books&q=a%20b+c&empty&x=1";
    QCOMPARE(r.path(), std::string_view("/api/products"));
    QCOMPARE(r.query_param("category").value(), std::string("books"));
    QCOMPARE(r.query_param("q").value(), std::string("a b c"));
    QCOMPARE(r.query_param("empty").value(), std::string());
    QVERIFY(!r.query_param("missing").has_value());
    r.target = "/plain";
    QVERIFY(r.query().empty());
  }

  void headerLookupIgnoresCase() {
    Request r;
    r.headers = {{"Content-Type", "application/json"}, {"X-Request-Id", "abc"}};
    QCOMPARE(r.header("content-type").value(), std::string_view("application/json"));
    QCOMPARE(r.header("X-REQUEST-ID").value(), std::string_view("abc"));
    QVERIFY(!r.header("Accept").has_value());
  }

  void errorHasTheOneShape() {
    Response e = Response::error(409, "conflict", "order \"7\" exists", "req-1");
    QCOMPARE(e.status, 409);
    QCOMPARE(e.content_type, std::string("application/json"));
    auto body = nlohmann::json::parse(e.body);
    QCOMPARE(body["error"].get<std::string>(), std::string("conflict"));
    QCOMPARE(body["message"].get<std::string>(), std::string("order \"7\" exists"));
    QCOMPARE(body["requestId"].get<std::string>(), std::string("req-1"));
    QCOMPARE(body.size(), size_t(3));
  }

  void errorSurvivesInvalidUtf8() {
    Response e = Response::error(400, "bad_request", std::string("bad \xff\xfe bytes"));
    QVERIFY(nlohmann::json::accept(e.body));
    QVERIFY(nlohmann::json::parse(e.body)["requestId"].is_null());
  }

  void headerLinesThatWouldInjectAreRefused() {
    using mambogo::runtime::safe_header_line;
    QVERIFY(safe_header_line("Authorization", "Bearer " + std::string(700, 'a')));
    QVERIFY(safe_header_line("X-Empty", ""));
    QVERIFY(!safe_header_line("", "v"));
    for (const char* name : {"X-A:b", "X A", "X\tA", "X\rA", "X\nA"}) QVERIFY2(!safe_header_line(name, "v"), name);
    QVERIFY(!safe_header_line("X-A", "ok\r\nSet-Cookie: stolen=1"));
    QVERIFY(!safe_header_line("X-A", std::string(700, 'a') + "\n"));
    QVERIFY(!safe_header_line("X-A", "\r"));
  }

  void methodsRoundTrip() {
    for (auto m : {Method::get, Method::head, Method::post, Method::put, Method::patch, Method::delete_, Method::options})
      QCOMPARE(parse_method(to_string(m)), m);
    QCOMPARE(parse_method("BREW"), Method::other);
    QCOMPARE(parse_method("get"), Method::other);  // methods are case-sensitive
  }

  void jsonBodyErrorsHaveTheRightStatus_data() {
    QTest::addColumn<QString>("contentType");
    QTest::addColumn<QString>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("object") << "application/json" << R"({"a":1})" << 200;
    QTest::newRow("charset") << "application/json; charset=utf-8" << "{}" << 200;
    QTest::newRow("vendor json") << "application/merge-patch+json" << "{}" << 200;
    QTest::newRow("no content type") << "" << "{}" << 200;
    QTest::newRow("xml") << "application/xml" << "<a/>" << 415;
    QTest::newRow("empty") << "application/json" << "" << 400;
    QTest::newRow("truncated") << "application/json" << R"({"a":)" << 400;
    QTest::newRow("array") << "application/json" << "[1]" << 400;
    QTest::newRow("trailing garbage") << "application/json" << "{} x" << 400;
  }
  void jsonBodyErrorsHaveTheRightStatus() {
    QFETCH(QString, contentType);
    QFETCH(QString, body);
    QFETCH(int, status);
    Request r;
    r.request_id = "rid";
    if (!contentType.isEmpty()) r.headers.push_back({"Content-Type", contentType.toStdString()});
    r.body = body.toStdString();
    Response error;
    auto parsed = parse_json_object(r, error);
    QCOMPARE(parsed.has_value(), status == 200);
    if (status != 200) {
      QCOMPARE(error.status, status);
      QCOMPARE(nlohmann::json::parse(error.body)["requestId"].get<std::string>(), std::string("rid"));
    }
  }

  void percentDecodingKeepsInvalidEscapes() {
    QCOMPARE(percent_decode("%41%2"), std::string("A%2"));
    QCOMPARE(percent_decode("%zz"), std::string("%zz"));
  }
};

QTEST_APPLESS_MAIN(TestHttpMessage)
#include "tst_http_message.moc"
