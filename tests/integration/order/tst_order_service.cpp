// mambogo-order as a real process against fake product/payment upstreams (real HTTP), on
// SQLite and on a real PostgreSQL primary + streaming replica: the order contract as a
// client sees it, the processing outcomes as the upstreams see them.
#include <QtTest>

#include "order_fixtures.h"
#include "runtime/db/pg_connection.h"

using namespace mambogo::test;
using namespace std::chrono_literals;

namespace {

const std::string kWidget = "11111111-1111-4111-8111-111111111111";
const std::string kGadget = "22222222-2222-4222-8222-222222222222";
const std::string kUnknown = "99999999-9999-4999-8999-999999999999";

std::string body_for(const std::string& product, const nlohmann::json& quantity, const std::string& address = "1 Test St") {
  return nlohmann::json{{"items", {{{"productId", product}, {"quantity", quantity}}}},
                        {"shippingAddress", address},
                        {"paymentMethod", "CREDIT_CARD"}}
      .dump();
}

Http post_order(int port, const std::string& user, const std::string& key, const std::string& body) {
  return http(port, "POST", "/api/orders", token_for(user), body, "X-Idempotency-Key: " + key + "\r\n");
}

// Polls GET /api/orders/{id} until its status is `want` (or 20 s pass); returns the last body.
nlohmann::json wait_for(int port, const std::string& user, const std::string& id, const std::string& want) {
  nlohmann::json last;
  eventually(
      [&] {
        last = http(port, "GET", "/api/orders/" + id, token_for(user)).json;
        return last.is_object() && last.value("status", "") == want;
      },
      20s);
  return last;
}

}  // namespace

class TestOrderService : public QObject {
  Q_OBJECT
  Databases databases_;
  std::unique_ptr<FakeUpstreams> fake_;

  // A fresh database and a started service; the test QSKIPs/QFAILs through the port.
  std::unique_ptr<OrderProcess> start(const QString& backend, QStringList extra = {}) {
    QStringList env = databases_.fresh(backend);
    env << "PRODUCT_SERVICE_URL=" + QString::fromStdString(fake_->url())
        << "PAYMENT_SERVICE_URL=" + QString::fromStdString(fake_->url()) << "ORDER_SWEEP_INTERVAL=100ms"
        << "ORDER_RETRY_INITIAL=100ms" << "ORDER_RETRY_MAX=500ms" << "INVENTORY_RETRY_WAIT=50ms"
        << "PAYMENT_RETRY_WAIT=50ms" << extra;
    auto p = std::make_unique<OrderProcess>(env);
    p->start();
    return p;
  }

  void backends() {
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << "sqlite";
    if (Databases::postgres_available()) QTest::newRow("postgres") << "postgres";
  }

 private slots:
  void init() {
    fake_ = std::make_unique<FakeUpstreams>();
    fake_->add_product(kWidget, 10, 1999);
    fake_->add_product(kGadget, 1, 500);
  }
  void cleanup() { fake_.reset(); }

  void createIsIdempotentByKeyAndBody_data() { backends(); }
  void createIsIdempotentByKeyAndBody() {
    QFETCH(QString, backend);
    auto svc = start(backend, {"ORDER_PROCESSING_ENABLED=false"});
    QVERIFY2(svc->port() > 0, svc->log().c_str());
    const int port = svc->port();

    const Http first = post_order(port, "alice", "key-1", body_for(kWidget, 2));
    QCOMPARE(first.status, 201);
    const std::string id = first.json["orderId"];
    QCOMPARE(first.json["status"], "PENDING");
    QCOMPARE(first.headers.at("location"), "/api/orders/" + id);
    QVERIFY(first.json["expiresAt"].get<std::string>() > first.json["createdAt"].get<std::string>());

    // The same order again, quantity spelled as Artillery sends it: the same order, 200.
    const Http replay = post_order(port, "alice", "key-1", body_for(kWidget, "2"));
    QCOMPARE(replay.status, 200);
    QCOMPARE(replay.json["orderId"], id);

    const Http other = post_order(port, "alice", "key-1", body_for(kWidget, 3));
    QCOMPARE(other.status, 422);
    QCOMPARE(other.json["error"], "idempotency_key_reused");

    // Keys belong to their user.
    const Http bob = post_order(port, "bob", "key-1", body_for(kWidget, 2));
    QCOMPARE(bob.status, 201);
    QVERIFY(bob.json["orderId"] != id);

    const Http mine = http(port, "GET", "/api/orders", token_for("alice"));
    QCOMPARE(mine.json["totalElements"], 1);
  }

  void concurrentRepeatsOfOneKeyMakeOneOrder_data() { backends(); }
  void concurrentRepeatsOfOneKeyMakeOneOrder() {
    QFETCH(QString, backend);
    auto svc = start(backend, {"ORDER_PROCESSING_ENABLED=false"});
    QVERIFY(svc->port() > 0);
    std::vector<std::thread> threads;
    std::mutex m;
    std::vector<Http> answers;
    for (int i = 0; i < 12; ++i)
      threads.emplace_back([&] {
        Http h = post_order(svc->port(), "carol", "same-key", body_for(kWidget, 1));
        std::lock_guard lock(m);
        answers.push_back(std::move(h));
      });
    for (auto& t : threads) t.join();
    std::set<std::string> ids;
    int created = 0;
    for (const auto& a : answers) {
      QVERIFY2(a.status == 201 || a.status == 200, a.body.c_str());
      created += a.status == 201;
      ids.insert(a.json["orderId"].get<std::string>());
    }
    QCOMPARE(created, 1);
    QCOMPARE(ids.size(), std::size_t{1});
  }

  void badRequestsGetAClearErrorAndChangeNothing_data() { backends(); }
  void badRequestsGetAClearErrorAndChangeNothing() {
    QFETCH(QString, backend);
    auto svc = start(backend);
    const int port = svc->port();
    QVERIFY(port > 0);
    const std::string good = body_for(kWidget, 1);
    struct Case {
      const char* name;
      std::string token;
      std::string headers;
      std::string body;
      int status;
      const char* code;
    };
    const std::string user = token_for("dave");
    nlohmann::json without_address = nlohmann::json::parse(good);
    without_address.erase("shippingAddress");
    const std::string no_address = without_address.dump();
    const std::vector<Case> cases = {
        {"no token", "", "X-Idempotency-Key: k\r\n", good, 401, "unauthorized"},
        {"service role only", token_for("product-service", "service"), "X-Idempotency-Key: k\r\n", good, 403, nullptr},
        {"no key", user, "", good, 400, "missing_idempotency_key"},
        {"key too long", user, "X-Idempotency-Key: " + std::string(129, 'k') + "\r\n", good, 400, "invalid_idempotency_key"},
        {"not json", user, "X-Idempotency-Key: k\r\n", "{items", 400, nullptr},
        {"wrong content type", user, "X-Idempotency-Key: k\r\nContent-Type: text/plain\r\n", good, 415, nullptr},
        {"no items", user, "X-Idempotency-Key: k\r\n", nlohmann::json{{"items", nlohmann::json::array()}, {"shippingAddress", "a"}, {"paymentMethod", "CARD"}}.dump(), 400, "bad_request"},
        {"quantity words", user, "X-Idempotency-Key: k\r\n", body_for(kWidget, "two"), 400, "bad_request"},
        {"quantity zero", user, "X-Idempotency-Key: k\r\n", body_for(kWidget, 0), 400, "bad_request"},
        {"quantity fraction", user, "X-Idempotency-Key: k\r\n", body_for(kWidget, 1.5), 400, "bad_request"},
        {"product not a uuid", user, "X-Idempotency-Key: k\r\n", body_for("widget", 1), 400, "bad_request"},
        {"no address", user, "X-Idempotency-Key: k\r\n", no_address, 400, "bad_request"},
    };
    for (const auto& c : cases) {
      const Http h = http(port, "POST", "/api/orders", c.token, c.body, c.headers);
      QVERIFY2(h.status == c.status, (std::string(c.name) + ": " + std::to_string(h.status) + " " + h.body).c_str());
      QVERIFY2(h.json.is_object() && h.json.contains("message") && h.json.contains("requestId"), c.name);
      if (c.code) QVERIFY2(h.json["error"] == c.code, (std::string(c.name) + ": " + h.body).c_str());
    }
    QCOMPARE(http(port, "GET", "/api/orders", user).json["totalElements"], 0);
    QCOMPARE(fake_->total_reserve_calls(), 0);
    QCOMPARE(http(port, "GET", "/api/orders?size=0", user).status, 400);
    QCOMPARE(http(port, "GET", "/api/orders?status=SHIPPED", user).status, 400);
    QCOMPARE(http(port, "GET", "/api/orders/not-a-uuid", user).status, 400);
    QCOMPARE(http(port, "GET", "/api/orders/" + kUnknown, user).status, 404);
  }

  void happyPathReservesChargesAndConfirms_data() { backends(); }
  void happyPathReservesChargesAndConfirms() {
    QFETCH(QString, backend);
    auto svc = start(backend);
    const int port = svc->port();
    QVERIFY(port > 0);
    const Http created = post_order(port, "erin", "k1", body_for(kWidget, 2, "7 Main St"));
    QCOMPARE(created.status, 201);
    const std::string id = created.json["orderId"];
    const auto order = wait_for(port, "erin", id, "CONFIRMED");
    QVERIFY2(order.value("status", "") == "CONFIRMED", order.dump().c_str());
    QCOMPARE(order["userId"], "erin");
    QCOMPARE(order["totalAmount"].get<double>(), 39.98);
    QCOMPARE(order["items"][0]["unitPrice"].get<double>(), 19.99);
    QCOMPARE(order["items"][0]["quantity"], 2);
    QCOMPARE(order["shippingAddress"], "7 Main St");
    QVERIFY(order["failureReason"].is_null());
    QCOMPARE(fake_->stock(kWidget), 8);
    const auto c = fake_->counts(id);
    QCOMPARE(c.charges, 1);
    QCOMPARE(c.charge_calls, 1);
    QVERIFY(c.holds_stock);
    QCOMPARE(fake_->forbidden_calls(), 0);  // the service token was accepted

    const Http confirmed = http(port, "GET", "/api/orders?status=CONFIRMED", token_for("erin"));
    QCOMPARE(confirmed.json["totalElements"], 1);
    QCOMPARE(confirmed.json["content"][0]["orderId"], id);
    const std::string metrics = http(port, "GET", "/metrics", "").body;
    QCOMPARE(metric(metrics, "orders_created_total"), 1.0);
    QCOMPARE(metric(metrics, "orders_processed_total"), 1.0);
    QCOMPARE(metric(metrics, "orders_processing_time_seconds_count"), 1.0);
    QCOMPARE(metric(metrics, "inventory_reservation_time_seconds_count"), 1.0);
    QCOMPARE(metric(metrics, "payment_processing_time_seconds_count"), 1.0);
    QCOMPARE(metric(metrics, "order_batch_size_count"), 1.0);
    QCOMPARE(metric(metrics, "orders_in_state{state=\"CONFIRMED\"}"), 1.0);
    QCOMPARE(metric(metrics, "orders_in_state{state=\"PENDING\"}"), 0.0);
    QVERIFY(metrics.find("resilience4j_circuitbreaker_state{name=\"payment-service\",state=\"closed\"} 1") != std::string::npos);
  }

  void businessFailuresFailTheOrderAndReleaseStock_data() { backends(); }
  void businessFailuresFailTheOrderAndReleaseStock() {
    QFETCH(QString, backend);
    auto svc = start(backend);
    const int port = svc->port();
    QVERIFY(port > 0);
    const std::string short_id = post_order(port, "fay", "k1", body_for(kGadget, 5)).json["orderId"];
    const std::string unknown_id = post_order(port, "fay", "k2", body_for(kUnknown, 1)).json["orderId"];
    auto order = wait_for(port, "fay", short_id, "FAILED");
    QCOMPARE(order["failureReason"], "insufficient_stock");
    order = wait_for(port, "fay", unknown_id, "FAILED");
    QCOMPARE(order["failureReason"], "unknown_product");
    QCOMPARE(fake_->stock(kGadget), 1);
    QCOMPARE(fake_->counts(short_id).charge_calls, 0);
    QVERIFY(eventually([&] { return fake_->counts(short_id).release_calls >= 1; }));

    fake_->set_payment(FakeUpstreams::Payment::decline);
    const std::string declined = post_order(port, "fay", "k3", body_for(kWidget, 4)).json["orderId"];
    order = wait_for(port, "fay", declined, "FAILED");
    QCOMPARE(order["failureReason"], "payment_declined");
    QVERIFY(eventually([&] { return !fake_->counts(declined).holds_stock; }));
    QCOMPARE(fake_->stock(kWidget), 10);
    QCOMPARE(fake_->counts(declined).charges, 0);
    const std::string metrics = http(port, "GET", "/metrics", "").body;
    QCOMPARE(metric(metrics, "orders_failed_total{reason=\"insufficient_stock\"}"), 1.0);
    QCOMPARE(metric(metrics, "orders_failed_total{reason=\"payment_declined\"}"), 1.0);
  }

  void paymentOutageWaitsInPendingPaymentThenConfirms_data() { backends(); }
  void paymentOutageWaitsInPendingPaymentThenConfirms() {
    QFETCH(QString, backend);
    fake_->set_payment(FakeUpstreams::Payment::unavailable);
    auto svc = start(backend);
    const int port = svc->port();
    QVERIFY(port > 0);
    const std::string id = post_order(port, "gus", "k1", body_for(kWidget, 3)).json["orderId"];
    auto order = wait_for(port, "gus", id, "PENDING_PAYMENT");
    QCOMPARE(order["status"], "PENDING_PAYMENT");
    QCOMPARE(fake_->stock(kWidget), 7);  // held while payment is retried
    QVERIFY(eventually([&] { return fake_->counts(id).charge_calls >= 6; }));  // retried, not dropped
    fake_->set_payment(FakeUpstreams::Payment::capture);
    order = wait_for(port, "gus", id, "CONFIRMED");
    QCOMPARE(order["status"], "CONFIRMED");
    QCOMPARE(fake_->counts(id).charges, 1);
    QCOMPARE(fake_->stock(kWidget), 7);
  }

  void expiredOrderReleasesItsStock_data() { backends(); }
  void expiredOrderReleasesItsStock() {
    QFETCH(QString, backend);
    // The reservation lands but its answer never arrives in time: the order stays PENDING.
    fake_->set_reserve_delay(1500ms);
    auto svc = start(backend, {"ORDER_EXPIRY=2s", "INVENTORY_TIMEOUT=200ms", "INVENTORY_RETRY_ATTEMPTS=1"});
    const int port = svc->port();
    QVERIFY(port > 0);
    const std::string id = post_order(port, "hal", "k1", body_for(kWidget, 4)).json["orderId"];
    QVERIFY(eventually([&] { return fake_->stock(kWidget) == 6; }));
    const auto order = wait_for(port, "hal", id, "EXPIRED");
    QCOMPARE(order["status"], "EXPIRED");
    QCOMPARE(order["failureReason"], "expired");
    QVERIFY(eventually([&] { return fake_->stock(kWidget) == 10; }));
    QCOMPARE(fake_->counts(id).charge_calls, 0);
    QCOMPARE(metric(http(port, "GET", "/metrics", "").body, "orders_failed_total{reason=\"expired\"}"), 1.0);
  }

  void usersSeeOnlyTheirOwnOrders_data() { backends(); }
  void usersSeeOnlyTheirOwnOrders() {
    QFETCH(QString, backend);
    auto svc = start(backend, {"ORDER_PROCESSING_ENABLED=false"});
    const int port = svc->port();
    QVERIFY(port > 0);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
      ids.push_back(post_order(port, "ivy", "k" + std::to_string(i), body_for(kWidget, 1)).json["orderId"]);
      std::this_thread::sleep_for(5ms);  // distinct created_at: newest first is then well defined
    }
    const Http foreign = http(port, "GET", "/api/orders/" + ids[0], token_for("mallory"));
    QCOMPARE(foreign.status, 404);
    QCOMPARE(foreign.json["error"], "not_found");
    QCOMPARE(http(port, "GET", "/api/orders", token_for("mallory")).json["totalElements"], 0);
    QCOMPARE(http(port, "GET", "/api/orders/" + ids[0], token_for("ivy")).status, 200);

    const Http page = http(port, "GET", "/api/orders?status=PENDING&size=2&page=0", token_for("ivy"));
    QCOMPARE(page.status, 200);
    QCOMPARE(page.json["totalElements"], 3);
    QCOMPARE(page.json["totalPages"], 2);
    QCOMPARE(page.json["content"].size(), std::size_t{2});
    QCOMPARE(page.json["content"][0]["orderId"], ids[2]);
    QCOMPARE(page.json["content"][1]["orderId"], ids[1]);
    const Http second = http(port, "GET", "/api/orders?status=PENDING&size=2&page=1", token_for("ivy"));
    QCOMPARE(second.json["content"][0]["orderId"], ids[0]);
    QCOMPARE(http(port, "GET", "/api/orders?status=CONFIRMED", token_for("ivy")).json["totalElements"], 0);
  }

  void postgresPlannerUsesTheSeedIndexes() {
    if (!Databases::postgres_available()) QSKIP("PostgreSQL 15 binaries are not installed");
    const QStringList env = databases_.fresh("postgres");
    auto svc = std::make_unique<OrderProcess>(env);
    QVERIFY(svc->start() > 0);  // migrates the fresh database
    std::string conninfo = env.front().section('=', 1).toStdString();
    mambogo::db::PgConnection c(conninfo);
    // Tiny tables are scanned whatever the indexes; forbid that to see which index serves.
    c.execute("SET enable_seqscan = off");
    auto plan = [&](const std::string& sql) {
      std::string out;
      for (const auto& row : c.query("EXPLAIN " + sql).rows) out += row.text(0) + "\n";
      return out;
    };
    const auto expiry = plan("SELECT id FROM orders WHERE status = 'PENDING' AND expires_at <= 5 LIMIT 10");
    QVERIFY2(expiry.find("idx_orders_pending_expired") != std::string::npos, expiry.c_str());
    const auto listing = plan("SELECT id FROM orders WHERE user_id = 'u' AND status = 'PENDING' ORDER BY created_at DESC");
    QVERIFY2(listing.find("idx_orders_user_status") != std::string::npos, listing.c_str());
  }

  void switchesPauseProcessingAndSetTheBatchSize_data() { backends(); }
  void switchesPauseProcessingAndSetTheBatchSize() {
    QFETCH(QString, backend);
    auto svc = start(backend, {"ORDER_PROCESSING_ENABLED=false"});
    const int port = svc->port();
    QVERIFY(port > 0);
    const std::string id = post_order(port, "jo", "k1", body_for(kWidget, 1)).json["orderId"];
    std::this_thread::sleep_for(800ms);  // several sweeps pass: nothing may move while paused
    QCOMPARE(http(port, "GET", "/api/orders/" + id, token_for("jo")).json["status"], "PENDING");
    QCOMPARE(fake_->total_reserve_calls(), 0);

    const std::string admin = token_for("ops", "admin");
    QCOMPARE(http(port, "PATCH", "/admin/settings", token_for("jo"), R"({"order.processing.enabled": true})").status, 403);
    const Http on = http(port, "PATCH", "/admin/settings", admin, R"({"order.processing.enabled": true, "order.batch-size": 1})");
    QVERIFY2(on.status == 200, on.body.c_str());
    QCOMPARE(wait_for(port, "jo", id, "CONFIRMED")["status"], "CONFIRMED");
    const Http settings = http(port, "GET", "/admin/settings", admin);
    QCOMPARE(settings.json["order.batch-size"]["value"], 1);
    QCOMPARE(http(port, "PATCH", "/admin/settings", admin, R"({"order.batch-size": 0})").status, 400);
    QVERIFY(settings.json.contains("db.pool.max-size"));
    QVERIFY(settings.json.contains("executor.max-threads"));
    QVERIFY(svc->terminate());  // SIGTERM: drains and exits 0
  }
};

QTEST_GUILESS_MAIN(TestOrderService)
#include "tst_order_service.moc"
