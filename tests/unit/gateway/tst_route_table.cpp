// Routes from configuration: the built-in /api layout, JSON and YAML files, every kind of bad
// field refused with the route and field named, prefix rewriting; plus the small parsers the
// configuration uses (service URLs, Kubernetes Endpoints objects).
#include <QtTest>

#include <fstream>

#include "gateway/gateway_config.h"
#include "gateway/kube_endpoints.h"
#include "gateway/route_table.h"

using namespace mambogo::gateway;
using nlohmann::json;

namespace {
// JSON written with single quotes (moc cannot read raw string literals).
json q(std::string text) {
  for (char& c : text)
    if (c == '\'') c = '"';
  return json::parse(text);
}

const RouteSpec* find(const std::vector<RouteSpec>& routes, const std::string& id) {
  for (const auto& r : routes)
    if (r.id == id) return &r;
  return nullptr;
}
}  // namespace

class TestRouteTable : public QObject {
  Q_OBJECT
 private slots:
  void defaultsFollowTheSeedLayout() {
    auto routes = default_routes({});
    QCOMPARE(find(routes, "products")->service, std::string("product-service"));
    QVERIFY(find(routes, "products")->access == Access::public_read);
    QVERIFY(find(routes, "products")->cache);
    QCOMPARE(find(routes, "categories")->paths.front(), std::string("/api/categories/**"));
    QCOMPARE(find(routes, "cart")->service, std::string("cart-service"));
    QVERIFY(find(routes, "orders")->access == Access::user);
    QCOMPARE(find(routes, "payments")->service, std::string("payment-service"));
    QVERIFY(find(routes, "admin-products")->access == Access::admin);
    for (const auto& r : routes)
      for (const auto& p : r.paths) QVERIFY2(p.find("inventory") == std::string::npos, "inventory is internal");
  }

  void jsonRoutesTakeDefaultsForWhatTheyOmit() {
    RouteDefaults d;
    d.rate_limit.replenish_rate = 7;
    d.rate_limit.burst_capacity = 9;
    auto routes = parse_routes(q("{'routes': [" "{'id': 'a', 'paths': ['/x/**'], 'service': 'svc', 'access': 'public', 'timeout': '250ms'," "'rateLimit': {'burstCapacity': 20}, 'circuitBreaker': {'minimumNumberOfCalls': 4," "'waitDurationInOpenState': '2s'}, 'retry': {'maxAttempts': 1, 'statuses': [503]}}," "{'id': 'b', 'paths': ['/y/**'], 'service': 'svc2'}]}"), d);
    QCOMPARE(routes.size(), std::size_t(2));
    QVERIFY(routes[0].access == Access::public_);
    QCOMPARE(routes[0].timeout.count(), 250);
    QCOMPARE(routes[0].rate_limit.replenish_rate, 7);
    QCOMPARE(routes[0].rate_limit.burst_capacity, 20);
    QCOMPARE(routes[0].breaker.minimum_number_of_calls, 4);
    QCOMPARE(routes[0].breaker.wait_duration_in_open_state.count(), 2000);
    QCOMPARE(routes[0].retry.max_attempts, 1);
    QCOMPARE(routes[0].retry.statuses, std::vector<int>{503});
    QVERIFY(routes[1].access == Access::user);
    QCOMPARE(routes[1].rate_limit.burst_capacity, 9);
  }

  void yamlFileReadsTheSameAsJson() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("routes.yaml").toStdString();
    std::ofstream(path) << "routes:\n"
                           "  - id: shop\n"
                           "    paths: [/shop/**]\n"
                           "    service: shop-service\n"
                           "    access: public-read\n"
                           "    cache: true\n"
                           "    rateLimit: {replenishRate: 5, burstCapacity: 10}\n";
    auto routes = load_routes(path, {});
    QCOMPARE(routes.size(), std::size_t(1));
    QVERIFY(routes[0].cache);
    QVERIFY(routes[0].access == Access::public_read);
    QCOMPARE(routes[0].rate_limit.replenish_rate, 5);
    QCOMPARE(routes[0].rate_limit.burst_capacity, 10);
  }

  void badRoutesAreRefusedNamingRouteAndField_data() {
    QTest::addColumn<QString>("document");
    QTest::addColumn<QString>("message");
    QTest::newRow("no routes") << "{'paths': []}" << "\"routes\" array";
    QTest::newRow("no id") << "{'routes': [{'paths': ['/a'], 'service': 's'}]}" << "\"id\"";
    QTest::newRow("no service") << "{'routes': [{'id': 'a', 'paths': ['/a']}]}" << "route 'a': service";
    QTest::newRow("relative path") << "{'routes': [{'id': 'a', 'paths': ['a'], 'service': 's'}]}" << "route 'a': paths";
    QTest::newRow("bad access") << "{'routes': [{'id': 'a', 'paths': ['/a'], 'service': 's', 'access': 'root'}]}" << "access";
    QTest::newRow("burst below rate") << "{'routes': [{'id': 'a', 'paths': ['/a'], 'service': 's', 'rateLimit': {'replenishRate': 10, 'burstCapacity': 5}}]}" << "burstCapacity";
    QTest::newRow("bad duration") << "{'routes': [{'id': 'a', 'paths': ['/a'], 'service': 's', 'timeout': 'soon'}]}" << "timeout";
    QTest::newRow("4xx retry") << "{'routes': [{'id': 'a', 'paths': ['/a'], 'service': 's', 'retry': {'statuses': [404]}}]}" << "retry.statuses";
    QTest::newRow("duplicate id") << "{'routes': [{'id': 'a', 'paths': ['/a'], 'service': 's'}, {'id': 'a', 'paths': ['/b'], 'service': 's'}]}" << "twice";
  }
  void badRoutesAreRefusedNamingRouteAndField() {
    QFETCH(QString, document);
    QFETCH(QString, message);
    try {
      parse_routes(q(document.toStdString()), {});
      QFAIL("accepted");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(std::string(e.what()).find(message.toStdString()) != std::string::npos, e.what());
    }
  }

  void unreadableOrInvalidFilesAreRefused() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, load_routes("/nonexistent/routes.json", {}));
    QTemporaryDir dir;
    const std::string path = dir.filePath("routes.json").toStdString();
    std::ofstream(path) << "{ not json";
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, load_routes(path, {}));
  }

  void prefixRewriteKeepsTheRestAndTheQuery() {
    auto routes = default_routes({});
    const RouteSpec& admin = *find(routes, "admin-products");
    QCOMPARE(upstream_target(admin, "/admin/products/settings?x=1"), std::string("/admin/settings?x=1"));
    QCOMPARE(upstream_target(*find(routes, "products"), "/api/products?page=2"), std::string("/api/products?page=2"));
  }

  void serviceUrlsParse() {
    QCOMPARE(service_url_variable("product-service"), std::string("PRODUCT_SERVICE_URL"));
    auto list = parse_endpoint_list("http://127.0.0.1:8081, http://10.0.0.2:9000");
    QCOMPARE(list.size(), std::size_t(2));
    QCOMPARE(list[1].to_string(), std::string("10.0.0.2:9000"));
    QVERIFY(parse_endpoint_list("http://127.0.0.1:99999").empty());
    QVERIFY(parse_endpoint_list("https://x:1").empty());
    QVERIFY(parse_endpoint_list("http://h:1/path").empty());
    QVERIFY(parse_endpoint_list("127.0.0.1:8081").empty());  // the scheme is required
    auto v6 = parse_endpoint_list("http://[::1]:8081");
    QCOMPARE(v6.size(), std::size_t(1));
    QCOMPARE(v6[0].host, std::string("::1"));
  }

  void apiServerUrlsParse_data() {
    QTest::addColumn<QString>("url");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<QString>("host");  // empty: refused
    QTest::addColumn<int>("port");
    QTest::newRow("kubectl proxy") << "http://127.0.0.1:8001" << false << "127.0.0.1" << 8001;
    QTest::newRow("https default port") << "https://kubernetes.default.svc" << true << "kubernetes.default.svc" << 443;
    QTest::newRow("https with port") << "https://10.96.0.1:6443/" << true << "10.96.0.1" << 6443;
    QTest::newRow("IPv6 in brackets") << "https://[fd00::1]:443" << true << "fd00::1" << 443;
    QTest::newRow("IPv6 without port") << "https://[fd00::1]" << true << "fd00::1" << 443;
    QTest::newRow("IPv6 bare") << "https://fd00::1:443" << false << "" << 0;
    QTest::newRow("other scheme") << "ftp://x:1" << false << "" << 0;
    QTest::newRow("no scheme") << "10.96.0.1:443" << false << "" << 0;
    QTest::newRow("a path") << "https://x/api" << false << "" << 0;
    QTest::newRow("port 0") << "https://x:0" << false << "" << 0;
    QTest::newRow("empty port") << "https://x:" << false << "" << 0;
    QTest::newRow("no host") << "https://:443" << false << "" << 0;
  }
  void apiServerUrlsParse() {
    QFETCH(QString, url);
    QFETCH(bool, tls);
    QFETCH(QString, host);
    QFETCH(int, port);
    auto parsed = parse_api_server_url(url.toStdString());
    QCOMPARE(parsed.has_value(), !host.isEmpty());
    if (!parsed) return;
    QCOMPARE(parsed->tls, tls);
    QCOMPARE(QString::fromStdString(parsed->host), host);
    QCOMPARE(int(parsed->port), port);
  }

  void endpointsObjectsGiveReadyAddressesWithTheNamedPort() {
    auto object = q("{'kind': 'Endpoints', 'subsets': [" "{'addresses': [{'ip': '10.1.0.1'}, {'ip': '10.1.0.2'}], 'notReadyAddresses': [{'ip': '10.1.0.3'}]," "'ports': [{'name': 'metrics', 'port': 9090}, {'name': 'http', 'port': 8080}]}]}");
    auto named = endpoint_addresses(object, "http");
    QCOMPARE(named.size(), std::size_t(2));
    QCOMPARE(named[0].to_string(), std::string("10.1.0.1:8080"));
    QCOMPARE(endpoint_addresses(object, "")[0].port, std::uint16_t(9090));
    QVERIFY(endpoint_addresses(object, "grpc").empty());
    QVERIFY(endpoint_addresses(q("{'subsets': 'x'}"), "").empty());
  }
};

QTEST_GUILESS_MAIN(TestRouteTable)
#include "tst_route_table.moc"
