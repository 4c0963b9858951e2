#include <QtTest>

#include "runtime/router.h"

using namespace mambogo::runtime;

class TestRouter : public QObject {
  Q_OBJECT

  static Handler named(const char* name) {
    return [name](const Request&) { return Response::text(200, name); };
  }

  Router router_;

 private slots:
  void initTestCase() {
    router_.add(Method::get, "/api/products", named("list"))
        .add(Method::post, "/api/products", named("create"))
        .add(Method::get, "/api/products/{id}", named("one"))
        .add(Method::get, "/api/products/featured", named("featured"))
        .add(Method::get, "/api/orders/{orderId}/items/{itemId}", named("item"))
        .add(Method::get, "/api/**", named("fallback"))
        .add(Method::get, "/", named("root"));
  }

  void matchesMostSpecificTemplate_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("handler");
    QTest::addColumn<QString>("pattern");
    QTest::newRow("literal") << "/api/products" << "list" << "/api/products";
    QTest::newRow("param") << "/api/products/42" << "one" << "/api/products/{id}";
    QTest::newRow("literal beats param") << "/api/products/featured" << "featured" << "/api/products/featured";
    QTest::newRow("two params") << "/api/orders/7/items/9" << "item" << "/api/orders/{orderId}/items/{itemId}";
    QTest::newRow("wildcard catches rest") << "/api/cart/1/x" << "fallback" << "/api/**";
    QTest::newRow("param beats wildcard") << "/api/products/1" << "one" << "/api/products/{id}";
    QTest::newRow("root") << "/" << "root" << "/";
  }
  void matchesMostSpecificTemplate() {
    QFETCH(QString, path);
    QFETCH(QString, handler);
    QFETCH(QString, pattern);
    RouteMatch m = router_.match(Method::get, path.toStdString());
    QCOMPARE(int(m.outcome), int(RouteMatch::Outcome::found));
    QCOMPARE(QString::fromStdString(m.route->pattern), pattern);
    QCOMPARE(QString::fromStdString(m.route->handler(Request{}).body), handler);
  }

  void capturesDecodedParameters() {
    RouteMatch m = router_.match(Method::get, "/api/orders/a%20b/items/%E2%82%AC");
    QCOMPARE(int(m.outcome), int(RouteMatch::Outcome::found));
    QCOMPARE(m.params.size(), size_t(2));
    QCOMPARE(m.params[0].first, std::string("orderId"));
    QCOMPARE(m.params[0].second, std::string("a b"));
    QCOMPARE(m.params[1].second, std::string("\xE2\x82\xAC"));
  }

  void unknownPathIsNotFound() {
    QCOMPARE(int(router_.match(Method::get, "/nope").outcome), int(RouteMatch::Outcome::not_found));
    QCOMPARE(int(router_.match(Method::get, "/api/products/1/2").outcome), int(RouteMatch::Outcome::found));  // via /api/**
    QCOMPARE(int(router_.match(Method::get, "/api/products/").outcome), int(RouteMatch::Outcome::found));     // via /api/**
    Router strict;
    strict.add(Method::get, "/a/{id}", named("a"));
    QCOMPARE(int(strict.match(Method::get, "/a/").outcome), int(RouteMatch::Outcome::not_found));
    QCOMPARE(int(strict.match(Method::get, "/a/1/").outcome), int(RouteMatch::Outcome::not_found));
    QCOMPARE(int(strict.match(Method::get, "/a").outcome), int(RouteMatch::Outcome::not_found));
  }

  void wrongMethodListsAllowedMethods() {
    RouteMatch m = router_.match(Method::delete_, "/api/products");
    QCOMPARE(int(m.outcome), int(RouteMatch::Outcome::method_not_allowed));
    QVERIFY(m.allow.find("GET") != std::string::npos);
    QVERIFY(m.allow.find("POST") != std::string::npos);
  }

  void headFallsBackToGet() {
    RouteMatch m = router_.match(Method::head, "/api/products/3");
    QCOMPARE(int(m.outcome), int(RouteMatch::Outcome::found));
    QCOMPARE(m.route->pattern, std::string("/api/products/{id}"));
  }

  void malformedTemplatesAreRefused_data() {
    QTest::addColumn<QString>("pattern");
    QTest::newRow("no slash") << "api";
    QTest::newRow("wildcard not last") << "/api/**/x";
    QTest::newRow("empty param") << "/a/{}";
    QTest::newRow("half brace") << "/a/{id";
    QTest::newRow("duplicate") << "/api/products";
  }
  void malformedTemplatesAreRefused() {
    QFETCH(QString, pattern);
    Router r;
    r.add(Method::get, "/api/products", named("x"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, r.add(Method::get, pattern.toStdString(), named("y")));
  }
};

QTEST_APPLESS_MAIN(TestRouter)
#include "tst_router.moc"
