#include <QtTest>

#include "runtime/health.h"
#include "runtime/router.h"

using namespace mambogo::runtime;

class TestHealth : public QObject {
  Q_OBJECT
 private slots:
  void readyWhenNoCriticalCheckIsDown() {
    Health h;
    HealthStatus redis = HealthStatus::up, db = HealthStatus::up;
    h.add_check("db", [&] { return CheckResult{db, {}}; }, true);
    h.add_check("redis", [&] { return CheckResult{redis, {}}; }, false);
    QCOMPARE(h.readiness(), HealthStatus::up);
    redis = HealthStatus::down;  // non-critical: degraded, still ready
    QCOMPARE(h.readiness(), HealthStatus::degraded);
    db = HealthStatus::down;
    QCOMPARE(h.readiness(), HealthStatus::down);
    QCOMPARE(h.liveness(), HealthStatus::up);  // a dependency outage never restarts us
  }

  void drainingIsNotReady() {
    Health h;
    QCOMPARE(h.readiness(), HealthStatus::up);
    h.set_draining();
    QCOMPARE(h.readiness(), HealthStatus::down);
    QCOMPARE(h.liveness(), HealthStatus::up);
  }

  void throwingCheckCountsAsDown() {
    Health h;
    h.add_check("db", []() -> CheckResult { throw std::runtime_error("no route to host"); });
    QCOMPARE(h.readiness(), HealthStatus::down);
    auto d = h.details();
    QCOMPARE(d["components"]["db"]["details"]["error"].get<std::string>(), std::string("no route to host"));
  }

  void routesAnswerWithActuatorShapes() {
    Health h;
    h.add_check("db", [] { return CheckResult{HealthStatus::degraded, {{"lag_seconds", 4}}}; });
    Router r;
    h.install_routes(r);
    auto call = [&](const char* path) { return r.match(Method::get, path).route->handler(Request{}); };
    QCOMPARE(call("/health/live").status, 200);
    QCOMPARE(call("/actuator/health/readiness").status, 200);
    auto details = nlohmann::json::parse(call("/actuator/health").body);
    QCOMPARE(details["status"].get<std::string>(), std::string("DEGRADED"));
    QCOMPARE(details["components"]["db"]["details"]["lag_seconds"].get<int>(), 4);
    h.set_draining();
    QCOMPARE(call("/health/ready").status, 503);
    QCOMPARE(nlohmann::json::parse(call("/health/ready").body)["status"].get<std::string>(), std::string("DOWN"));
  }
};

QTEST_APPLESS_MAIN(TestHealth)
#include "tst_health.moc"
