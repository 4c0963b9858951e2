// The three real services together: mambogo-product (a small seeded catalogue), mambogo-payment
// (its provider simulator) and mambogo-order, each a process on SQLite, one key set. An order
// reserves real stock, is charged by the real payment service and is CONFIRMED; one asking
// for more than the stock FAILS with insufficient_stock and changes no stock.
#include <QtTest>

#include "order_fixtures.h"

using namespace mambogo::test;
using namespace std::chrono_literals;

class TestOrderEndToEnd : public QObject {
  Q_OBJECT
  Databases databases_;

 private slots:
  void orderFlowsThroughRealProductAndPayment() {
    OrderProcess product(databases_.fresh("sqlite") << "PRODUCT_SEED_COUNT=40", MAMBOGO_PRODUCT_BINARY);
    QVERIFY2(product.start() > 0, product.log().c_str());
    OrderProcess payment(databases_.fresh("sqlite") << "PROVIDER_LATENCY_P50_MS=5" << "PROVIDER_LATENCY_P99_MS=20",
                         MAMBOGO_PAYMENT_BINARY);
    QVERIFY2(payment.start() > 0, payment.log().c_str());
    const QString product_url = QString("http://127.0.0.1:%1").arg(product.port());
    const QString payment_url = QString("http://127.0.0.1:%1").arg(payment.port());
    OrderProcess order(databases_.fresh("sqlite") << "PRODUCT_SERVICE_URL=" + product_url
                                                  << "PAYMENT_SERVICE_URL=" + payment_url << "ORDER_SWEEP_INTERVAL=100ms");
    QVERIFY2(order.start() > 0, order.log().c_str());

    const std::string user = token_for("e2e-user");
    const Http catalogue = http(product.port(), "GET", "/api/products?inStock=true&size=5", user);
    QVERIFY2(catalogue.status == 200 && !catalogue.json["content"].empty(), catalogue.body.c_str());
    nlohmann::json item;
    for (const auto& p : catalogue.json["content"])
      if (p["stockQuantity"].get<int>() >= 3 && p["stockQuantity"].get<int>() < 998) item = p;
    QVERIFY2(item.is_object(), catalogue.body.c_str());
    const std::string product_id = item["id"];
    const int stock = item["stockQuantity"];
    auto body = [&](int quantity) {
      return nlohmann::json{{"items", {{{"productId", product_id}, {"quantity", std::to_string(quantity)}}}},
                            {"shippingAddress", "1 End-to-End Way"},
                            {"paymentMethod", "CREDIT_CARD"}}
          .dump();
    };
    auto status_of = [&](const std::string& id) {
      return http(order.port(), "GET", "/api/orders/" + id, user).json;
    };
    auto stock_now = [&] { return http(product.port(), "GET", "/api/products/" + product_id, user).json["stockQuantity"]; };

    const Http created = http(order.port(), "POST", "/api/orders", user, body(2), "X-Idempotency-Key: e2e-1\r\n");
    QCOMPARE(created.status, 201);
    const std::string id = created.json["orderId"];
    nlohmann::json o;
    QVERIFY(eventually([&] { return (o = status_of(id)).value("status", "") == "CONFIRMED"; }, 30s));
    QCOMPARE(o["totalAmount"].get<double>(), std::round(item["price"].get<double>() * 2 * 100) / 100);
    QVERIFY(eventually([&] { return stock_now() == stock - 2; }));
    const Http charge = http(payment.port(), "GET", "/api/payments/" + id, user);
    QVERIFY2(charge.status == 200 && charge.json["status"] == "CAPTURED", charge.body.c_str());

    const Http too_many = http(order.port(), "POST", "/api/orders", user, body(stock), "X-Idempotency-Key: e2e-2\r\n");
    QCOMPARE(too_many.status, 201);
    const std::string failed = too_many.json["orderId"];
    QVERIFY(eventually([&] { return (o = status_of(failed)).value("status", "") == "FAILED"; }, 30s));
    QCOMPARE(o["failureReason"], "insufficient_stock");
    QCOMPARE(stock_now(), stock - 2);
    QCOMPARE(http(payment.port(), "GET", "/api/payments/" + failed, user).status, 404);
  }
};

QTEST_GUILESS_MAIN(TestOrderEndToEnd)
#include "tst_order_e2e.moc"
