// The gateway process against several real upstream servers: circuit breaker opening on a
// failing service and closing after recovery, outlier ejection and return, fairness of each
// balancing policy, retries (idempotent only), per-endpoint overflow, timeouts, and endpoints
// discovered from a (fake, but protocol-true) Kubernetes API server: list, then watch events;
// and from mambogo-cluster's own API server over TLS with the in-cluster configuration a pod has.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include <QTemporaryDir>

#include "apiserver/api_server.h"
#include "apiserver/tls.h"
#include "gateway_harness.h"
#include "store/store.h"

using namespace gwtest;

namespace {

template <class F>
bool eventually(F check, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (check()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return check();
}

std::map<QString, QString> with(std::map<QString, QString> env, std::map<QString, QString> extra) {
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

QString list_of(const std::vector<TestUpstream*>& ups) {
  QStringList urls;
  for (auto* u : ups) urls << QString::fromStdString(u->url());
  return urls.join(",");
}

// A Kubernetes API server reduced to what the Endpoints list+watch protocol needs: GET of one
// Endpoints object, and a chunked watch stream of line-delimited JSON events pushed by the test.
class FakeApiServer {
 public:
  FakeApiServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listener_, 64);
    socklen_t len = sizeof a;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeApiServer() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (int fd : watchers_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : handlers_) t.detach();  // each ends when its socket is shut down
  }
  int port() const { return port_; }

  // The object GET returns (null: 404).
  void set_object(nlohmann::json object) {
    std::lock_guard lock(mutex_);
    object_ = std::move(object);
  }
  void push(const std::string& type, const nlohmann::json& object) {
    const std::string line = nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", line.size());
    const std::string chunk = size + line + "\r\n";
    std::lock_guard lock(mutex_);
    for (int fd : watchers_) (void)!::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
  }
  std::vector<std::string> targets() {
    std::lock_guard lock(mutex_);
    return targets_;
  }

 private:
  void accept_loop() {
    while (true) {
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      handlers_.emplace_back([this, fd] { serve(fd); });
    }
  }
  void serve(int fd) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(fd);
        return;
      }
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::string target = request.substr(4, request.find(' ', 4) - 4);
    nlohmann::json object;
    {
      std::lock_guard lock(mutex_);
      targets_.push_back(target);
      object = object_;
    }
    const bool watch = target.find("watch=1") != std::string::npos;
    const bool ours = target.find("product-service") != std::string::npos;
    if (watch) {
      const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
      (void)!::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
      {
        std::lock_guard lock(mutex_);
        watchers_.push_back(fd);
      }
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
      }
      std::lock_guard lock(mutex_);
      watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), fd), watchers_.end());
      ::close(fd);
      return;
    }
    const std::string body = ours && !object.is_null() ? object.dump() : "{\"kind\":\"Status\",\"code\":404}";
    const std::string status = ours && !object.is_null() ? "200 OK" : "404 Not Found";
    const std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)!::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
  }

  int listener_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  nlohmann::json object_;              // guarded
  std::vector<int> watchers_;          // guarded
  std::vector<std::thread> handlers_;  // guarded
  std::vector<std::string> targets_;   // guarded
};

nlohmann::json endpoints_object(const std::vector<TestUpstream*>& ups, int version) {
  nlohmann::json subsets = nlohmann::json::array();
  for (auto* u : ups)  // one subset per port: every upstream is on 127.0.0.1
    subsets.push_back({{"addresses", {{{"ip", "127.0.0.1"}}}}, {"ports", {{{"name", "http"}, {"port", u->port()}}}}});
  return {{"kind", "Endpoints"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", "product-service"}, {"namespace", "default"}, {"resourceVersion", std::to_string(version)}}},
          {"subsets", subsets}};
}

void write_text(const QString& path, const std::string& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text.data(), static_cast<qint64>(text.size()));
}

// What Kubernetes mounts into a pod: the service account's token, the cluster CA, its namespace.
QString service_account_dir(const QTemporaryDir& dir, const QString& name, const std::string& token,
                            const QString& ca_file) {
  const QString account = dir.filePath(name);
  QDir().mkpath(account);
  write_text(account + "/token", token + "\n");
  write_text(account + "/namespace", "shop");
  QFile::copy(ca_file, account + "/ca.crt");
  return account;
}

// mambogo-cluster's API server, in process, over TLS with a bearer token.
struct TlsApiServer {
  explicit TlsApiServer(const QTemporaryDir& dir, const std::string& token) {
    const std::string tls = dir.filePath("tls").toStdString();
    mambogo::sim::generate_tls(tls);
    ca_file = QString::fromStdString(tls + "/ca.crt");
    mambogo::sim::ApiServerOptions options;
    options.tls = mambogo::sim::TlsFiles{tls + "/server.crt", tls + "/server.key"};
    options.bearer_token = token;
    api = std::make_unique<mambogo::sim::ApiServer>(store, nullptr, options);
    api->start();
    api->apply({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}});
  }
  // The product-service Endpoints object in namespace shop, created or replaced.
  void set_endpoints(const std::vector<TestUpstream*>& ups) {
    nlohmann::json object = endpoints_object(ups, 0);
    object["metadata"] = {{"name", "product-service"}, {"namespace", "shop"}};
    api->apply(object);
  }
  mambogo::sim::Store store;
  std::unique_ptr<mambogo::sim::ApiServer> api;
  QString ca_file;
};

}  // namespace

class TestGatewayUpstreams : public QObject {
  Q_OBJECT

  std::unique_ptr<Keys> keys;
  std::string alice;

 private slots:
  void initTestCase() {
    keys = std::make_unique<Keys>();
    alice = bearer(keys->token("alice"));
  }

  void breakerOpensOnAFailingServiceAndClosesAfterRecovery() {
    TestUpstream up("cart");
    GatewayProcess gw(with(all_services(up, *keys), {{"GATEWAY_BREAKER_MINIMUM_CALLS", "4"},
                                                     {"GATEWAY_BREAKER_SLIDING_WINDOW_SIZE", "4"},
                                                     {"GATEWAY_BREAKER_WAIT_IN_OPEN", "1s"},
                                                     {"GATEWAY_BREAKER_HALF_OPEN_CALLS", "1"},
                                                     {"GATEWAY_RETRY_MAX_ATTEMPTS", "1"},
                                                     {"GATEWAY_OUTLIER_CONSECUTIVE_5XX", "0"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    up.fail_status = 500;
    for (int i = 0; i < 4; ++i) QCOMPARE(gw.get("/api/cart", alice)->status, 500);
    const int hits = up.hits.load();
    auto open = gw.get("/api/cart", alice);
    QCOMPARE(open->status, 503);
    QCOMPARE(body_json(open)["error"].get<std::string>(), std::string("circuit_open"));
    QVERIFY(std::stoi(open->header("retry-after")) >= 1);
    QCOMPARE(up.hits.load(), hits);  // the failing service is spared
    QCOMPARE(scrape(gw.port, "resilience4j_circuitbreaker_state", {"name=\"cart\"", "state=\"open\""}), 1.0);
    // Other routes have breakers of their own.
    QCOMPARE(gw.get("/api/orders", alice)->status, 500);

    up.fail_status = 0;
    QVERIFY(eventually([&] { return gw.get("/api/cart", alice)->status == 200; }));
    QCOMPARE(scrape(gw.port, "resilience4j_circuitbreaker_state", {"name=\"cart\"", "state=\"closed\""}), 1.0);
    QCOMPARE(gw.get("/api/cart", alice)->status, 200);
  }

  void aFailingEndpointIsEjectedAndReturns() {
    TestUpstream bad("bad"), good1("good1"), good2("good2");
    const QString list = list_of({&bad, &good1, &good2});
    GatewayProcess gw(with(all_services(good1, *keys), {{"CART_SERVICE_URL", list},
                                                        {"GATEWAY_BREAKER_ENABLED", "false"},
                                                        {"GATEWAY_RETRY_MAX_ATTEMPTS", "1"},
                                                        {"GATEWAY_OUTLIER_BASE_EJECTION_TIME", "1500ms"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    bad.fail_status = 500;
    for (int i = 0; i < 15; ++i) gw.get("/api/cart", alice);  // round robin: five each
    QCOMPARE(bad.hits.load(), 5);
    QCOMPARE(scrape(gw.port, "gateway_outlier_ejections_total", {"service=\"cart-service\""}), 1.0);
    QVERIFY(gw.get("/health")->body.find("\"ejected\":true") != std::string::npos);
    for (int i = 0; i < 20; ++i) QCOMPARE(gw.get("/api/cart", alice)->status, 200);
    QCOMPARE(bad.hits.load(), 5);  // ejected: no traffic

    bad.fail_status = 0;  // recovered; it comes back after the ejection time
    QVERIFY(eventually([&] {
      gw.get("/api/cart", alice);
      return bad.hits.load() > 5;
    }));
    QCOMPARE(scrape(gw.port, "gateway_endpoints", {"service=\"cart-service\"", "state=\"healthy\""}), 3.0);
  }

  void everyPolicySpreadsLoadFairly_data() {
    QTest::addColumn<QString>("policy");
    QTest::addColumn<int>("low");
    QTest::addColumn<int>("high");
    QTest::newRow("round_robin") << "round_robin" << 100 << 100;
    QTest::newRow("random") << "random" << 60 << 140;
    QTest::newRow("least_request") << "least_request" << 60 << 140;
  }
  void everyPolicySpreadsLoadFairly() {
    QFETCH(QString, policy);
    QFETCH(int, low);
    QFETCH(int, high);
    TestUpstream a("a"), b("b"), c("c");
    GatewayProcess gw(with(all_services(a, *keys), {{"CART_SERVICE_URL", list_of({&a, &b, &c})},
                                                    {"GATEWAY_LB_POLICY", policy}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    for (int i = 0; i < 300; ++i) QCOMPARE(gw.get("/api/cart", alice)->status, 200);
    for (auto* u : {&a, &b, &c})
      QVERIFY2(u->hits.load() >= low && u->hits.load() <= high,
               qPrintable(QString::fromStdString(u->name()) + " got " + QString::number(u->hits.load())));
  }

  void onlyIdempotentRequestsAreRetried() {
    TestUpstream up("svc");
    GatewayProcess gw(all_services(up, *keys));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    up.fail_next = 1;
    int before = up.hits.load();
    QCOMPARE(gw.get("/api/cart", alice)->status, 200);
    QCOMPARE(up.hits.load() - before, 2);

    up.fail_next = 1;
    before = up.hits.load();
    QCOMPARE(http_request(gw.port, "POST", "/api/orders", "{}", alice)->status, 503);
    QCOMPARE(up.hits.load() - before, 1);

    up.fail_next = 1;
    before = up.hits.load();
    QCOMPARE(http_request(gw.port, "POST", "/api/orders", "{}", alice + "X-Idempotency-Key: k-1\r\n")->status, 200);
    QCOMPARE(up.hits.load() - before, 2);
    for (const char* route : {"name=\"cart\"", "name=\"orders\""})
      QCOMPARE(scrape(gw.port, "resilience4j_retry_calls_total", {route, "kind=\"successful_with_retry\""}), 1.0);
  }

  void anEndpointAtItsRequestLimitOverflowsWith503() {
    TestUpstream up("slow");
    GatewayProcess gw(with(all_services(up, *keys), {{"GATEWAY_UPSTREAM_MAX_REQUESTS", "1"},
                                                     {"GATEWAY_RETRY_MAX_ATTEMPTS", "1"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    up.delay_ms = 1500;
    const int port = gw.port;
    const std::string token = alice;
    auto first = std::async(std::launch::async, [port, token] { return http_request(port, "GET", "/api/cart", {}, token); });
    QVERIFY(eventually([&] { return up.hits.load() == 1; }));
    auto second = http_request(port, "GET", "/api/cart", {}, token);
    QCOMPARE(second->status, 503);
    QCOMPARE(body_json(second)["error"].get<std::string>(), std::string("upstream_overflow"));
    QCOMPARE(second->header("x-envoy-overloaded"), std::string("true"));
    QCOMPARE(first.get()->status, 200);
  }

  void aSlowServiceTimesOutWith504() {
    TestUpstream up("slow");
    GatewayProcess gw(with(all_services(up, *keys), {{"GATEWAY_TIMEOUT", "300ms"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    up.delay_ms = 2000;
    auto r = gw.get("/api/cart", alice);
    QCOMPARE(r->status, 504);
    QCOMPARE(body_json(r)["error"].get<std::string>(), std::string("upstream_timeout"));
    QCOMPARE(up.hits.load(), 1);  // a timeout is not retried
  }

  void aServiceThatIsDownGets502() {
    TestUpstream placeholder("x");
    GatewayProcess gw(with(all_services(placeholder, *keys), {{"CART_SERVICE_URL", "http://127.0.0.1:1"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    auto r = gw.get("/api/cart", alice);
    QCOMPARE(r->status, 502);
    QCOMPARE(body_json(r)["error"].get<std::string>(), std::string("bad_gateway"));
  }

  void endpointsComeFromTheKubernetesApi() {
    TestUpstream a("a"), b("b");
    FakeApiServer api;
    api.set_object(endpoints_object({&a}, 10));
    GatewayProcess gw(with(all_services(a, *keys), {{"GATEWAY_DISCOVERY", "kubernetes"},
                                                    {"GATEWAY_KUBE_API_URL", QString("http://127.0.0.1:%1").arg(api.port())},
                                                    {"GATEWAY_KUBE_PORT_NAME", "http"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    auto server_of = [&] {
      auto r = gw.get("/api/products/p1?cc=no-store");
      return r && r->status == 200 ? body_json(r)["server"].get<std::string>() : std::to_string(r ? r->status : 0);
    };
    QVERIFY(eventually([&] { return server_of() == "a"; }));
    // The watch resumes from the listed version.
    QVERIFY(eventually([&] {
      for (const auto& t : api.targets())
        if (t.find("watch=1") != std::string::npos && t.find("resourceVersion=10") != std::string::npos &&
            t.find("fieldSelector=metadata.name%3Dproduct-service") != std::string::npos)
          return true;
      return false;
    }));
    api.push("MODIFIED", endpoints_object({&b}, 11));
    QVERIFY(eventually([&] { return server_of() == "b"; }));
    api.push("DELETED", endpoints_object({&b}, 12));
    QVERIFY(eventually([&] { return server_of() == "503"; }));
    QCOMPARE(body_json(gw.get("/api/products/x"))["error"].get<std::string>(), std::string("no_healthy_upstream"));
    api.push("ADDED", endpoints_object({&a, &b}, 13));
    QVERIFY(eventually([&] { return server_of() == "a"; }));
  }

  // In a pod the gateway finds the API server as client-go does: KUBERNETES_SERVICE_HOST/PORT,
  // https verified with the service account's CA, its token, its namespace. Here against
  // mambogo-cluster's own API server, with Endpoints objects applied to it as a controller would.
  void endpointsComeFromTheApiServerOverTlsInCluster() {
    QTemporaryDir dir;
    TlsApiServer server(dir, "sa-token");
    TestUpstream a("a"), b("b");
    server.set_endpoints({&a});
    GatewayProcess gw(with(all_services(b, *keys),  // static URLs name b: unused in kubernetes mode
                           {{"GATEWAY_DISCOVERY", "kubernetes"},
                            {"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                            {"KUBERNETES_SERVICE_PORT", QString::number(server.api->port())},
                            {"GATEWAY_KUBE_SERVICEACCOUNT_DIR", service_account_dir(dir, "sa", "sa-token", server.ca_file)},
                            {"GATEWAY_KUBE_PORT_NAME", "http"}}));
    QVERIFY2(gw.wait_started() > 0, gw.output.constData());
    auto server_of = [&] {
      auto r = gw.get("/api/products/p1?cc=no-store");
      return r && r->status == 200 ? body_json(r)["server"].get<std::string>() : std::to_string(r ? r->status : 0);
    };
    QVERIFY2(eventually([&] { return server_of() == "a"; }), gw.drain_output().constData());
    server.set_endpoints({&b});  // the watch delivers the change
    QVERIFY2(eventually([&] { return server_of() == "b"; }), gw.drain_output().constData());
    const auto health = body_json(gw.get("/health")).dump();
    QVERIFY2(health.find("\"discovery\":\"kubernetes\"") != std::string::npos, health.c_str());
  }

  // A server whose certificate the CA did not sign, or a wrong token, is not trusted: no
  // endpoints (503 no_healthy_upstream), /health DEGRADED, and the log says why.
  void anApiServerThatFailsVerificationOrAuthenticationIsNotUsed() {
    QTemporaryDir dir, other;
    TlsApiServer server(dir, "sa-token");
    TestUpstream a("a");
    server.set_endpoints({&a});
    mambogo::sim::generate_tls(other.filePath("tls").toStdString());  // another cluster's CA
    struct Case {
      QString account;
      const char* logged;
    };
    const Case cases[] = {
        {service_account_dir(dir, "foreign-ca", "sa-token", other.filePath("tls/ca.crt")), "certificate verify failed"},
        {service_account_dir(dir, "bad-token", "not-the-token", server.ca_file), "\"status\":401"},
    };
    for (const Case& c : cases) {
      GatewayProcess gw(with(all_services(a, *keys), {{"GATEWAY_DISCOVERY", "kubernetes"},
                                                      {"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                                                      {"KUBERNETES_SERVICE_PORT", QString::number(server.api->port())},
                                                      {"GATEWAY_KUBE_SERVICEACCOUNT_DIR", c.account},
                                                      {"GATEWAY_KUBE_PORT_NAME", "http"}}));
      QVERIFY2(gw.wait_started() > 0, gw.output.constData());
      QVERIFY2(eventually([&] { return gw.drain_output().contains(c.logged); }), gw.output.constData());
      auto r = gw.get("/api/products/p1");
      QCOMPARE(r->status, 503);
      QCOMPARE(body_json(r)["error"].get<std::string>(), std::string("no_healthy_upstream"));
      const auto health = body_json(gw.get("/health")).dump();
      QVERIFY2(health.find("DEGRADED") != std::string::npos, health.c_str());
    }
  }
};

QTEST_GUILESS_MAIN(TestGatewayUpstreams)
#include "tst_gateway_upstreams.moc"
