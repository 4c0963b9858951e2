// What a drill sees of run-time switches: a change lands all at once or not at all, bad values
// are named, the guard decides who may look or touch, and the values are exported as metrics.
#include "metric_value.h"
#include <QtTest>

#include <nlohmann/json.hpp>

#include "runtime/admin/settings.h"
#include "runtime/metrics.h"
#include "runtime/router.h"

using namespace mambogo::runtime;
using nlohmann::json;

namespace {

struct Knobs {
  bool cache = true;
  std::int64_t pool = 20;
  double failure_rate = 0.0;
  std::string mode = "fail";
};

void register_knobs(RuntimeSettings& s, Knobs& k) {
  s.add_bool("cache.l1.enabled", "L1 on/off", [&] { return k.cache; }, [&](bool v) { k.cache = v; });
  s.add_integer("db.pool.max-size", "pool size", 1, 100, [&] { return k.pool; }, [&](std::int64_t v) { k.pool = v; });
  s.add_number("provider.failure-rate", "failure rate", 0.0, 1.0, [&] { return k.failure_rate; },
               [&](double v) { k.failure_rate = v; });
  s.add_choice("provider.outage", "outage mode", {"fail", "hang"}, [&] { return k.mode; },
               [&](const std::string& v) { k.mode = v; });
}

Response call(const Router& router, Method method, const std::string& body, const std::string& who) {
  Request r;
  r.method = method;
  r.target = "/admin/settings";
  r.body = body;
  if (!who.empty()) r.headers.push_back({"X-Test-User", who});
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  const auto m = router.match(method, "/admin/settings");
  return m.route->handler(r);
}

// A stand-in guard: "admin" passes, "user" is forbidden, nobody is unauthenticated.
std::optional<Response> test_guard(const Request& r, std::string& actor) {
  const auto who = r.header("X-Test-User");
  if (!who) return Response::error(401, "unauthorized", "token needed");
  if (*who != "admin") return Response::error(403, "forbidden", "admin only");
  actor = std::string(*who);
  return std::nullopt;
}

}  // namespace

class TstSettings : public QObject {
  Q_OBJECT

 private slots:
  void valid_changes_apply_together() {
    Knobs k;
    RuntimeSettings s;
    register_knobs(s, k);
    const auto r = s.apply({{"cache.l1.enabled", false}, {"db.pool.max-size", 5}, {"provider.outage", "hang"}});
    QVERIFY(r.ok);
    QCOMPARE(k.cache, false);
    QCOMPARE(k.pool, 5);
    QCOMPARE(k.mode, std::string("hang"));
    QCOMPARE(r.snapshot["db.pool.max-size"]["value"].get<int>(), 5);
    QCOMPARE(r.snapshot["db.pool.max-size"]["max"].get<int>(), 100);
  }

  void one_bad_value_changes_nothing_and_every_problem_is_named() {
    Knobs k;
    RuntimeSettings s;
    register_knobs(s, k);
    const auto r = s.apply({{"cache.l1.enabled", "no"},
                            {"db.pool.max-size", 0},
                            {"provider.failure-rate", 0.5},
                            {"provider.outage", "explode"},
                            {"no.such", 1}});
    QVERIFY(!r.ok);
    QCOMPARE(r.problems.size(), std::size_t(4));
    QCOMPARE(k.failure_rate, 0.0);  // the valid one was not applied either
    std::string all;
    for (const auto& p : r.problems) all += p + "\n";
    QVERIFY(all.find("cache.l1.enabled: expects true or false") != std::string::npos);
    QVERIFY(all.find("db.pool.max-size: expects a value in [1, 100]") != std::string::npos);
    QVERIFY(all.find("provider.outage: expects one of: fail, hang") != std::string::npos);
    QVERIFY(all.find("no.such: no such setting") != std::string::npos);
    QVERIFY(!s.apply({{"db.pool.max-size", 2.5}}).ok);  // integers only
    QVERIFY(s.apply({{"db.pool.max-size", 3.0}}).ok);   // 3.0 is an integer
  }

  void routes_are_guarded_and_report_problems_as_400() {
    Knobs k;
    MetricsRegistry metrics;
    RuntimeSettings s(&metrics);
    register_knobs(s, k);
    Router router;
    s.install_routes(router, test_guard);
    QCOMPARE(call(router, Method::get, "", "").status, 401);
    QCOMPARE(call(router, Method::patch, R"({"db.pool.max-size": 3})", "user").status, 403);
    QCOMPARE(k.pool, 20);

    const auto get = call(router, Method::get, "", "admin");
    QCOMPARE(get.status, 200);
    QCOMPARE(json::parse(get.body)["cache.l1.enabled"]["type"].get<std::string>(), std::string("bool"));

    const auto bad = call(router, Method::patch, R"({"db.pool.max-size": 1000})", "admin");
    QCOMPARE(bad.status, 400);
    QVERIFY(bad.body.find("invalid_setting") != std::string::npos);
    QCOMPARE(call(router, Method::patch, "not json", "admin").status, 400);

    const auto ok = call(router, Method::put, R"({"db.pool.max-size": 7, "cache.l1.enabled": false})", "admin");
    QCOMPARE(ok.status, 200);
    QCOMPARE(k.pool, 7);
    QCOMPARE(mambogo::test::metric_value(metrics.registry(), "mambogo_setting", {{"setting", "db.pool.max-size"}}), 7.0);
    QCOMPARE(mambogo::test::metric_value(metrics.registry(), "mambogo_setting", {{"setting", "cache.l1.enabled"}}), 0.0);
    QCOMPARE(mambogo::test::metric_value(metrics.registry(), "mambogo_setting_changes_total",
                                         {{"setting", "db.pool.max-size"}}),
             1.0);
  }

  void a_setter_that_refuses_is_reported() {
    RuntimeSettings s;
    s.add_integer("pool", "pool", 1, 10, [] { return 1; },
                  [](std::int64_t) { throw std::invalid_argument("below minimum-idle"); });
    const auto r = s.apply({{"pool", 2}});
    QVERIFY(!r.ok);
    QCOMPARE(r.problems.front(), std::string("pool: below minimum-idle"));
  }
};

QTEST_GUILESS_MAIN(TstSettings)
#include "tst_settings.moc"
