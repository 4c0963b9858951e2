// The gateway process in front of a real upstream: who gets in (the auth matrix), what reaches
// the service (forwarded headers, rewrites), what never does (malformed requests), and the
// response cache (hit, 304, no cross-user leak). No Redis here: rate limiting is off.
#include "gateway_harness.h"

using namespace gwtest;

class TestGatewayEdge : public QObject {
  Q_OBJECT

  std::unique_ptr<Keys> keys;
  std::unique_ptr<TestUpstream> upstream;
  std::unique_ptr<GatewayProcess> gateway;

 private slots:
  void initTestCase() {
    keys = std::make_unique<Keys>();
    upstream = std::make_unique<TestUpstream>("products");
    gateway = std::make_unique<GatewayProcess>(all_services(*upstream, *keys));
    QVERIFY2(gateway->wait_started() > 0, gateway->output.constData());
  }
  void cleanupTestCase() {
    gateway.reset();
    upstream.reset();
  }

  void authMatrix_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("token");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("description");  // WWW-Authenticate error_description
    QTest::newRow("cart without token") << "GET" << "/api/cart" << "" << 401 << "";
    QTest::newRow("orders with expired token") << "GET" << "/api/orders" << "expired" << 401 << "expired";
    QTest::newRow("cart with forged signature") << "GET" << "/api/cart" << "forged" << 401 << "bad_signature";
    QTest::newRow("payments with wrong audience") << "GET" << "/api/payments/x" << "audience" << 401 << "wrong_audience";
    QTest::newRow("orders with alg none") << "GET" << "/api/orders" << "none" << 401 << "algorithm_mismatch";
    QTest::newRow("garbage token") << "GET" << "/api/cart" << "garbage" << 401 << "malformed";
    QTest::newRow("orders with user token") << "GET" << "/api/orders" << "user" << 200 << "";
    QTest::newRow("post order with user token") << "POST" << "/api/orders" << "user" << 200 << "";
    QTest::newRow("admin route with user token") << "GET" << "/admin/products/settings" << "user" << 403 << "";
    QTest::newRow("admin route without token") << "GET" << "/admin/orders/settings" << "" << 401 << "";
    QTest::newRow("admin route with admin token") << "GET" << "/admin/products/settings" << "admin" << 200 << "";
    QTest::newRow("public products without token") << "GET" << "/api/products?page=0" << "" << 200 << "";
    QTest::newRow("public products with expired token") << "GET" << "/api/products" << "expired" << 401 << "expired";
    QTest::newRow("writing products needs a user") << "POST" << "/api/products" << "" << 401 << "";
    QTest::newRow("categories without token") << "GET" << "/api/categories" << "" << 200 << "";
  }
  void authMatrix() {
    QFETCH(QString, method);
    QFETCH(QString, path);
    QFETCH(QString, token);
    QFETCH(int, status);
    QFETCH(QString, description);
    std::string t;
    if (token == "user") t = keys->token("alice");
    else if (token == "admin") t = keys->token("root", {"user", "admin"});
    else if (token == "expired") t = keys->expired("alice");
    else if (token == "forged") t = keys->forged("alice");
    else if (token == "audience") t = keys->wrong_audience("alice");
    else if (token == "none") t = keys->alg_none("alice");
    else if (token == "garbage") t = "not.a.jwt";
    const int hits_before = upstream->hits.load();
    auto r = http_request(gateway->port, method.toStdString(), path.toStdString(),
                          method == "POST" ? "{}" : "", t.empty() ? "" : bearer(t));
    QVERIFY(r);
    QCOMPARE(r->status, status);
    if (status == 401) {
      const std::string www = r->header("www-authenticate");
      QVERIFY2(www.starts_with("Bearer"), www.c_str());
      if (!description.isEmpty()) {
        QVERIFY2(www.find("error=\"invalid_token\"") != std::string::npos, www.c_str());
        QVERIFY2(www.find("error_description=\"" + description.toStdString()) != std::string::npos, www.c_str());
      }
      QCOMPARE(body_json(r)["error"].get<std::string>(), std::string("unauthorized"));
    }
    // Refused requests never reach the service.
    QCOMPARE(upstream->hits.load() - hits_before, status == 200 ? 1 : 0);
  }

  void adminRoutesAreRewrittenAndTheTokenIsForwarded() {
    const std::string t = keys->token("root", {"user", "admin"});
    auto r = gateway->get("/admin/products/settings?x=1", bearer(t));
    QCOMPARE(r->status, 200);
    auto j = body_json(r);
    QCOMPARE(j["target"].get<std::string>(), std::string("/admin/settings?x=1"));
    QCOMPARE(j["headers"]["authorization"].get<std::string>(), "Bearer " + t);
  }

  void requestIdAndForwardedHeadersReachTheService() {
    auto r = gateway->get("/api/products/abc", "X-Request-Id: trace-123\r\nX-Forwarded-For: 10.9.9.9\r\n");
    QCOMPARE(r->status, 200);
    QCOMPARE(r->header("x-request-id"), std::string("trace-123"));
    auto h = body_json(r)["headers"];
    QCOMPARE(h["x-request-id"].get<std::string>(), std::string("trace-123"));
    QCOMPARE(h["x-forwarded-for"].get<std::string>(), std::string("10.9.9.9, 127.0.0.1"));
    QCOMPARE(h["x-forwarded-proto"].get<std::string>(), std::string("http"));
    QVERIFY(h["x-forwarded-host"].get<std::string>().starts_with("127.0.0.1"));
    // Generated when absent, and the same one upstream and back.
    auto g = gateway->get("/api/products/abc?n=2");
    QVERIFY(!g->header("x-request-id").empty());
    QCOMPARE(body_json(g)["headers"]["x-request-id"].get<std::string>(), g->header("x-request-id"));
  }

  void routeMetricsCountByRouteAndStatus() {
    gateway->get("/api/cart");  // 401
    QVERIFY(scrape(gateway->port, "gateway_requests_total", {"route=\"cart\"", "status=\"401\""}) >= 1);
    QVERIFY(scrape(gateway->port, "gateway_upstream_seconds_count", {"route=\"products\""}) >= 1);
  }

  void malformedRequestsGetAClear4xx_data() {
    QTest::addColumn<QString>("raw");
    QTest::addColumn<int>("status");
    QTest::newRow("dot-dot segment") << "GET /api/products/../admin/settings HTTP/1.1\r\nHost: x\r\n\r\n" << 400;
    QTest::newRow("encoded dot-dot") << "GET /api/products/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n" << 400;
    QTest::newRow("internal inventory") << "POST /api/inventory/reserve HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" << 404;
    QTest::newRow("unknown path") << "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" << 404;
    QTest::newRow("unknown method") << "BREW /api/products HTTP/1.1\r\nHost: x\r\n\r\n" << 405;
    QTest::newRow("garbage request line") << "HELLO\r\n\r\n" << 400;
    QTest::newRow("conflicting framing") << "POST /api/cart HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" << 400;
  }
  void malformedRequestsGetAClear4xx() {
    QFETCH(QString, raw);
    QFETCH(int, status);
    const int hits_before = upstream->hits.load();
    mambogo::test::RawConnection c(gateway->port);
    c.send(raw.toStdString());
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, status);
    if (!r->body.empty()) QVERIFY2(body_json(r).contains("error"), r->body.c_str());
    QCOMPARE(upstream->hits.load(), hits_before);
  }

  void cacheServesRepeatsAndAnswers304() {
    const std::string path = "/api/products/cached-1?cc=max-age%3D60";
    const int before = upstream->hits.load();
    auto first = gateway->get(path);
    QCOMPARE(first->status, 200);
    QCOMPARE(first->header("x-gateway-cache"), std::string("MISS"));
    const std::string etag = first->header("etag");
    QVERIFY(!etag.empty());
    auto second = gateway->get(path);
    QCOMPARE(second->status, 200);
    QCOMPARE(second->header("x-gateway-cache"), std::string("HIT"));
    QCOMPARE(second->body, first->body);
    QCOMPARE(upstream->hits.load() - before, 1);
    auto conditional = gateway->get(path, "If-None-Match: " + etag + "\r\n");
    QCOMPARE(conditional->status, 304);
    QVERIFY(conditional->body.empty());
    QCOMPARE(conditional->header("etag"), etag);
    auto other = gateway->get(path, "If-None-Match: \"stale\"\r\n");
    QCOMPARE(other->status, 200);
    QCOMPARE(upstream->hits.load() - before, 1);
    // The client may insist on a fresh answer.
    QCOMPARE(gateway->get(path, "Cache-Control: no-cache\r\n")->header("x-gateway-cache"), std::string("MISS"));
    QCOMPARE(upstream->hits.load() - before, 2);
  }

  void privateAndNoStoreAnswersAreNotCached() {
    for (const std::string cc : {"private%2C%20max-age%3D60", "no-store"}) {
      const std::string path = "/api/products/uncached?cc=" + cc;
      const int before = upstream->hits.load();
      gateway->get(path);
      gateway->get(path);
      QCOMPARE(upstream->hits.load() - before, 2);
    }
  }

  void oneUsersCachedAnswerIsNeverServedToAnother() {
    // The echo shows the caller's token: an answer for alice must never reach bob.
    const std::string path = "/api/products/mine?cc=max-age%3D60";
    const std::string alice = keys->token("alice"), bob = keys->token("bob");
    auto a1 = gateway->get(path, bearer(alice));
    auto b1 = gateway->get(path, bearer(bob));
    auto anon = gateway->get(path);
    auto a2 = gateway->get(path, bearer(alice));
    QCOMPARE(body_json(a1)["headers"]["authorization"].get<std::string>(), "Bearer " + alice);
    QCOMPARE(body_json(b1)["headers"]["authorization"].get<std::string>(), "Bearer " + bob);
    QVERIFY(!body_json(anon)["headers"].contains("authorization"));
    QCOMPARE(a2->header("x-gateway-cache"), std::string("HIT"));
    QCOMPARE(body_json(a2)["headers"]["authorization"].get<std::string>(), "Bearer " + alice);
    QCOMPARE(b1->header("x-gateway-cache"), std::string("MISS"));
  }

  void postsAreNeverCached() {
    const std::string t = keys->token("alice");
    const int before = upstream->hits.load();
    http_request(gateway->port, "POST", "/api/products?cc=max-age%3D60", "{}", bearer(t));
    http_request(gateway->port, "POST", "/api/products?cc=max-age%3D60", "{}", bearer(t));
    QCOMPARE(upstream->hits.load() - before, 2);
  }

  void gatewaySwitchesNeedTheAdminRoleAndTakeEffect() {
    QCOMPARE(gateway->get("/admin/settings")->status, 401);
    QCOMPARE(gateway->get("/admin/settings", bearer(keys->token("alice")))->status, 403);
    const std::string admin = bearer(keys->token("root", {"user", "admin"}));
    auto settings = gateway->get("/admin/settings", admin);
    QCOMPARE(settings->status, 200);
    QVERIFY(body_json(settings).contains("gateway.cache.enabled"));
    auto off = http_request(gateway->port, "PATCH", "/admin/settings", "{\"gateway.cache.enabled\": false}",
                            admin + "Content-Type: application/json\r\n");
    QCOMPARE(off->status, 200);
    const std::string path = "/api/products/switch?cc=max-age%3D60";
    const int before = upstream->hits.load();
    gateway->get(path);
    auto second = gateway->get(path);
    QVERIFY(second->header("x-gateway-cache").empty());
    QCOMPARE(upstream->hits.load() - before, 2);
    auto on = http_request(gateway->port, "PATCH", "/admin/settings", "{\"gateway.cache.enabled\": true}",
                           admin + "Content-Type: application/json\r\n");
    QCOMPARE(on->status, 200);
    gateway->get(path);
    QCOMPARE(gateway->get(path)->header("x-gateway-cache"), std::string("HIT"));
  }

  void everyProxiedRequestIsLogged() {
    GatewayProcess logged([&] {
      auto env = all_services(*upstream, *keys);
      env["GATEWAY_ACCESS_LOG"] = "true";
      return env;
    }());
    QVERIFY2(logged.wait_started() > 0, logged.output.constData());
    QCOMPARE(logged.get("/api/products/logged", "X-Request-Id: log-42\r\n")->status, 200);
    bool found = false;
    QElapsedTimer timer;
    timer.start();
    while (!found && timer.elapsed() < 5000) {
      for (const QByteArray& line : logged.drain_output().split('\n')) {
        auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        found = found || (!j.is_discarded() && j.value("type", "") == "proxy" &&
                          j.value("request_id", "") == "log-42" && j.value("route", "") == "products" &&
                          j.value("status", 0) == 200 && j.value("upstream", "") == "127.0.0.1:" + std::to_string(upstream->port()));
      }
    }
    QVERIFY2(found, logged.output.constData());
  }

  void productBrowsingCanBeMadePrivate() {
    GatewayProcess closed([&] {
      auto env = all_services(*upstream, *keys);
      env["GATEWAY_PUBLIC_PRODUCTS"] = "false";
      return env;
    }());
    QVERIFY2(closed.wait_started() > 0, closed.output.constData());
    QCOMPARE(closed.get("/api/products")->status, 401);
    QCOMPARE(closed.get("/api/products", bearer(keys->token("alice")))->status, 200);
  }

  void invalidConfigurationStopsTheStart() {
    GatewayProcess bad([&] {
      auto env = all_services(*upstream, *keys);
      env["GATEWAY_RATELIMIT_FAILURE_MODE"] = "sometimes";
      env["CART_SERVICE_URL"] = "ftp://x";
      return env;
    }());
    QCOMPARE(bad.wait_started(), 0);
    QVERIFY(bad.process.state() == QProcess::NotRunning || bad.process.waitForFinished(5000));
    QCOMPARE(bad.process.exitCode(), 2);
    const QByteArray out = bad.drain_output();
    QVERIFY2(out.contains("GATEWAY_RATELIMIT_FAILURE_MODE"), out.constData());
    QVERIFY2(out.contains("CART_SERVICE_URL"), out.constData());
  }
};

QTEST_GUILESS_MAIN(TestGatewayEdge)
#include "tst_gateway_edge.moc"
