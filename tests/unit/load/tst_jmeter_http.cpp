// What mambogo-load puts on the wire for a JMeter sampler's arguments, case by case as JMeter
// 5.6's HttpClient 4 sampler does (app/load/jmeter_http.h names the JMeter code followed).
#include <QtTest>

#include "load/jmeter_http.h"

using namespace mambogo::load;

Q_DECLARE_METATYPE(std::vector<SamplerArgumentValue>)

namespace {
SamplerArgumentValue arg(std::string name, std::string value, bool always_encode = false) {
  return {std::move(name), std::move(value), always_encode, "="};
}
const QString form = "application/x-www-form-urlencoded; charset=UTF-8";
const QString text = "text/plain; charset=UTF-8";
}  // namespace

class TestJmeterHttp : public QObject {
  Q_OBJECT

 private slots:
  void argumentsGoWhereJMeterSendsThem_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<std::vector<SamplerArgumentValue>>("arguments");
    QTest::addColumn<bool>("raw");
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("contentType");

    // The seed's sampler: a named argument of a POST is a form field in the body, not a header.
    QTest::newRow("seed: POST named argument")
        << "POST" << std::vector{arg("X-Idempotency-Key", "0f8fad5b-d9cb-469f-a165-70867728950e")} << false << ""
        << "X-Idempotency-Key=0f8fad5b-d9cb-469f-a165-70867728950e" << form;
    QTest::newRow("GET named arguments: query string, sent as typed")
        << "GET" << std::vector{arg("q", "a b"), arg("page", "2")} << false << "q=a b&page=2" << "" << "";
    QTest::newRow("GET always_encode: URL-encoded, space as +")
        << "GET" << std::vector{arg("q", "a b&c~*", true)} << false << "q=a+b%26c%7E*" << "" << "";
    QTest::newRow("GET blank names skipped")
        << "GET" << std::vector{arg("", "x"), arg(" ", "y"), arg("k", "v")} << false << "k=v" << "" << "";
    QTest::newRow("POST value typed encoded is decoded then encoded again")
        << "POST" << std::vector{arg("a", "x%20y+z"), arg("b", "%41&")} << false << "" << "a=x+y+z&b=A%26" << form;
    QTest::newRow("POST always_encode value taken literally")
        << "POST" << std::vector{arg("a", "x%20y", true)} << false << "" << "a=x%2520y" << form;
    QTest::newRow("POST Body Data (raw): values concatenated, not encoded")
        << "POST" << std::vector{arg("", R"({"items":)"), arg("", R"([1]})")} << true << "" << R"({"items":[1]})"
        << text;
    QTest::newRow("POST nameless arguments without the raw flag: also the body")
        << "POST" << std::vector{arg("", "a b")} << false << "" << "a b" << text;
    QTest::newRow("POST without arguments: an empty form")
        << "POST" << std::vector<SamplerArgumentValue>{} << false << "" << "" << form;
    QTest::newRow("PUT named: form body") << "PUT" << std::vector{arg("k", "v")} << false << "" << "k=v" << form;
    QTest::newRow("PUT without arguments: no body")
        << "PUT" << std::vector<SamplerArgumentValue>{} << false << "" << "" << "";
    QTest::newRow("DELETE named: query string and form body")
        << "DELETE" << std::vector{arg("k", "v")} << false << "k=v" << "k=v" << form;
    QTest::newRow("GET raw: a body on a GET") << "GET" << std::vector{arg("", "{}")} << true << "" << "{}" << text;
    QTest::newRow("HEAD: nothing") << "HEAD" << std::vector{arg("k", "v")} << false << "" << "" << "";
    QTest::newRow("OPTIONS named: query only") << "OPTIONS" << std::vector{arg("k", "v")} << false << "k=v" << ""
                                               << "";
  }
  void argumentsGoWhereJMeterSendsThem() {
    QFETCH(QString, method);
    QFETCH(std::vector<SamplerArgumentValue>, arguments);
    QFETCH(bool, raw);
    QFETCH(QString, query);
    QFETCH(QString, body);
    QFETCH(QString, contentType);
    auto c = jmeter_sampler_content(method.toStdString(), arguments, raw);
    QCOMPARE(QString::fromStdString(c.query), query);
    QCOMPARE(QString::fromStdString(c.body), body);
    QCOMPARE(QString::fromStdString(c.content_type), contentType);
    QCOMPARE(c.has_body, !contentType.isEmpty());
  }

  void metadataStandsBetweenNameAndValueInTheQuery() {
    SamplerArgumentValue flag{"debug", "", false, ""};
    auto c = jmeter_sampler_content("GET", {flag, arg("k", "v")}, false);
    QCOMPARE(QString::fromStdString(c.query), QString("debug&k=v"));
  }

  void urlCodingMatchesJava() {
    QCOMPARE(QString::fromStdString(jmeter_url_encode("aZ09.-*_ ~!é")), QString("aZ09.-*_+%7E%21%C3%A9"));
    QCOMPARE(QString::fromStdString(jmeter_url_decode("a+b%41%zz%4")), QString("a bA%zz%4"));
  }
};

QTEST_GUILESS_MAIN(TestJmeterHttp)
#include "tst_jmeter_http.moc"
