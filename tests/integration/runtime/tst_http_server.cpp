// The runtime's HTTP server over real sockets: what a client, a proxy in front or a load
// balancer would notice. Each test starts its own server on port 0.
#include <QtTest>

#include <atomic>
#include <cstdio>
#include <future>
#include <thread>

#include "raw_http.h"
#include "runtime/executor.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

using namespace mambogo::runtime;
using namespace mambogo::test;
using namespace std::chrono_literals;

namespace {

// A server with the demo-like routes used below, torn down in the right order.
struct Fixture {
  explicit Fixture(ServerOptions options = {}, ExecutorOptions ex = {"blocking", 4, 8, 16, 60s, RejectionPolicy::caller_runs}) {
    options.address = "127.0.0.1";
    options.port = 0;
    options.access_log = false;
    router.add(Method::get, "/hello", [](const Request&) { return Response::text(200, "ok"); })
        .add(Method::get, "/api/items/{id}", [](const Request& r) { return Response::text(200, std::string(r.path_param("id"))); })
        .add(Method::post, "/echo", [](const Request& r) { return Response::text(200, r.body); })
        .add(Method::get, "/slow", [](const Request& r) {
              std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(r.query_param("ms").value_or("200"))));
              return Response::text(200, "slept");
            }, Dispatch::blocking)
        .add(Method::get, "/throws", [](const Request&) -> Response { throw std::runtime_error("kaput"); })
        .add_async(Method::get, "/never", [](const Request&, Responder) {})
        .add_async(Method::post, "/take", [](Request& r, Responder responder) {  // takes what it may
          std::thread([headers = std::move(r.headers), body = std::move(r.body),
                       responder = std::move(responder)]() mutable {
            responder.send(Response::text(200, std::to_string(headers.size()) + " headers, body " + body));
          }).detach();
        })
        .add_async(Method::get, "/later", [](const Request&, Responder r) {
          std::thread([r = std::move(r)]() mutable {
            std::this_thread::sleep_for(20ms);
            r.send(Response::text(200, "later"));
          }).detach();
        });
    executor = std::make_unique<BoundedExecutor>(ex, &metrics.registry());
    server = std::make_unique<HttpServer>(options, router, executor.get(), metrics, logger);
    server->start();
    port = server->port();
  }
  ~Fixture() {
    server->stop();
    executor->shutdown();
  }
  Router router;
  MetricsRegistry metrics;
  Logger logger{"test", LogLevel::off};
  std::unique_ptr<BoundedExecutor> executor;
  std::unique_ptr<HttpServer> server;
  int port = 0;
};

std::string get(const std::string& target, const std::string& extra = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

}  // namespace

class TestHttpServer : public QObject {
  Q_OBJECT
 private slots:
  void keepAliveServesManyRequestsOnOneConnection() {
    Fixture f;
    RawConnection c(f.port);
    for (int i = 0; i < 5; ++i) {
      c.send(get("/hello"));
      auto r = c.read_response();
      QVERIFY(r);
      QCOMPARE(r->status, 200);
      QCOMPARE(r->body, std::string("ok"));
    }
    // Pipelined requests are answered in order.
    c.send(get("/api/items/1") + get("/api/items/2"));
    QCOMPARE(c.read_response()->body, std::string("1"));
    QCOMPARE(c.read_response()->body, std::string("2"));
    QCOMPARE(f.server->stats().connections, 1);
    QTRY_COMPARE_WITH_TIMEOUT(f.server->stats().requests, std::uint64_t(7), 2000);
  }

  // Headers are parsed straight from the buffer when they have all arrived; a header that
  // comes in pieces is still waited for (under the header timeout) and assembled.
  void headerArrivingInPiecesIsAssembled() {
    Fixture f;
    RawConnection c(f.port);
    c.send("GET /api/items/7 HTTP/1.1\r\nHo");
    std::this_thread::sleep_for(50ms);
    c.send("st: t\r\nX-Request-Id: piece");
    std::this_thread::sleep_for(50ms);
    c.send("s\r\n\r\n");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body, std::string("7"));
    QCOMPARE(r->header("x-request-id"), std::string("pieces"));
  }

  // A response larger than the socket buffers cannot be sent at once: the rest goes out as a
  // reader that is slow to start takes it, byte for byte.
  void largeResponseReachesASlowReaderIntact() {
    ServerOptions o;
    o.body_limit = 16 * 1024 * 1024;
    Fixture f(o);
    std::string body(8 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7919) % 26);
    RawConnection c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    std::this_thread::sleep_for(300ms);  // the server has filled the socket buffers by now
    auto r = c.read_response(10s);
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body.size(), body.size());
    QVERIFY(r->body == body);
    c.send(get("/hello"));  // and the connection carries on
    QCOMPARE(c.read_response()->body, std::string("ok"));
  }

  void connectionCloseIsHonoured() {
    Fixture f;
    RawConnection c(f.port);
    c.send(get("/hello", "Connection: close\r\n"));
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->header("connection"), std::string("close"));
    QVERIFY(c.closed_by_peer());
  }

  // nginx's keepalive_requests: the third answer says Connection: close and the server closes.
  void connectionClosesAfterKeepaliveRequests() {
    ServerOptions o;
    o.keepalive_requests = 3;
    Fixture f(o);
    RawConnection c(f.port);
    for (int i = 1; i <= 3; ++i) {
      c.send(get("/hello"));
      auto r = c.read_response();
      QVERIFY(r);
      QCOMPARE(r->status, 200);
      QCOMPARE(r->header("connection"), std::string(i < 3 ? "" : "close"));
    }
    QVERIFY(c.closed_by_peer());
  }

  // nginx's keepalive_time: requests keep the connection while it is young; the first one that
  // starts after keepalive_time is answered, with Connection: close, and the connection ends.
  void connectionClosesOnceOlderThanKeepaliveTime() {
    ServerOptions o;
    o.keepalive_time = 300ms;
    Fixture f(o);
    RawConnection c(f.port);
    c.send(get("/hello"));
    QCOMPARE(c.read_response()->header("connection"), std::string());
    c.send(get("/hello"));
    QCOMPARE(c.read_response()->header("connection"), std::string());
    std::this_thread::sleep_for(400ms);
    c.send(get("/api/items/9"));
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->body, std::string("9"));  // answered, not refused
    QCOMPARE(r->header("connection"), std::string("close"));
    QVERIFY(c.closed_by_peer());
  }

  void stalledHeaderGets408() {
    ServerOptions o;
    o.header_timeout = 200ms;
    Fixture f(o);
    RawConnection c(f.port);
    c.send("GET /hello HTTP/1.1\r\nHost: slow");  // never finished
    auto r = c.read_response(3s);
    QVERIFY(r);
    QCOMPARE(r->status, 408);
    QVERIFY(c.closed_by_peer());
  }

  void idleKeepAliveIsClosedSilently() {
    ServerOptions o;
    o.idle_timeout = 150ms;
    Fixture f(o);
    RawConnection c(f.port);
    c.send(get("/hello"));
    QCOMPARE(c.read_response()->status, 200);
    QVERIFY(c.closed_by_peer(2s));
    QTRY_COMPARE_WITH_TIMEOUT(f.server->stats().connections, 0, 2000);
  }

  void announcedOversizedBodyGets413BeforeReading() {
    ServerOptions o;
    o.body_limit = 1024;
    Fixture f(o);
    RawConnection c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 413);
    QVERIFY(c.closed_by_peer());
  }

  void chunkedBodyBeyondLimitGets413() {
    ServerOptions o;
    o.body_limit = 1024;
    Fixture f(o);
    RawConnection c(f.port);
    std::string chunk(800, 'x');
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 413);
  }

  void bodyWithinLimitIsDelivered() {
    ServerOptions o;
    o.body_limit = 1024;
    Fixture f(o);
    auto r = http_request(f.port, "POST", "/echo", std::string(1024, 'y'));
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body.size(), size_t(1024));
  }

  void oversizedHeaderGets431() {
    ServerOptions o;
    o.header_limit = 2048;
    Fixture f(o);
    RawConnection c(f.port);
    c.send(get("/hello", "X-Big: " + std::string(4096, 'a') + "\r\n"));
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 431);
  }

  void smugglingStyleFramingGets400_data() {
    QTest::addColumn<QString>("headers");
    QTest::newRow("CL + TE") << "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n";
    QTest::newRow("TE + CL") << "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n";
    QTest::newRow("two equal CL") << "Content-Length: 4\r\nContent-Length: 4\r\n";
    QTest::newRow("two different CL") << "Content-Length: 4\r\nContent-Length: 5\r\n";
    QTest::newRow("TE not chunked") << "Transfer-Encoding: gzip\r\nContent-Length: 4\r\n";
    QTest::newRow("CL with sign") << "Content-Length: +4\r\n";
  }
  void smugglingStyleFramingGets400() {
    QFETCH(QString, headers);
    Fixture f;
    RawConnection c(f.port);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\n" + headers.toStdString() + "\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 400);
    QVERIFY(r->body.find("\"error\"") != std::string::npos);
    // The connection is closed: the smuggled second request is never answered.
    QVERIFY(c.closed_by_peer());
    QCOMPARE(f.server->stats().requests, std::uint64_t(1));
  }

  void malformedRequestLineGets400() {
    Fixture f;
    RawConnection c(f.port);
    c.send("GARBAGE\r\n\r\n");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 400);
  }

  // An async handler may take the headers and body (the gateway does, to avoid copying them);
  // the server still answers with the request's id, keep-alive and its metrics.
  void asyncHandlerMayTakeHeadersAndBody() {
    Fixture f;
    RawConnection c(f.port);
    c.send("POST /take HTTP/1.1\r\nHost: t\r\nX-Request-Id: taken-1\r\nContent-Length: 3\r\n\r\nabc");
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body, std::string("3 headers, body abc"));
    QCOMPARE(r->header("x-request-id"), std::string("taken-1"));
    c.send(get("/hello"));
    QCOMPARE(c.read_response()->body, std::string("ok"));
  }

  void requestIdIsTakenOrGenerated() {
    Fixture f;
    auto given = http_request(f.port, "GET", "/hello", {}, "X-Request-Id: abc-123\r\n");
    QCOMPARE(given->header("x-request-id"), std::string("abc-123"));
    auto made = http_request(f.port, "GET", "/hello");
    QCOMPARE(made->header("x-request-id").size(), size_t(32));
    auto other = http_request(f.port, "GET", "/hello");
    QVERIFY(other->header("x-request-id") != made->header("x-request-id"));
    auto missing = http_request(f.port, "GET", "/missing", {}, "X-Request-Id: trace-9\r\n");
    QCOMPARE(missing->status, 404);
    QCOMPARE(QString::fromStdString(missing->body), QString(R"({"error":"not_found","message":"no route for /missing","requestId":"trace-9"})"));
  }

  void wrongMethodGets405WithAllow() {
    Fixture f;
    auto r = http_request(f.port, "DELETE", "/hello");
    QCOMPARE(r->status, 405);
    QCOMPARE(r->header("allow"), std::string("GET"));
  }

  void headAnswersHeadersOnly() {
    Fixture f;
    RawConnection c(f.port);
    c.send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n" + get("/api/items/9"));
    // A HEAD response announces the GET body's length but carries no body: the next
    // response on the connection must start right after its headers.
    auto head = c.read_response();
    QCOMPARE(head->status, 200);
    QCOMPARE(head->header("content-length"), std::string("2"));
    // read_response consumed 2 bytes as HEAD's "body"; those must have been the next status line.
    QCOMPARE(head->body, std::string("HT"));
  }

  void handlerExceptionGets500AndServerLives() {
    Fixture f;
    auto r = http_request(f.port, "GET", "/throws");
    QCOMPARE(r->status, 500);
    QVERIFY(r->body.find("kaput") != std::string::npos);
    QCOMPARE(http_request(f.port, "GET", "/hello")->status, 200);
  }

  void asyncHandlerRepliesFromAnotherThread() {
    Fixture f;
    auto r = http_request(f.port, "GET", "/later");
    QCOMPARE(r->status, 200);
    QCOMPARE(r->body, std::string("later"));
  }

  void silentHandlerGets503AtDeadline() {
    ServerOptions o;
    o.handler_timeout = 150ms;
    Fixture f(o);
    auto r = http_request(f.port, "GET", "/never");
    QCOMPARE(r->status, 503);
    QVERIFY(r->body.find("handler_timeout") != std::string::npos);
  }

  void saturatedExecutorWithRejectPolicyGets503() {
    Fixture f({}, {"blocking", 1, 1, 0, 60s, RejectionPolicy::reject});
    auto slow = std::async(std::launch::async, [&] { return http_request(f.port, "GET", "/slow?ms=400"); });
    QTRY_COMPARE_WITH_TIMEOUT(f.executor->stats().active, 1, 2000);
    auto rejected = http_request(f.port, "GET", "/slow?ms=1");
    QCOMPARE(rejected->status, 503);
    QCOMPARE(rejected->header("retry-after"), std::string("1"));
    QCOMPARE(slow.get()->status, 200);
  }

  void connectionCapGets503() {
    ServerOptions o;
    o.max_connections = 2;
    Fixture f(o);
    RawConnection a(f.port), b(f.port);
    a.send(get("/hello"));
    b.send(get("/hello"));
    QCOMPARE(a.read_response()->status, 200);
    QCOMPARE(b.read_response()->status, 200);
    RawConnection c(f.port);
    auto r = c.read_response();
    QVERIFY(r);
    QCOMPARE(r->status, 503);
    QVERIFY(c.closed_by_peer());
  }

  void metricsLabelRouteTemplatesNotRawPaths() {
    Fixture f;
    for (int i = 0; i < 3; ++i) http_request(f.port, "GET", "/api/items/" + std::to_string(1000 + i));
    http_request(f.port, "GET", "/no/such/path/12345");
    // A request is observed once its response is written, just after the client has read it.
    QTRY_VERIFY_WITH_TIMEOUT(f.metrics.serialize().find("uri=\"UNKNOWN\"") != std::string::npos, 2000);
    std::string text = f.metrics.serialize();
    QVERIFY(text.find("http_server_requests_seconds_count{method=\"GET\",outcome=\"SUCCESS\",status=\"200\",uri=\"/api/items/{id}\"} 3") != std::string::npos);
    // Every uri label is a route template or UNKNOWN: raw paths would be unbounded series.
    QSet<QString> uris;
    static const QRegularExpression uri_label("uri=\"([^\"]*)\"");
    for (auto it = uri_label.globalMatch(QString::fromStdString(text)); it.hasNext();) uris.insert(it.next().captured(1));
    QCOMPARE(uris, (QSet<QString>{"/api/items/{id}", "UNKNOWN"}));
    QVERIFY(text.find("process_resident_memory_bytes") != std::string::npos);
    QVERIFY(text.find("executor_queue_remaining_tasks") != std::string::npos);
  }

  void metricsPassPromtool() {
    Fixture f;
    http_request(f.port, "GET", "/hello");
    http_request(f.port, "POST", "/echo", "x");
    FILE* p = popen("promtool check metrics > /tmp/mambogo-promtool.out 2>&1", "w");
    if (!p) QSKIP("promtool not runnable");
    std::string text = f.metrics.serialize();
    fwrite(text.data(), 1, text.size(), p);
    int rc = pclose(p);
    QFile out("/tmp/mambogo-promtool.out");
    out.open(QIODevice::ReadOnly);
    QVERIFY2(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, out.readAll().constData());
  }

  void drainAnswersInFlightRequestsAndRefusesNewConnections() {
    Fixture f;
    std::vector<std::future<std::optional<RawResponse>>> inflight;
    for (int i = 0; i < 4; ++i)
      inflight.push_back(std::async(std::launch::async, [&] { return http_request(f.port, "GET", "/slow?ms=300"); }));
    RawConnection idle(f.port);  // a keep-alive connection with no request
    QTRY_COMPARE_WITH_TIMEOUT(f.server->stats().in_flight, 4, 2000);
    DrainResult result = f.server->drain(5s);
    QVERIFY(result.completed);
    QCOMPARE(result.abandoned, 0);
    for (auto& r : inflight) {
      auto resp = r.get();
      QVERIFY(resp);
      QCOMPARE(resp->status, 200);  // none lost
    }
    QVERIFY(idle.closed_by_peer());
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, RawConnection{f.port});
  }

  void drainGivesUpAfterGrace() {
    Fixture f;
    auto slow = std::async(std::launch::async, [&] { return http_request(f.port, "GET", "/slow?ms=1500"); });
    QTRY_COMPARE_WITH_TIMEOUT(f.server->stats().in_flight, 1, 2000);
    auto started = std::chrono::steady_clock::now();
    DrainResult result = f.server->drain(100ms);
    QVERIFY(std::chrono::steady_clock::now() - started < 1s);
    QVERIFY(!result.completed);
    QCOMPARE(result.abandoned, 1);
    slow.wait();
  }
};

QTEST_APPLESS_MAIN(TestHttpServer)
#include "tst_http_server.moc"
