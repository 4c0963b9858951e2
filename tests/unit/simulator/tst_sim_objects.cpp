// Quantities, label selectors and int-or-percent values as Kubernetes reads them.
#include <QtTest>

#include "objects/quantity.h"
#include "objects/selector.h"

using namespace mambogo::sim;
using Json = nlohmann::json;

class ObjectsTest : public QObject {
  Q_OBJECT

 private slots:
  void quantities() {
    QCOMPARE(cpu_millis("250m"), 250);
    QCOMPARE(cpu_millis("1"), 1000);
    QCOMPARE(cpu_millis("0.5"), 500);
    QCOMPARE(cpu_millis(2), 2000);
    QCOMPARE(memory_bytes("128Mi"), 128LL * 1024 * 1024);
    QCOMPARE(memory_bytes("1G"), 1000000000LL);
    QCOMPARE(memory_bytes("1e3"), 1000LL);
    QCOMPARE(format_cpu_millis(250), std::string("250m"));
    QCOMPARE(format_cpu_millis(2000), std::string("2"));
    QCOMPARE(format_memory(2048), std::string("2Ki"));
    for (const char* bad : {"", "m", "12x", "1.2.3", "abc", "1e"})
      QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_quantity(bad));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, cpu_millis(Json()));
  }

  void selectors_from_objects() {
    const auto s = LabelSelector::from_json(Json::parse(R"({"matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                             {"key": "canary", "operator": "DoesNotExist"}]})"));
    QVERIFY(s.matches(Json{{"app", "web"}, {"tier", "a"}}));
    QVERIFY(!s.matches(Json{{"app", "web"}, {"tier", "c"}}));
    QVERIFY(!s.matches(Json{{"app", "web"}, {"tier", "a"}, {"canary", "yes"}}));
    QVERIFY(!s.matches(Json()));
    QVERIFY(LabelSelector::from_json(Json()).matches(Json()));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             LabelSelector::from_json(Json::parse(R"({"matchExpressions": [{"key": "a", "operator": "Near"}]})")));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LabelSelector::from_map(Json{{"app", 3}}));
  }

  void selectors_from_queries() {
    const auto s = LabelSelector::parse("app=web, tier!=db,env in (prod, stage),!canary,team");
    QVERIFY(s.matches(Json{{"app", "web"}, {"env", "prod"}, {"team", "x"}}));
    QVERIFY(!s.matches(Json{{"app", "web"}, {"env", "prod"}, {"team", "x"}, {"tier", "db"}}));
    QVERIFY(!s.matches(Json{{"app", "web"}, {"env", "dev"}, {"team", "x"}}));
    QVERIFY(!s.matches(Json{{"app", "web"}, {"env", "prod"}}));
    QCOMPARE(LabelSelector::parse("a==b").to_string(), std::string("a=b"));
    QCOMPARE(LabelSelector::parse(s.to_string()).to_string(), s.to_string());
    QVERIFY(LabelSelector::parse("").empty());
    for (const char* bad : {"a in b", "a in (", "=b", "a,,b", "a ~ b", "a notin ()"})
      QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LabelSelector::parse(bad));
  }

  void int_or_percent() {
    QCOMPARE(resolve_int_or_percent(3, 10, true), 3);
    QCOMPARE(resolve_int_or_percent("25%", 10, true), 3);
    QCOMPARE(resolve_int_or_percent("25%", 10, false), 2);
    QCOMPARE(resolve_int_or_percent("0%", 10, true), 0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, resolve_int_or_percent("25", 10, true));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, resolve_int_or_percent(Json(), 10, true));
  }
};

QTEST_GUILESS_MAIN(ObjectsTest)
#include "tst_sim_objects.moc"
