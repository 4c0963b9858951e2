// cart-service validating against the real product-service (mambogo-product) as processes
// side by side: the price and name a cart snapshots are the catalogue's. Skipped when the
// build has no mambogo-product.
#include <QtTest>

#include <QFileInfo>
#include <QTemporaryDir>

#include "service_process.h"

using namespace mambogo::test;

class TestCartWithProduct : public QObject {
  Q_OBJECT
 private slots:
  void itemsAreValidatedAgainstTheCatalogue() {
    const QString product_binary = MAMBOGO_PRODUCT_BINARY;
    if (product_binary.isEmpty() || !QFileInfo::exists(product_binary)) QSKIP("mambogo-product is not built");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    Tokens tokens;
    ServiceProcess product(product_binary, {"DATA_DIR=" + dir.path(), "PRODUCT_SEED_COUNT=20"});
    QVERIFY(product.wait_started() > 0);
    auto page = product.json_of(product.request("GET", "/api/products?size=1&sort=name,asc", {}, tokens.user("kim")));
    QVERIFY2(page.contains("content") && !page["content"].empty(), page.dump().c_str());
    const auto listed = page["content"][0];
    const std::string id = listed["id"].get<std::string>();

    ServiceProcess cart(MAMBOGO_CART_BINARY,
                        {"PRODUCT_SERVICE_URL=http://127.0.0.1:" + QString::number(product.port)});
    QVERIFY(cart.wait_started() > 0);
    auto added = cart.request("POST", "/api/cart/items", nlohmann::json{{"productId", id}, {"quantity", 2}}.dump(),
                              tokens.user("kim"));
    QCOMPARE(added.status, 200);
    auto line = cart.json_of(added)["items"][0];
    QCOMPARE(line["name"], listed["name"]);
    QCOMPARE(line["unitPrice"].get<double>(), listed["price"].get<double>());
    auto unknown = cart.request("POST", "/api/cart/items",
                                R"({"productId": "99999999-9999-4999-8999-999999999999", "quantity": 1})",
                                tokens.user("kim"));
    QCOMPARE(unknown.status, 422);
    QCOMPARE(cart.json_of(unknown)["error"].get<std::string>(), std::string("unknown_product"));
  }
};

QTEST_GUILESS_MAIN(TestCartWithProduct)
#include "tst_cart_with_product.moc"
