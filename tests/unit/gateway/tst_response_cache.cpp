// The gateway's response cache as a shared cache must behave: Cache-Control honoured on both
// sides, freshness bounded on a FakeClock, ETag / If-None-Match, and one user's answer never
// served to another.
#include <QtTest>

#include <prometheus/registry.h>

#include "gateway/response_cache.h"

using namespace mambogo::gateway;
using mambogo::runtime::FakeClock;
using mambogo::runtime::Method;
using mambogo::runtime::Request;
using mambogo::runtime::Response;
using namespace std::chrono_literals;

namespace {

Request get(const std::string& target, std::vector<mambogo::runtime::Header> headers = {}) {
  Request r;
  r.method = Method::get;
  r.method_token = "GET";
  r.target = target;
  r.headers = std::move(headers);
  return r;
}

Response ok(const std::string& body, const std::string& cache_control = "") {
  Response r = Response::json(200, body);
  if (!cache_control.empty()) r.headers.push_back({"Cache-Control", cache_control});
  return r;
}

ResponseCacheOptions options() {
  ResponseCacheOptions o;
  o.max_entries = 100;
  o.max_ttl = 60s;
  o.default_ttl = 10s;
  return o;
}

}  // namespace

class TestResponseCache : public QObject {
  Q_OBJECT
 private slots:
  void cacheControlParses() {
    auto cc = CacheControl::parse("Public, max-age=30, s-maxage=\"10\", no-transform");
    QVERIFY(cc.is_public && !cc.is_private && !cc.no_store);
    QCOMPARE(cc.max_age->count(), 30);
    QCOMPARE(cc.s_maxage->count(), 10);
    QVERIFY(!CacheControl::parse("max-age=abc").max_age);
    QVERIFY(CacheControl::parse("no-store").no_store);
    QVERIFY(CacheControl::parse("private").is_private);
  }

  void aStoredAnswerIsServedUntilItsMaxAge() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response r = ok(R"({"id":1})", "max-age=5");
    const std::string etag = cache.store(get("/api/products/1"), "", r);
    QVERIFY(!etag.empty());
    auto hit = cache.lookup(get("/api/products/1"), "");
    QVERIFY(hit);
    QCOMPARE(hit->response.body, std::string(R"({"id":1})"));
    QCOMPARE(hit->etag, etag);
    clock.advance(3s);
    QCOMPARE(cache.lookup(get("/api/products/1"), "")->age.count(), 3);
    clock.advance(2s);
    QVERIFY(!cache.lookup(get("/api/products/1"), ""));
    QVERIFY(!cache.lookup(get("/api/products/1?x=1"), ""));  // the query is part of the key
  }

  void freshnessIsCappedAndDefaulted() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response long_lived = ok("a", "max-age=3600");
    cache.store(get("/a"), "", long_lived);
    Response plain = ok("b");
    cache.store(get("/b"), "", plain);
    clock.advance(10s);
    QVERIFY(cache.lookup(get("/a"), ""));
    QVERIFY(!cache.lookup(get("/b"), ""));  // default 10 s
    clock.advance(50s);
    QVERIFY(!cache.lookup(get("/a"), ""));  // capped at 60 s
  }

  void whatMustNotBeStoredIsNot_data() {
    QTest::addColumn<QString>("responseHeader");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("requestCacheControl");
    QTest::addColumn<int>("status");
    QTest::newRow("no-store") << "Cache-Control" << "no-store" << "" << 200;
    QTest::newRow("private") << "Cache-Control" << "private, max-age=60" << "" << 200;
    QTest::newRow("max-age=0") << "Cache-Control" << "max-age=0" << "" << 200;
    QTest::newRow("vary") << "Vary" << "Authorization" << "" << 200;
    QTest::newRow("set-cookie") << "Set-Cookie" << "a=b" << "" << 200;
    QTest::newRow("request no-store") << "X-Other" << "1" << "no-store" << 200;
    QTest::newRow("not 200") << "X-Other" << "1" << "" << 404;
  }
  void whatMustNotBeStoredIsNot() {
    QFETCH(QString, responseHeader);
    QFETCH(QString, value);
    QFETCH(QString, requestCacheControl);
    QFETCH(int, status);
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response r = ok("x");
    r.status = status;
    r.headers.push_back({responseHeader.toStdString(), value.toStdString()});
    std::vector<mambogo::runtime::Header> h;
    if (!requestCacheControl.isEmpty()) h.push_back({"Cache-Control", requestCacheControl.toStdString()});
    cache.store(get("/p", h), "", r);
    QVERIFY(!cache.lookup(get("/p"), ""));
  }

  void requestNoCacheBypassesTheLookup() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response r = ok("x");
    cache.store(get("/p"), "", r);
    QVERIFY(!cache.lookup(get("/p", {{"Cache-Control", "no-cache"}}), ""));
    QVERIFY(!cache.lookup(get("/p", {{"Pragma", "no-cache"}}), ""));
    QVERIFY(cache.lookup(get("/p"), ""));
  }

  void oneUsersAnswerIsNeverServedToAnother() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response alice = ok("alice's view", "max-age=60");
    cache.store(get("/p"), "alice", alice);
    QVERIFY(!cache.lookup(get("/p"), "bob"));
    QVERIFY(!cache.lookup(get("/p"), ""));
    QCOMPARE(cache.lookup(get("/p"), "alice")->response.body, std::string("alice's view"));
    Response bob = ok("bob's view", "max-age=60");
    cache.store(get("/p"), "bob", bob);
    QCOMPARE(cache.lookup(get("/p"), "alice")->response.body, std::string("alice's view"));
    QCOMPARE(cache.lookup(get("/p"), "bob")->response.body, std::string("bob's view"));
  }

  void publicAnswersAreShared() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response r = ok("catalogue", "public, max-age=60");
    cache.store(get("/p"), "alice", r);
    QCOMPARE(cache.lookup(get("/p"), "bob")->response.body, std::string("catalogue"));
    QCOMPARE(cache.lookup(get("/p"), "")->response.body, std::string("catalogue"));
  }

  void etagsAreKeptOrComputedAndCompared() {
    FakeClock clock;
    ResponseCache cache(options(), nullptr, clock);
    Response given = ok("x");
    given.headers.push_back({"ETag", "\"v7\""});
    QCOMPARE(cache.store(get("/given"), "", given), std::string("\"v7\""));
    Response computed = ok("y");
    const std::string etag = cache.store(get("/computed"), "", computed);
    QVERIFY(etag.size() > 2 && etag.front() == '"');
    Response same = ok("y");
    QCOMPARE(cache.store(get("/computed2"), "", same), etag);  // a function of the body
    QVERIFY(if_none_match_matches("\"a\", \"v7\"", "\"v7\""));
    QVERIFY(if_none_match_matches("W/\"v7\"", "\"v7\""));
    QVERIFY(if_none_match_matches("*", "\"v7\""));
    QVERIFY(!if_none_match_matches("\"v8\"", "\"v7\""));
  }

  void theNumberOfEntriesIsBounded() {
    FakeClock clock;
    auto o = options();
    o.max_entries = 10;
    prometheus::Registry registry;
    ResponseCache cache(o, &registry, clock);
    for (int i = 0; i < 100; ++i) {
      Response r = ok("x");
      cache.store(get("/p" + std::to_string(i)), "", r);
    }
    QVERIFY(cache.entries().size() <= 10);
  }
};

QTEST_GUILESS_MAIN(TestResponseCache)
#include "tst_response_cache.moc"
