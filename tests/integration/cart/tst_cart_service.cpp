// cart-service as a real process over real sockets, with a real redis-server (and without
// it, and with it stopped), validating items against a fake product-service: an in-process
// runtime HttpServer that checks the service token and counts the lookups.
#include <QtTest>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>

#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "redis_server.h"
#include "runtime/executor.h"
#include "runtime/http_server.h"
#include "runtime/logging.h"
#include "runtime/metrics.h"
#include "runtime/router.h"
#include "service_process.h"

using namespace mambogo::test;
using namespace mambogo::runtime;
using namespace std::chrono_literals;

namespace {

const std::string kShoes = "11111111-1111-4111-8111-111111111111";
const std::string kHat = "22222222-2222-4222-8222-222222222222";
const std::string kRetired = "33333333-3333-4333-8333-333333333333";
const std::string kNowhere = "44444444-4444-4444-8444-444444444444";

// product-service's GET /api/products/{id}, for three products; answers 500 while failing.
class FakeProductService {
 public:
  FakeProductService() : verifier_(Tokens::keys()) {
    products_[kShoes] = {{"id", kShoes}, {"name", "Running shoes"}, {"price", 59.90}, {"isActive", true}};
    products_[kHat] = {{"id", kHat}, {"name", "Sun hat"}, {"price", 12.5}, {"isActive", true}};
    products_[kRetired] = {{"id", kRetired}, {"name", "Fax machine"}, {"price", 99.0}, {"isActive", false}};
    router_.add(Method::get, "/api/products/{id}", [this](const Request& r) { return answer(r); });
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.access_log = false;
    server_ = std::make_unique<HttpServer>(options, router_, &executor_, metrics_, logger_);
    server_->start();
  }
  QString url() const { return "http://127.0.0.1:" + QString::number(server_->port()); }
  int lookups() const { return lookups_.load(); }
  void set_failing(bool failing) { failing_ = failing; }
  std::string last_caller() {
    std::lock_guard lock(mutex_);
    return last_caller_;
  }

 private:
  Response answer(const Request& r) {
    ++lookups_;
    Response denied;
    auto caller = auth::require_role(verifier_, r, auth::kRoleService, denied);
    if (!caller) return denied;
    {
      std::lock_guard lock(mutex_);
      last_caller_ = caller->subject;
    }
    if (failing_) return Response::error(500, "internal_error", "the catalogue is on fire", r.request_id);
    auto it = products_.find(std::string(r.path_param("id")));
    if (it == products_.end()) return Response::error(404, "not_found", "no such product", r.request_id);
    return Response::json(200, it->second.dump());
  }

  auth::TokenVerifier verifier_;
  std::map<std::string, nlohmann::json> products_;  // constant after construction
  std::atomic<int> lookups_{0};
  std::atomic<bool> failing_{false};
  std::mutex mutex_;
  std::string last_caller_;  // guarded by mutex_
  Router router_;
  BoundedExecutor executor_{ExecutorOptions{"fake-product", 2, 2, 16, 60s, RejectionPolicy::reject}, nullptr};
  MetricsRegistry metrics_;
  Logger logger_{"fake-product", LogLevel::off};
  std::unique_ptr<HttpServer> server_;  // last: stopped before what it uses goes away
};

// A loopback port nobody listens on (bound, then released).
int dead_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string item(const std::string& product, const nlohmann::json& quantity) {
  return nlohmann::json{{"productId", product}, {"quantity", quantity}}.dump();
}

class Cart : public ServiceProcess {
 public:
  Cart(const QString& product_url, const QStringList& env)
      : ServiceProcess(MAMBOGO_CART_BINARY, QStringList{"PRODUCT_SERVICE_URL=" + product_url} + env) {}
  RawResponse add(const Tokens& t, const std::string& user, const std::string& product, const nlohmann::json& q) const {
    return request("POST", "/api/cart/items", item(product, q), t.user(user));
  }
  nlohmann::json cart(const Tokens& t, const std::string& user) const {
    return json_of(request("GET", "/api/cart", {}, t.user(user)));
  }
  std::string store_health() const {
    auto h = json_of(request("GET", "/health"));
    return h["components"]["cart-store"]["status"].get<std::string>() + "/" +
           h["components"]["cart-store"]["details"]["store"].get<std::string>();
  }
};

QString redis_url(const RedisServer& redis) { return "REDIS_URL=127.0.0.1:" + QString::number(redis.port()); }

int quantity_of(const nlohmann::json& cart, const std::string& product) {
  for (const auto& i : cart["items"])
    if (i["productId"] == product) return i["quantity"].get<int>();
  return 0;
}

}  // namespace

class TestCartService : public QObject {
  Q_OBJECT
 private slots:
  void addsSumAndTheCartLivesInRedis() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "alice", kShoes, 2).status, 200);
    RawResponse r = c.add(tokens_, "alice", kShoes, "3");  // numeric strings, as Artillery sends
    QCOMPARE(r.status, 200);
    QCOMPARE(c.add(tokens_, "alice", kHat, 1).status, 200);
    auto cart = c.cart(tokens_, "alice");
    QCOMPARE(cart["userId"].get<std::string>(), std::string("alice"));
    QCOMPARE(quantity_of(cart, kShoes), 5);
    QCOMPARE(cart["items"].size(), std::size_t{2});
    for (const auto& i : cart["items"])
      if (i["productId"] == kShoes) {
        QCOMPARE(i["name"].get<std::string>(), std::string("Running shoes"));
        QCOMPARE(i["unitPrice"].get<double>(), 59.9);
        QCOMPARE(i["lineTotal"].get<double>(), 299.5);
      }
    QCOMPARE(cart["totalAmount"].get<double>(), 312.0);
    QVERIFY(cart["updatedAt"].is_string());
    // Stored where the contract says: a hash per user, a field per product.
    auto line = nlohmann::json::parse(redis.query({"HGET", "cart:alice", kShoes}));
    QCOMPARE(line["quantity"].get<int>(), 5);
    QCOMPARE(c.store_health(), std::string("UP/redis"));
    QCOMPARE(scrape(c.port, "cart_store_operations_total", {{"store", "redis"}, {"result", "ok"}}), 4.0);
    QCOMPARE(scrape(c.port, "cart_store_active", {{"store", "redis"}}), 1.0);
  }

  void concurrentAddsAreNotLost() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    std::vector<std::future<int>> adds;
    for (int i = 0; i < 20; ++i)
      adds.push_back(std::async(std::launch::async, [&] { return c.add(tokens_, "zoe", kHat, 2).status; }));
    for (auto& a : adds) QCOMPARE(a.get(), 200);
    QCOMPARE(quantity_of(c.cart(tokens_, "zoe"), kHat), 40);  // each read-modify-write is one script
  }

  void theTtlIsSetAndSlidesOnReadsAndWrites() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis), "CART_TTL=100s"});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "bob", kHat, 1).status, 200);
    const long long ttl = std::stoll(redis.query({"PTTL", "cart:bob"}));
    QVERIFY2(ttl > 90'000 && ttl <= 100'000, std::to_string(ttl).c_str());
    redis.query({"PEXPIRE", "cart:bob", "5000"});
    QCOMPARE(quantity_of(c.cart(tokens_, "bob"), kHat), 1);  // a read slides it back
    QVERIFY(std::stoll(redis.query({"PTTL", "cart:bob"})) > 90'000);
    redis.query({"PEXPIRE", "cart:bob", "5000"});
    QCOMPARE(c.request("DELETE", "/api/cart/items/" + kShoes, {}, tokens_.user("bob")).status, 200);
    QVERIFY(std::stoll(redis.query({"PTTL", "cart:bob"})) > 90'000);  // so does a write
    // Once Redis expires it, the cart is empty, not an error.
    redis.query({"PEXPIRE", "cart:bob", "1"});
    QTRY_COMPARE_WITH_TIMEOUT(redis.query({"EXISTS", "cart:bob"}), std::string("0"), 5'000);
    QCOMPARE(c.cart(tokens_, "bob")["items"].size(), std::size_t{0});
  }

  void putSetsZeroRemovesAndDeleteEmpties() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    const auto user = tokens_.user("carol");
    QCOMPARE(c.request("PUT", "/api/cart/items/" + kShoes, R"({"quantity": 7})", user).status, 200);
    QCOMPARE(quantity_of(c.cart(tokens_, "carol"), kShoes), 7);
    QCOMPARE(c.request("PUT", "/api/cart/items/" + kShoes, R"({"quantity": 2})", user).status, 200);
    QCOMPARE(quantity_of(c.cart(tokens_, "carol"), kShoes), 2);
    QCOMPARE(c.add(tokens_, "carol", kHat, 1).status, 200);
    auto after_remove = c.json_of(c.request("PUT", "/api/cart/items/" + kShoes, R"({"quantity": 0})", user));
    QCOMPARE(quantity_of(after_remove, kShoes), 0);
    QCOMPARE(after_remove["items"].size(), std::size_t{1});
    auto after_delete = c.json_of(c.request("DELETE", "/api/cart/items/" + kHat, {}, user));
    QCOMPARE(after_delete["items"].size(), std::size_t{0});
    QCOMPARE(redis.query({"EXISTS", "cart:carol"}), std::string("0"));  // the last line took the key along
    QCOMPARE(c.add(tokens_, "carol", kHat, 1).status, 200);
    RawResponse cleared = c.request("DELETE", "/api/cart", {}, user);
    QCOMPARE(cleared.status, 204);
    QVERIFY(cleared.body.empty());
    auto empty = c.cart(tokens_, "carol");
    QCOMPARE(empty["items"].size(), std::size_t{0});
    QCOMPARE(empty["totalAmount"].get<double>(), 0.0);
    QVERIFY(empty["updatedAt"].is_null());
  }

  void productsAreValidatedAndCachedWithAServiceToken() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    const int before = products_.lookups();
    for (int i = 0; i < 3; ++i) QCOMPARE(c.add(tokens_, "dave", kShoes, 1).status, 200);
    QCOMPARE(products_.lookups() - before, 1);  // the L1 cache answered the other two
    QCOMPARE(products_.last_caller(), std::string("cart-service"));
    QVERIFY(scrape(c.port, "cache_gets_total", {{"cache", "products"}, {"result", "hit"}}) >= 2);

    RawResponse unknown = c.add(tokens_, "dave", kNowhere, 1);
    QCOMPARE(unknown.status, 422);
    QCOMPARE(c.json_of(unknown)["error"].get<std::string>(), std::string("unknown_product"));
    RawResponse retired = c.add(tokens_, "dave", kRetired, 1);
    QCOMPARE(retired.status, 422);
    QCOMPARE(c.json_of(retired)["error"].get<std::string>(), std::string("product_inactive"));
    QCOMPARE(c.request("PUT", "/api/cart/items/" + kNowhere, R"({"quantity": 1})", tokens_.user("dave")).status, 422);

    products_.set_failing(true);
    RawResponse failing = c.add(tokens_, "dave", kHat, 1);
    products_.set_failing(false);
    QCOMPARE(failing.status, 503);
    QCOMPARE(c.json_of(failing)["error"].get<std::string>(), std::string("product_unavailable"));
    QVERIFY(!failing.header("retry-after").empty());
    auto cart = c.cart(tokens_, "dave");
    QCOMPARE(cart["items"].size(), std::size_t{1});  // nothing added by the refused requests
    QCOMPARE(quantity_of(cart, kShoes), 3);
  }

  void productServiceDownIs503NotACrash() {
    Cart c("http://127.0.0.1:" + QString::number(dead_port()), {"PRODUCT_SERVICE_TIMEOUT=500ms"});
    QVERIFY(c.wait_started() > 0);
    RawResponse r = c.add(tokens_, "erin", kShoes, 1);
    QCOMPARE(r.status, 503);
    QCOMPARE(c.json_of(r)["error"].get<std::string>(), std::string("product_unavailable"));
    QCOMPARE(c.request("GET", "/api/cart", {}, tokens_.user("erin")).status, 200);
    QCOMPARE(c.request("GET", "/health/ready").status, 200);
  }

  void badInputIs400AndChangesNothing_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("body");
    const QString items = "/api/cart/items";
    const QString shoes = QString::fromStdString("/api/cart/items/" + kShoes);
    QTest::newRow("not JSON") << "POST" << items << "{";
    QTest::newRow("no productId") << "POST" << items << R"({"quantity": 1})";
    QTest::newRow("productId not a UUID") << "POST" << items << R"({"productId": "shoes", "quantity": 1})";
    QTest::newRow("quantity 0") << "POST" << items << QString::fromStdString(item(kShoes, 0));
    QTest::newRow("quantity 100") << "POST" << items << QString::fromStdString(item(kShoes, 100));
    QTest::newRow("quantity 2.5") << "POST" << items << QString::fromStdString(item(kShoes, 2.5));
    QTest::newRow("quantity text") << "POST" << items << QString::fromStdString(item(kShoes, "two"));
    QTest::newRow("quantity missing") << "POST" << items << QString::fromStdString(nlohmann::json{{"productId", kShoes}}.dump());
    QTest::newRow("sum beyond 99") << "POST" << items << QString::fromStdString(item(kShoes, 98));
    QTest::newRow("put negative") << "PUT" << shoes << R"({"quantity": -1})";
    QTest::newRow("put path not a UUID") << "PUT" << "/api/cart/items/42" << R"({"quantity": 1})";
    QTest::newRow("delete path not a UUID") << "DELETE" << "/api/cart/items/42" << "";
  }
  void badInputIs400AndChangesNothing() {
    QFETCH(QString, method);
    QFETCH(QString, target);
    QFETCH(QString, body);
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "frank", kShoes, 2).status, 200);
    const std::string before = c.cart(tokens_, "frank").dump();
    RawResponse r = c.request(method.toStdString(), target.toStdString(), body.toStdString(), tokens_.user("frank"));
    QCOMPARE(r.status, 400);
    auto j = c.json_of(r);
    QVERIFY(j.contains("error") && j.contains("message") && j.contains("requestId"));
    QCOMPARE(c.cart(tokens_, "frank").dump(), before);
  }

  void eachUserSeesOnlyTheirCart() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis)});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "gina", kShoes, 1).status, 200);
    QCOMPARE(c.cart(tokens_, "henry")["items"].size(), std::size_t{0});
    QCOMPARE(c.request("DELETE", "/api/cart", {}, tokens_.user("henry")).status, 204);
    QCOMPARE(quantity_of(c.cart(tokens_, "gina"), kShoes), 1);  // henry's delete did not touch it
    QCOMPARE(c.request("GET", "/api/cart").status, 401);
    QCOMPARE(c.request("GET", "/api/cart", {}, tokens_.service()).status, 403);
    QCOMPARE(c.request("POST", "/api/cart/items", item(kShoes, 1), tokens_.admin()).status, 403);
  }

  void redisStoppedFallsBackToMemoryAndHealthSaysDegraded() {
    RedisServer redis;
    Cart c(products_.url(), {redis_url(redis), "REDIS_COMMAND_TIMEOUT=200ms"});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "ivan", kShoes, 1).status, 200);
    QCOMPARE(c.store_health(), std::string("UP/redis"));

    redis.stop();
    QCOMPARE(c.add(tokens_, "ivan", kHat, 2).status, 200);  // served from the in-process store
    QCOMPARE(quantity_of(c.cart(tokens_, "ivan"), kHat), 2);
    QCOMPARE(c.store_health(), std::string("DEGRADED/memory"));
    auto health = c.json_of(c.request("GET", "/health"));
    QCOMPARE(health["status"].get<std::string>(), std::string("DEGRADED"));
    QCOMPARE(c.request("GET", "/health/ready").status, 200);  // degraded is still ready
    QVERIFY(scrape(c.port, "cart_store_operations_total", {{"store", "redis"}, {"result", "unavailable"}}) >= 2);
    QVERIFY(scrape(c.port, "cart_store_operations_total", {{"store", "memory"}, {"result", "ok"}}) >= 2);
    QCOMPARE(scrape(c.port, "cart_store_active", {{"store", "memory"}}), 1.0);

    redis.start();
    // Redis is back: once the pool's backoff has passed, operations go to Redis again. What
    // was written to memory meanwhile stays there (not merged back).
    QDeadlineTimer deadline(20s);
    while (!deadline.hasExpired() && c.store_health() != "UP/redis") {
      c.cart(tokens_, "ivan");
      std::this_thread::sleep_for(200ms);
    }
    QCOMPARE(c.store_health(), std::string("UP/redis"));
    QCOMPARE(c.add(tokens_, "ivan", kShoes, 3).status, 200);
    QCOMPARE(nlohmann::json::parse(redis.query({"HGET", "cart:ivan", kShoes}))["quantity"].get<int>(), 3);
  }

  void withoutRedisTheMemoryStoreServes() {
    Cart c(products_.url(), {});
    QVERIFY(c.wait_started() > 0);
    QCOMPARE(c.add(tokens_, "judy", kShoes, 4).status, 200);
    QCOMPARE(quantity_of(c.cart(tokens_, "judy"), kShoes), 4);
    QCOMPARE(c.store_health(), std::string("UP/memory"));
    QCOMPARE(scrape(c.port, "cart_store_operations_total", {{"store", "memory"}, {"result", "ok"}}), 2.0);
  }

 private:
  Tokens tokens_;
  FakeProductService products_;
};

QTEST_GUILESS_MAIN(TestCartService)
#include "tst_cart_service.moc"
