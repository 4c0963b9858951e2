// The pure rules of payment-service: reading a POST /api/payments body, money, ids, and
// which differences make a repeated request a conflict.
#include <QtTest>

#include "payment/payment_model.h"

using namespace mambogo::payment;

namespace {

nlohmann::json valid() {
  return {{"orderId", "6F1C2C1E-3A5B-4C8E-9A0F-1B2C3D4E5F60"}, {"userId", "user-1"}, {"amount", 19.99},
          {"currency", "EUR"}, {"paymentMethod", "CREDIT_CARD"}};
}

}  // namespace

class TestPaymentModel : public QObject {
  Q_OBJECT
 private slots:
  void readsAValidRequest() {
    auto parsed = parse_payment_request(valid());
    QVERIFY(std::holds_alternative<PaymentRequest>(parsed));
    const auto& r = std::get<PaymentRequest>(parsed);
    QCOMPARE(r.order_id, std::string("6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5f60"));  // canonical
    QCOMPARE(r.amount_cents, std::int64_t(1999));
    QCOMPARE(r.currency, std::string("EUR"));
    auto no_currency = valid();
    no_currency.erase("currency");
    QCOMPARE(std::get<PaymentRequest>(parse_payment_request(no_currency)).currency, std::string("USD"));
    auto spaced = valid();
    spaced["paymentMethod"] = "Visa ending 4242";  // whatever order-service accepted
    QVERIFY(std::holds_alternative<PaymentRequest>(parse_payment_request(spaced)));
  }

  void namesTheBadField_data() {
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");  // JSON; empty: the field is removed
    QTest::newRow("orderId missing") << "orderId" << "";
    QTest::newRow("orderId short") << "orderId" << "\"6f1c2c1e-3a5b-4c8e-9a0f\"";
    QTest::newRow("orderId bad hex") << "orderId" << "\"6f1c2c1e-3a5b-4c8e-9a0f-1b2c3d4e5fzz\"";
    QTest::newRow("orderId number") << "orderId" << "42";
    QTest::newRow("userId too long") << "userId" << QString("\"%1\"").arg(QString(129, 'u'));
    QTest::newRow("userId blank") << "userId" << "\"  \"";
    QTest::newRow("userId with newline") << "userId" << "\"a\\nb\"";
    QTest::newRow("amount negative") << "amount" << "-1";
    QTest::newRow("amount too precise") << "amount" << "0.001";
    QTest::newRow("amount too large") << "amount" << "10000000.01";
    QTest::newRow("amount string") << "amount" << "\"5\"";
    QTest::newRow("amount bool") << "amount" << "true";
    QTest::newRow("currency long") << "currency" << "\"USDT\"";
    QTest::newRow("currency null") << "currency" << "null";
    QTest::newRow("paymentMethod empty") << "paymentMethod" << "\"\"";
    QTest::newRow("paymentMethod control char") << "paymentMethod" << "\"card\\u0001\"";
    QTest::newRow("paymentMethod too long") << "paymentMethod" << QString("\"%1\"").arg(QString(65, 'm'));
  }
  void namesTheBadField() {
    QFETCH(QString, field);
    QFETCH(QString, value);
    auto body = valid();
    if (value.isEmpty()) body.erase(field.toStdString());
    else body[field.toStdString()] = nlohmann::json::parse(value.toStdString());
    auto parsed = parse_payment_request(body);
    QVERIFY(std::holds_alternative<RequestError>(parsed));
    QCOMPARE(QString::fromStdString(std::get<RequestError>(parsed).field), field);
  }

  void moneyIsExactCents_data() {
    QTest::addColumn<double>("amount");
    QTest::addColumn<qint64>("cents");
    QTest::newRow("19.99") << 19.99 << qint64(1999);
    QTest::newRow("0.01") << 0.01 << qint64(1);
    QTest::newRow("0.1 + 0.2") << (0.1 + 0.2) << qint64(30);
    QTest::newRow("max") << 10000000.00 << qint64(1000000000);
    QTest::newRow("1234567.89") << 1234567.89 << qint64(123456789);
  }
  void moneyIsExactCents() {
    QFETCH(double, amount);
    QFETCH(qint64, cents);
    QCOMPARE(amount_to_cents(amount).value_or(-1), cents);
    QCOMPARE(cents_to_amount(cents), static_cast<double>(cents) / 100.0);
  }

  void aConflictNamesWhatDiffers() {
    PaymentRecord existing;
    existing.amount_cents = 1999;
    existing.user_id = "user-1";
    existing.currency = "EUR";
    auto r = std::get<PaymentRequest>(parse_payment_request(valid()));
    QCOMPARE(mismatched_fields(existing, r), std::string());
    r.payment_method = "PAYPAL";
    QCOMPARE(mismatched_fields(existing, r), std::string());
    r.amount_cents = 2000;
    r.user_id = "user-2";
    QCOMPARE(mismatched_fields(existing, r), std::string("amount, userId"));
  }

  void newUuidsAreCanonicalVersion4() {
    for (int i = 0; i < 100; ++i) {
      const std::string id = new_uuid();
      QCOMPARE(canonical_uuid(id).value_or(""), id);
      QCOMPARE(id[14], '4');
      QVERIFY(std::string("89ab").find(id[19]) != std::string::npos);
    }
    QVERIFY(new_uuid() != new_uuid());
  }

  void theAnswerHasTheContractFields() {
    PaymentRecord p;
    p.id = "i";
    p.order_id = "o";
    p.user_id = "u";
    p.amount_cents = 4999;
    p.currency = "USD";
    p.status = PaymentStatus::captured;
    p.attempts = 2;
    auto j = to_json(p);
    for (const char* key : {"paymentId", "orderId", "userId", "status", "amount", "currency", "attempts", "createdAt"})
      QVERIFY2(j.contains(key), key);
    QCOMPARE(j["status"].get<std::string>(), std::string("CAPTURED"));
    QCOMPARE(j["amount"].get<double>(), 49.99);
    QVERIFY(j["failureReason"].is_null());
  }
};

QTEST_GUILESS_MAIN(TestPaymentModel)
#include "tst_payment_model.moc"
