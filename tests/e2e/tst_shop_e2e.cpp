// The whole shop as a user meets it: redis-server, product, cart, payment and order services
// and the gateway, each a real process on loopback, one key set. Everything goes through the
// gateway: browse, fill the cart, order, watch the order get CONFIRMED and the stock drop;
// another user cannot see the order; a payment outage switched on through the gateway's admin
// route parks a new order in PENDING_PAYMENT, and it is CONFIRMED once the outage ends.
#include <QTemporaryDir>
#include <QtTest>

#include <functional>
#include <memory>
#include <thread>

#include "redis_server.h"
#include "service_process.h"

using namespace mambogo::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

QString url(const ServiceProcess& p) { return QString("PRODUCT_SERVICE_URL=http://127.0.0.1:%1").arg(p.port); }

}  // namespace

class TestShopEndToEnd : public QObject {
  Q_OBJECT

  QTemporaryDir data_;
  Tokens tokens_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> product_, cart_, payment_, order_, gateway_;

  std::unique_ptr<ServiceProcess> start(const char* binary, const char* name, QStringList env) {
    env << "DATA_DIR=" + data_.path() + "/" + name << QString("REDIS_URL=redis://127.0.0.1:%1").arg(redis_->port());
    auto p = std::make_unique<ServiceProcess>(binary, env);
    if (p->wait_started() <= 0) qFatal("%s did not start", name);
    return p;
  }
  RawResponse via_gateway(const std::string& method, const std::string& target, const std::string& auth,
                          const json& body = nullptr, const std::string& extra = {}) const {
    return gateway_->request(method, target, body.is_null() ? std::string() : body.dump(), auth + extra);
  }
  json order_of(const std::string& user, const std::string& id) const {
    return json::parse(via_gateway("GET", "/api/orders/" + id, tokens_.user(user)).body, nullptr, false);
  }
  int stock_of(const std::string& id) const {
    // no-cache: past the gateway's response cache, so the answer is the service's own.
    const auto r = via_gateway("GET", "/api/products/" + id, "", nullptr, "Cache-Control: no-cache\r\n");
    return json::parse(r.body, nullptr, false).value("stockQuantity", -1);
  }

 private slots:
  void initTestCase() {
    QVERIFY(data_.isValid());
    redis_ = std::make_unique<RedisServer>();
    product_ = start(MAMBOGO_PRODUCT_BINARY, "product", {"PRODUCT_SEED_COUNT=60"});
    payment_ = start(MAMBOGO_PAYMENT_BINARY, "payment", {"PROVIDER_LATENCY_P50_MS=2", "PROVIDER_LATENCY_P99_MS=10"});
    cart_ = start(MAMBOGO_CART_BINARY, "cart", {url(*product_)});
    order_ = start(MAMBOGO_ORDER_BINARY, "order",
                   {url(*product_), QString("PAYMENT_SERVICE_URL=http://127.0.0.1:%1").arg(payment_->port),
                    "ORDER_SWEEP_INTERVAL=100ms", "ORDER_RETRY_INITIAL=200ms", "ORDER_RETRY_MAX=1s"});
    gateway_ = start(MAMBOGO_GATEWAY_BINARY, "gateway",
                     {url(*product_), QString("CART_SERVICE_URL=http://127.0.0.1:%1").arg(cart_->port),
                      QString("ORDER_SERVICE_URL=http://127.0.0.1:%1").arg(order_->port),
                      QString("PAYMENT_SERVICE_URL=http://127.0.0.1:%1").arg(payment_->port)});
  }

  void aUserBrowsesFillsTheCartAndOrders() {
    const auto listing = via_gateway("GET", "/api/products?inStock=true&size=20", "");
    QCOMPARE(listing.status, 200);
    json chosen;
    const json page = json::parse(listing.body);
    for (const auto& p : page["content"])
      if (p["stockQuantity"].get<int>() >= 5) chosen = p;
    QVERIFY2(chosen.is_object(), listing.body.c_str());
    const std::string product_id = chosen["id"];
    const int stock = chosen["stockQuantity"];

    const std::string alice = tokens_.user("alice");
    QCOMPARE(via_gateway("POST", "/api/cart/items", alice, {{"productId", product_id}, {"quantity", 2}}).status, 200);
    const json cart = json::parse(via_gateway("GET", "/api/cart", alice).body);
    QCOMPARE(cart["items"][0]["productId"].get<std::string>(), product_id);
    QCOMPARE(cart["items"][0]["quantity"].get<int>(), 2);

    const json order_body{{"items", {{{"productId", product_id}, {"quantity", 2}}}},
                          {"shippingAddress", "1 Gateway Road"},
                          {"paymentMethod", "CREDIT_CARD"}};
    const auto created = via_gateway("POST", "/api/orders", alice, order_body, "X-Idempotency-Key: shop-e2e-1\r\n");
    QVERIFY2(created.status == 201, created.body.c_str());
    const std::string order_id = json::parse(created.body)["orderId"];
    QVERIFY(!created.header("location").empty());
    QVERIFY(eventually([&] { return order_of("alice", order_id).value("status", "") == "CONFIRMED"; }));
    QVERIFY(eventually([&] { return stock_of(product_id) == stock - 2; }));

    // The same key and body again: the same order, not a second one.
    const auto replay = via_gateway("POST", "/api/orders", alice, order_body, "X-Idempotency-Key: shop-e2e-1\r\n");
    QCOMPARE(replay.status, 200);
    QCOMPARE(json::parse(replay.body)["orderId"].get<std::string>(), order_id);

    // Someone else's order does not exist for bob; without a token there is no answer at all.
    QCOMPARE(via_gateway("GET", "/api/orders/" + order_id, tokens_.user("bob")).status, 404);
    QCOMPARE(via_gateway("GET", "/api/orders/" + order_id, "").status, 401);
    QCOMPARE(via_gateway("POST", "/api/orders", "", order_body, "X-Idempotency-Key: x\r\n").status, 401);
    // Internal endpoints are not reachable from outside.
    QCOMPARE(via_gateway("POST", "/api/inventory/reserve", tokens_.admin(), {{"orderId", order_id}}).status, 404);
  }

  void aPaymentOutageParksOrdersUntilItEnds() {
    const std::string admin = tokens_.admin();
    const double captured_before = scrape(payment_->port, "provider_charges_total", {{"result", "captured"}});
    // A user may not flip a switch; an admin may, through the gateway's admin route.
    QCOMPARE(via_gateway("PATCH", "/admin/payments/settings", tokens_.user("alice"), {{"provider.outage", true}}).status,
             403);
    const auto on = via_gateway("PATCH", "/admin/payments/settings", admin, {{"provider.outage", true}});
    QVERIFY2(on.status == 200, on.body.c_str());

    const auto listing = json::parse(via_gateway("GET", "/api/products?inStock=true&size=1", "").body);
    const std::string product_id = listing["content"][0]["id"];
    const auto created = via_gateway("POST", "/api/orders", tokens_.user("carol"),
                                     {{"items", {{{"productId", product_id}, {"quantity", 1}}}},
                                      {"shippingAddress", "2 Outage Lane"},
                                      {"paymentMethod", "CREDIT_CARD"}},
                                     "X-Idempotency-Key: shop-e2e-outage\r\n");
    QCOMPARE(created.status, 201);
    const std::string order_id = json::parse(created.body)["orderId"];
    QVERIFY(eventually([&] { return order_of("carol", order_id).value("status", "") == "PENDING_PAYMENT"; }));

    QCOMPARE(via_gateway("PATCH", "/admin/payments/settings", admin, {{"provider.outage", false}}).status, 200);
    QVERIFY(eventually([&] { return order_of("carol", order_id).value("status", "") == "CONFIRMED"; }, 60s));
    // Charged once, however many attempts the outage cost.
    QCOMPARE(scrape(payment_->port, "provider_charges_total", {{"result", "captured"}}), captured_before + 1);
  }
};

QTEST_GUILESS_MAIN(TestShopEndToEnd)
#include "tst_shop_e2e.moc"
