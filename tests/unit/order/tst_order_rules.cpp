// The order domain's pure rules: the state machine, request validation (as Artillery and
// JMeter send it), the idempotency hash, and what each upstream answer means for an order.
#include <QtTest>

#include <set>

#include "order/order.h"
#include "order/outcomes.h"

using namespace mambogo::order;
using nlohmann::json;

Q_DECLARE_METATYPE(mambogo::order::OrderStatus)

namespace {
const std::string kP = "3f1e2d4c-5b6a-4789-8abc-def012345678";

json body(json quantity, std::string product = kP) {
  return {{"items", {{{"productId", product}, {"quantity", quantity}}}},
          {"shippingAddress", "123 Test St, Test City, TC 12345"},
          {"paymentMethod", "CREDIT_CARD"}};
}
}  // namespace

class TestOrderRules : public QObject {
  Q_OBJECT
 private slots:
  void stateMachineHasExactlyTheContractsEdges() {
    using S = OrderStatus;
    const std::set<std::pair<S, S>> edges = {
        {S::pending, S::pending},           {S::pending, S::inventory_reserved},
        {S::pending, S::failed},            {S::pending, S::expired},
        {S::inventory_reserved, S::confirmed}, {S::inventory_reserved, S::pending_payment},
        {S::inventory_reserved, S::failed}, {S::pending_payment, S::pending_payment},
        {S::pending_payment, S::confirmed}, {S::pending_payment, S::failed}};
    for (int f = 0; f < kOrderStatusCount; ++f)
      for (int t = 0; t < kOrderStatusCount; ++t) {
        const auto from = static_cast<S>(f), to = static_cast<S>(t);
        QVERIFY2(can_transition(from, to) == (edges.count({from, to}) == 1),
                 qPrintable(QString("%1 -> %2").arg(to_string(from).data()).arg(to_string(to).data())));
      }
  }

  void terminalStatesHaveNoWayOut() {
    for (int s = 0; s < kOrderStatusCount; ++s) {
      const auto status = static_cast<OrderStatus>(s);
      bool any = false;
      for (int t = 0; t < kOrderStatusCount; ++t) any = any || can_transition(status, static_cast<OrderStatus>(t));
      QCOMPARE(is_terminal(status), !any);
      QCOMPARE(parse_status(to_string(status)), std::optional<OrderStatus>(status));
    }
    QVERIFY(!parse_status("pending"));
    QVERIFY(!parse_status("SHIPPED"));
  }

  void acceptsTheSeedsRequests_data() {
    QTest::addColumn<QByteArray>("quantity");
    QTest::addColumn<int>("expected");
    QTest::newRow("number") << QByteArray("3") << 3;
    QTest::newRow("numeric string (Artillery)") << QByteArray("\"3\"") << 3;
    QTest::newRow("whole float") << QByteArray("2.0") << 2;
    QTest::newRow("maximum") << QByteArray("999") << 999;
  }
  void acceptsTheSeedsRequests() {
    QFETCH(QByteArray, quantity);
    QFETCH(int, expected);
    std::string problem;
    const auto r = parse_order_request(body(json::parse(quantity.toStdString())), problem);
    QVERIFY2(r, problem.c_str());
    QCOMPARE(r->items.size(), std::size_t{1});
    QCOMPARE(r->items[0].quantity, std::int64_t{expected});
    QCOMPARE(r->items[0].product_id, kP);
    QCOMPARE(r->payment_method, std::string("CREDIT_CARD"));
  }

  void refusesBadRequestsNamingTheField_data() {
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("mentions");
    auto row = [](const char* name, const json& b, const char* field) {
      QTest::newRow(name) << QByteArray::fromStdString(b.dump()) << QString(field);
    };
    row("not an object", json::array(), "object");
    row("no items", json{{"shippingAddress", "a"}, {"paymentMethod", "b"}}, "items");
    row("empty items", json{{"items", json::array()}, {"shippingAddress", "a"}, {"paymentMethod", "b"}}, "items");
    row("quantity zero", body(0), "items[0].quantity");
    row("quantity negative", body(-1), "items[0].quantity");
    row("quantity too big", body(1000), "items[0].quantity");
    row("quantity fraction", body(1.5), "items[0].quantity");
    row("quantity words", body("two"), "items[0].quantity");
    row("quantity empty string", body(""), "items[0].quantity");
    row("quantity string with junk", body("3x"), "items[0].quantity");
    row("quantity null", body(nullptr), "items[0].quantity");
    row("product not uuid", body(1, "abc"), "items[0].productId");
    json twice = body(1);
    twice["items"].push_back({{"productId", kP}, {"quantity", 2}});
    row("same product twice", twice, "items[1].productId");
    json no_address = body(1);
    no_address.erase("shippingAddress");
    row("no address", no_address, "shippingAddress");
    json blank_address = body(1);
    blank_address["shippingAddress"] = "   ";
    row("blank address", blank_address, "shippingAddress");
    json numeric_method = body(1);
    numeric_method["paymentMethod"] = 7;
    row("payment method not text", numeric_method, "paymentMethod");
    json control = body(1);
    control["shippingAddress"] = "a\nb";
    row("control character", control, "shippingAddress");
  }
  void refusesBadRequestsNamingTheField() {
    QFETCH(QByteArray, body);
    QFETCH(QString, mentions);
    std::string problem;
    QVERIFY(!parse_order_request(json::parse(body.toStdString()), problem));
    QVERIFY2(QString::fromStdString(problem).contains(mentions), problem.c_str());
  }

  void productIdsAreStoredLowerCase() {
    std::string problem;
    std::string upper = kP;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto r = parse_order_request(body(1, upper), problem);
    QVERIFY(r);
    QCOMPARE(r->items[0].product_id, kP);
  }

  void hashIsTheSameForTheSameOrderWhateverTheSpelling() {
    std::string p;
    const auto a = parse_order_request(body(2), p);
    const auto b = parse_order_request(json::parse(R"({"paymentMethod":"CREDIT_CARD","extra":1,
        "items":[{"quantity":"2","productId":")" + kP + R"("}],"shippingAddress":"123 Test St, Test City, TC 12345"})"), p);
    QVERIFY(a && b);
    QCOMPARE(request_hash(*a), request_hash(*b));
    QCOMPARE(request_hash(*a).size(), std::size_t{64});
  }

  void hashChangesWithAnythingThatMatters() {
    std::string p;
    const auto base = *parse_order_request(body(2), p);
    auto more = base;
    more.items[0].quantity = 3;
    auto address = base;
    address.shipping_address += " ";
    auto method = base;
    method.payment_method = "PAYPAL";
    auto other = base;
    other.items[0].product_id[0] = 'a';
    for (const auto* changed : {&more, &address, &method, &other}) QVERIFY(request_hash(*changed) != request_hash(base));
  }

  void idempotencyKeysAreBounded() {
    QVERIFY(valid_idempotency_key("a"));
    QVERIFY(valid_idempotency_key(std::string(128, 'k')));
    QVERIFY(!valid_idempotency_key(""));
    QVERIFY(!valid_idempotency_key(std::string(129, 'k')));
    QVERIFY(!valid_idempotency_key(" padded"));
    QVERIFY(!valid_idempotency_key("tab\there"));
    QVERIFY(!valid_idempotency_key("caf\xc3\xa9"));
  }

  void idsAreRandomV4Uuids() {
    const auto a = new_order_id(), b = new_order_id();
    QVERIFY(is_uuid(a));
    QVERIFY(a != b);
    QCOMPARE(a[14], '4');
    QCOMPARE(lower_uuid(a), a);
    QVERIFY(!is_uuid("3f1e2d4c-5b6a-4789-8abc-def01234567"));
    QVERIFY(!is_uuid("3f1e2d4c15b6a-4789-8abc-def012345678"));
    QVERIFY(!is_uuid("3f1e2d4c-5b6a-4789-8abc-def01234567g"));
  }

  void jsonShapesFollowTheContract() {
    std::string p;
    Order o = make_order("3f1e2d4c-0000-4000-8000-000000000001", "u1", "k", *parse_order_request(body(2), p),
                         1'764'190'468'123, 15 * 60'000);
    QCOMPARE(o.status, OrderStatus::pending);
    QCOMPARE(o.next_attempt_at_ms, std::optional<std::int64_t>(1'764'190'468'123));
    QCOMPARE(format_timestamp(o.created_at_ms), std::string("2025-11-26T20:54:28.123Z"));
    json created = order_created_json(o);
    QCOMPARE(created["expiresAt"].get<std::string>(), std::string("2025-11-26T21:09:28.123Z"));
    QCOMPARE(created["status"].get<std::string>(), std::string("PENDING"));
    json full = order_json(o);
    for (const char* k : {"orderId", "userId", "status", "items", "totalAmount", "shippingAddress", "paymentMethod",
                          "failureReason", "createdAt", "updatedAt", "expiresAt"})
      QVERIFY2(full.contains(k), k);
    QVERIFY(full["totalAmount"].is_null());
    QVERIFY(full["items"][0]["unitPrice"].is_null());
    o.total_cents = 3998;
    o.items[0].unit_price_cents = 1999;
    full = order_json(o);
    QCOMPARE(full["totalAmount"].get<double>(), 39.98);
    QCOMPARE(full["items"][0]["unitPrice"].get<double>(), 19.99);
    const auto stored = items_from_storage(items_to_storage(o.items));
    QVERIFY(stored);
    QCOMPARE(*stored, o.items);
    QVERIFY(!items_from_storage("{}"));
  }

  void moneyIsExactInCents() {
    QCOMPARE(parse_money(json(19.99)), std::optional<std::int64_t>(1999));
    QCOMPARE(parse_money(json("0.10")), std::optional<std::int64_t>(10));
    QCOMPARE(parse_money(json(100)), std::optional<std::int64_t>(10000));
    QVERIFY(!parse_money(json(-1)));
    QVERIFY(!parse_money(json("ten")));
    QVERIFY(!parse_money(json(nullptr)));
  }

  void reserveAnswersDecideTheOrdersFate_data() {
    QTest::addColumn<int>("status");  // 0: no answer at all
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("reason");
    using K = ReserveOutcome::Kind;
    const QByteArray priced = QByteArray::fromStdString(
        json{{"orderId", "o"}, {"reserved", true}, {"items", {{{"productId", kP}, {"quantity", 2}, {"unitPrice", 19.99}}}}, {"totalAmount", 39.98}}.dump());
    QTest::newRow("reserved") << 200 << priced << int(K::reserved) << "";
    QTest::newRow("insufficient stock") << 409 << QByteArray(R"({"error":"insufficient_stock"})") << int(K::rejected) << "insufficient_stock";
    QTest::newRow("unknown product") << 422 << QByteArray(R"({"error":"unknown_product"})") << int(K::rejected) << "unknown_product";
    QTest::newRow("other 4xx") << 400 << QByteArray(R"({"error":"bad_request"})") << int(K::rejected) << "inventory_rejected";
    QTest::newRow("503") << 503 << QByteArray("{}") << int(K::unavailable) << "http_503";
    QTest::newRow("403 misconfigured token") << 403 << QByteArray("{}") << int(K::unavailable) << "http_403";
    QTest::newRow("429") << 429 << QByteArray("{}") << int(K::unavailable) << "http_429";
    QTest::newRow("no answer") << 0 << QByteArray() << int(K::unavailable) << "timeout";
    QTest::newRow("200 without prices") << 200 << QByteArray(R"({"reserved":true})") << int(K::unavailable) << "unreadable_reservation";
  }
  void reserveAnswersDecideTheOrdersFate() {
    QFETCH(int, status);
    QFETCH(QByteArray, answer);
    QFETCH(int, kind);
    QFETCH(QString, reason);
    UpstreamAnswer a{status ? std::optional<int>(status) : std::nullopt, answer.toStdString(), status ? "" : "timeout"};
    const auto out = classify_reserve(a, {{kP, 2, std::nullopt}});
    QCOMPARE(int(out.kind), kind);
    QCOMPARE(QString::fromStdString(out.reason), reason);
    if (out.kind == ReserveOutcome::Kind::reserved) {
      QCOMPARE(out.total_cents, std::int64_t{3998});
      QCOMPARE(out.priced[0].unit_price_cents, std::optional<std::int64_t>(1999));
    }
  }

  void chargeAnswersDecideTheOrdersFate_data() {
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("reason");
    using K = ChargeOutcome::Kind;
    QTest::newRow("charged") << 201 << QByteArray(R"({"paymentId":"p1","status":"CAPTURED"})") << int(K::charged) << "";
    QTest::newRow("charged before") << 200 << QByteArray(R"({"paymentId":"p1","status":"CAPTURED"})") << int(K::charged) << "";
    QTest::newRow("declined") << 402 << QByteArray(R"({"error":"payment_declined"})") << int(K::rejected) << "payment_declined";
    QTest::newRow("rejected") << 400 << QByteArray(R"({"error":"bad_request"})") << int(K::rejected) << "payment_rejected";
    QTest::newRow("unavailable") << 503 << QByteArray(R"({"error":"payment_unavailable"})") << int(K::unavailable) << "http_503";
    QTest::newRow("breaker open") << 0 << QByteArray() << int(K::unavailable) << "circuit_open";
    QTest::newRow("odd 200") << 200 << QByteArray(R"({"status":"PENDING"})") << int(K::unavailable) << "unreadable_payment";
  }
  void chargeAnswersDecideTheOrdersFate() {
    QFETCH(int, status);
    QFETCH(QByteArray, answer);
    QFETCH(int, kind);
    QFETCH(QString, reason);
    UpstreamAnswer a{status ? std::optional<int>(status) : std::nullopt, answer.toStdString(), status ? "" : "circuit_open"};
    const auto out = classify_charge(a);
    QCOMPARE(int(out.kind), kind);
    QCOMPARE(QString::fromStdString(out.reason), reason);
    if (out.kind == ChargeOutcome::Kind::charged) QCOMPARE(out.payment_id, std::string("p1"));
  }

  void outboundBodiesFollowTheContract() {
    std::string p;
    Order o = make_order("oid", "u1", "k", *parse_order_request(body(2), p), 0, 1);
    o.total_cents = 3998;
    const json reserve = json::parse(reserve_body(o));
    QCOMPARE(reserve["orderId"].get<std::string>(), std::string("oid"));
    QCOMPARE(reserve["items"][0]["quantity"].get<int>(), 2);
    const json charge = json::parse(charge_body(o));
    QCOMPARE(charge["amount"].get<double>(), 39.98);
    QCOMPARE(charge["currency"].get<std::string>(), std::string("USD"));
    QCOMPARE(charge["userId"].get<std::string>(), std::string("u1"));
    QCOMPARE(json::parse(release_body("oid")), (json{{"orderId", "oid"}}));
  }
};

QTEST_GUILESS_MAIN(TestOrderRules)
#include "tst_order_rules.moc"
