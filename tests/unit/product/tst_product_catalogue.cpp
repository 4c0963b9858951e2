// The product service's pure rules: GET /api/products parameters and
// the SQL they become, reservation bodies, and the JSON shapes of cluster/README.md.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "product/catalogue_query.h"
#include "product/inventory_request.h"
#include "runtime/values.h"
#include "product/product_model.h"

using namespace mambogo::product;
using mambogo::runtime::canonical_uuid;
using mambogo::runtime::Request;

namespace {

Request get(const std::string& target) {
  Request r;
  r.target = target;
  return r;
}

CatalogueQuery parsed(const std::string& target) {
  auto result = parse_catalogue_query(get(target));
  if (auto* problem = std::get_if<QueryProblem>(&result))
    throw std::runtime_error("unexpected problem: " + problem->message);
  return std::get<CatalogueQuery>(result);
}

const char* kUuid = "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b";

}  // namespace

class TestProductCatalogue : public QObject {
  Q_OBJECT
 private slots:

  void catalogueQueryHasTheContractsDefaults() {
    CatalogueQuery q = parsed("/api/products");
    QCOMPARE(q.page, 0);
    QCOMPARE(q.size, 20);
    QVERIFY(q.sort == SortField::name);
    QVERIFY(!q.descending);
    QVERIFY(!q.in_stock);
    QVERIFY(!q.category_id && !q.category_name && !q.min_price_cents && !q.max_price_cents && !q.name_prefix);
  }

  void catalogueQueryReadsEveryParameter() {
    CatalogueQuery q = parsed(std::string("/api/products?category=") + kUuid +
                              "&minPrice=10&maxPrice=20.5&inStock=true&q=Sleek%20St&sort=price,desc&page=3&size=100");
    QCOMPARE(q.category_id.value(), std::string(kUuid));
    QVERIFY(!q.category_name);
    QCOMPARE(q.min_price_cents.value(), 1000);
    QCOMPARE(q.max_price_cents.value(), 2050);
    QVERIFY(q.in_stock);
    QCOMPARE(q.name_prefix.value(), std::string("Sleek St"));
    QVERIFY(q.sort == SortField::price);
    QVERIFY(q.descending);
    QCOMPARE(q.page, 3);
    QCOMPARE(q.size, 100);

    CatalogueQuery by_name = parsed("/api/products?category=Home%20%26%20Kitchen&sort=createdAt,desc");
    QCOMPARE(by_name.category_name.value(), std::string("Home & Kitchen"));
    QVERIFY(by_name.sort == SortField::created_at);
    QVERIFY(parsed("/api/products?sort=name").sort == SortField::name);
    QVERIFY(!parsed("/api/products?inStock=false").in_stock);
    QVERIFY(!parsed("/api/products?q=").name_prefix);
  }

  void badParametersAreRefusedByName_data() {
    QTest::addColumn<QString>("query");
    QTest::addColumn<QString>("parameter");
    QTest::newRow("size zero") << "size=0" << "size";
    QTest::newRow("size too big") << "size=101" << "size";
    QTest::newRow("size not a number") << "size=ten" << "size";
    QTest::newRow("size negative") << "size=-1" << "size";
    QTest::newRow("page negative") << "page=-1" << "page";
    QTest::newRow("page fraction") << "page=1.5" << "page";
    QTest::newRow("page huge") << "page=99999999999" << "page";
    QTest::newRow("sort field") << "sort=stock,asc" << "sort";
    QTest::newRow("sort direction") << "sort=price,up" << "sort";
    QTest::newRow("minPrice negative") << "minPrice=-3" << "minPrice";
    QTest::newRow("maxPrice three decimals") << "maxPrice=1.005" << "maxPrice";
    QTest::newRow("min above max") << "minPrice=30&maxPrice=20" << "minPrice";
    QTest::newRow("inStock yes") << "inStock=yes" << "inStock";
    QTest::newRow("category empty") << "category=" << "category";
    QTest::newRow("q too long") << "q=" + QString(101, 'a') << "q";
  }
  void badParametersAreRefusedByName() {
    QFETCH(QString, query);
    QFETCH(QString, parameter);
    auto result = parse_catalogue_query(get("/api/products?" + query.toStdString()));
    auto* problem = std::get_if<QueryProblem>(&result);
    QVERIFY(problem);
    QCOMPARE(QString::fromStdString(problem->parameter), parameter);
    QVERIFY2(problem->message.find(parameter.toStdString()) != std::string::npos, problem->message.c_str());
  }

  void statementsCarryEveryFilterAsAParameter() {
    CatalogueQuery q = parsed("/api/products?category=Books&minPrice=1&maxPrice=2&inStock=true&q=50%25_off&page=2&size=10");
    for (auto dialect : {mambogo::db::Dialect::sqlite, mambogo::db::Dialect::postgres}) {
      CatalogueStatements s = catalogue_statements(q, dialect);
      // Every placeholder has its parameter, and no value is spliced into the SQL.
      QCOMPARE(s.count.params.size(), std::size_t(4));
      QCOMPARE(s.page.params.size(), std::size_t(6));
      QVERIFY(s.page.sql.find("$6") != std::string::npos && s.page.sql.find("$7") == std::string::npos);
      QVERIFY(s.page.sql.find("Books") == std::string::npos);
      QCOMPARE(std::get<std::string>(s.count.params[0]), std::string("Books"));
      QCOMPARE(std::get<std::string>(s.count.params[3]), std::string("50\\%\\_off%"));  // wildcards escaped
      QCOMPARE(std::get<std::int64_t>(s.page.params[4]), std::int64_t(10));           // LIMIT
      QCOMPARE(std::get<std::int64_t>(s.page.params[5]), std::int64_t(20));           // OFFSET page*size
      // The partial indexes' predicates, as the migration writes them.
      QVERIFY(s.count.sql.find("p.is_active = TRUE") != std::string::npos);
      QVERIFY(s.count.sql.find("p.stock_quantity > 0") != std::string::npos);
      QVERIFY(s.page.sql.find("ORDER BY p.name ASC, p.id ASC") != std::string::npos);
    }
    QVERIFY(catalogue_statements(q, mambogo::db::Dialect::postgres).page.sql.find("to_char(") != std::string::npos);
    QVERIFY(catalogue_statements(q, mambogo::db::Dialect::sqlite).page.sql.find("to_char(") == std::string::npos);
  }

  void reserveBodiesAreValidatedAndMerged() {
    const std::string p1 = "00000000-0000-4000-8000-000000000001";
    const std::string p2 = "00000000-0000-4000-8000-000000000002";
    nlohmann::json body = {{"orderId", "3F2B8C1E-9A4D-4E6F-8B7A-1C2D3E4F5A6B"},
                           {"items", {{{"productId", p1}, {"quantity", 2}},
                                      {{"productId", p2}, {"quantity", 1}},
                                      {{"productId", p1}, {"quantity", 3}}}}};
    auto result = parse_reserve_request(body);
    auto* request = std::get_if<ReserveRequest>(&result);
    QVERIFY(request);
    QCOMPARE(request->order_id, std::string(kUuid));
    QCOMPARE(request->items.size(), std::size_t(2));
    QCOMPARE(request->items[0].product_id, std::string("00000000-0000-4000-8000-000000000001"));
    QCOMPARE(request->items[0].quantity, 5);
    QCOMPARE(request->items[1].quantity, 1);
  }

  void badReserveBodiesNameTheField_data() {
    QTest::addColumn<QString>("body");
    QTest::addColumn<QString>("field");
    const QString item = R"({"productId":"00000000-0000-4000-8000-000000000001","quantity":1})";
    const QString order = QString(R"("orderId":"%1")").arg(kUuid);
    QTest::newRow("no orderId") << "{\"items\":[" + item + "]}" << "orderId";
    QTest::newRow("orderId not uuid") << R"({"orderId":"x","items":[)" + item + "]}" << "orderId";
    QTest::newRow("orderId number") << R"({"orderId":5,"items":[)" + item + "]}" << "orderId";
    QTest::newRow("no items") << "{" + order + "}" << "items";
    QTest::newRow("empty items") << "{" + order + ",\"items\":[]}" << "items";
    QTest::newRow("items object") << "{" + order + ",\"items\":{}}" << "items";
    QTest::newRow("line not object") << "{" + order + ",\"items\":[1]}" << "items[0]";
    QTest::newRow("bad productId") << "{" + order + R"(,"items":[{"productId":"p1","quantity":1}]})" << "items[0].productId";
    QTest::newRow("zero quantity") << "{" + order + R"(,"items":[{"productId":"00000000-0000-4000-8000-000000000001","quantity":0}]})" << "items[0].quantity";
    QTest::newRow("string quantity") << "{" + order + R"(,"items":[{"productId":"00000000-0000-4000-8000-000000000001","quantity":"2"}]})" << "items[0].quantity";
    QTest::newRow("fractional quantity") << "{" + order + R"(,"items":[{"productId":"00000000-0000-4000-8000-000000000001","quantity":1.5}]})" << "items[0].quantity";
    QTest::newRow("merged too large") << "{" + order + R"(,"items":[{"productId":"00000000-0000-4000-8000-000000000001","quantity":60000},{"productId":"00000000-0000-4000-8000-000000000001","quantity":60000}]})" << "items[1].quantity";
  }
  void badReserveBodiesNameTheField() {
    QFETCH(QString, body);
    QFETCH(QString, field);
    auto result = parse_reserve_request(nlohmann::json::parse(body.toStdString()));
    auto* problem = std::get_if<BodyProblem>(&result);
    QVERIFY(problem);
    QVERIFY2(problem->message.rfind(field.toStdString(), 0) == 0, problem->message.c_str());
  }

  void tooManyLinesAreRefused() {
    nlohmann::json body = {{"orderId", kUuid}, {"items", nlohmann::json::array()}};
    for (int i = 0; i < 101; ++i) body["items"].push_back({{"productId", kUuid}, {"quantity", 1}});
    QVERIFY(std::holds_alternative<BodyProblem>(parse_reserve_request(body)));
  }

  void releaseBodyNeedsAnOrderId() {
    QCOMPARE(std::get<std::string>(parse_release_request({{"orderId", kUuid}})), std::string(kUuid));
    QVERIFY(std::holds_alternative<BodyProblem>(parse_release_request({{"orderId", "nope"}})));
    QVERIFY(std::holds_alternative<BodyProblem>(parse_release_request(nlohmann::json::object())));
  }

  void productJsonHasTheContractsFieldsAndMoneyWithTwoDecimals() {
    Product p{kUuid, "Lamp \"Nova\"", "bright", "c-1", "Home", 1990, 7, true,
              "2025-01-01T00:00:00.000Z", "2025-01-02T00:00:00.000Z", 3};
    const std::string text = product_json(p);
    QVERIFY2(text.find("\"price\":19.90") != std::string::npos, text.c_str());
    auto j = nlohmann::json::parse(text);
    QCOMPARE(j["id"].get<std::string>(), std::string(kUuid));
    QCOMPARE(j["name"].get<std::string>(), std::string("Lamp \"Nova\""));
    QCOMPARE(j["category"].get<std::string>(), std::string("Home"));
    QCOMPARE(j["categoryId"].get<std::string>(), std::string("c-1"));
    QCOMPARE(j["stockQuantity"].get<int>(), 7);
    QCOMPARE(j["isActive"].get<bool>(), true);
    QCOMPARE(j["updatedAt"].get<std::string>(), std::string("2025-01-02T00:00:00.000Z"));
    QCOMPARE(j.size(), std::size_t(10));
  }

  void pageJsonCountsPages() {
    ProductPage page;
    page.page = 1;
    page.size = 20;
    page.total_elements = 41;
    auto j = nlohmann::json::parse(page_json(page));
    QCOMPARE(j["totalPages"].get<int>(), 3);
    QCOMPARE(j["totalElements"].get<int>(), 41);
    QVERIFY(j["content"].is_array());
    page.total_elements = 0;
    QCOMPARE(nlohmann::json::parse(page_json(page))["totalPages"].get<int>(), 0);
  }

  void reservationJsonTotalsTheLines() {
    const std::string text = reservation_json(kUuid, {{"a", 2, 1050}, {"b", 1, 99}});
    QVERIFY2(text.find("\"totalAmount\":21.99") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"unitPrice\":10.50") != std::string::npos, text.c_str());
    auto j = nlohmann::json::parse(text);
    QCOMPARE(j["reserved"].get<bool>(), true);
    QCOMPARE(j["items"].size(), std::size_t(2));
  }
};

QTEST_APPLESS_MAIN(TestProductCatalogue)
#include "tst_product_catalogue.moc"
