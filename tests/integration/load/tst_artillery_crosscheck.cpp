// The seed's Artillery plan run by Artillery itself and by mambogo-load against the same
// server (tests/bench/artillery_crosscheck): what must agree whatever the timing — the same
// scenarios and endpoints, counts per endpoint within a binomial bound of the plan's arrivals
// for both tools, each tool's count equal to what the server received, the same status
// classes. Latencies are only printed (the bench compares them). Skips when Artillery is not
// installed (tests/bench/artillery_crosscheck/install-artillery.sh).
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "crosscheck.h"

using namespace mambogo::crosscheck;

namespace {

// n arrivals, each in the scenario with probability p: 5 standard deviations (a false alarm
// about once in 1.7 million runs), and at least 3 for tiny plans.
double bound(double n, double p) { return std::max(3.0, 5.0 * std::sqrt(n * p * (1.0 - p))); }

std::int64_t served(const std::map<std::string, std::map<std::string, std::int64_t>>& server, const std::string& e) {
  std::int64_t n = 0;
  if (auto it = server.find(e); it != server.end())
    for (const auto& [code, c] : it->second) n += c;
  return n;
}

}  // namespace

class TestArtilleryCrosscheck : public QObject {
  Q_OBJECT

  Result result_;

 private slots:
  void initTestCase() {
    Options o;
    o.artillery = find_artillery(qEnvironmentVariable("MAMBOGO_BUILD_DIR").toStdString());
    if (o.artillery.empty())
      QSKIP("artillery is not installed: run tests/bench/artillery_crosscheck/install-artillery.sh "
            "(or set MAMBOGO_ARTILLERY to its executable)");
    o.plan = MAMBOGO_SCENARIOS_DIR "/artillery-load-test.yml";
    o.mambogo_load = MAMBOGO_LOAD_BINARY;
    o.server = MAMBOGO_CROSSCHECK_SERVER;
    o.plugin_dir = MAMBOGO_ARTILLERY_PLUGINS;
    o.rate_scale = 0.2;   // 2, 10, 20 arrivals/s
    o.time_scale = 0.05;  // for 3, 15, 6 s: 276 arrivals
    o.server_delay_ms = 1;
    QTemporaryDir work;
    QVERIFY(work.isValid());
    o.work_dir = work.path().toStdString();
    try {
      result_ = run(o);
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    qInfo().noquote() << QString::fromStdString(format(result_));
  }

  void bothToolsStartThePlannedArrivals() {
    QCOMPARE(result_.planned.arrivals, std::int64_t{276});
    QCOMPARE(result_.mambogo.arrivals, result_.planned.arrivals);  // exact by construction
    // Artillery's arrival timers may round a phase's last arrival either way.
    QVERIFY2(std::abs(result_.artillery.arrivals - result_.planned.arrivals) <= 3,
             qPrintable(QString::number(result_.artillery.arrivals)));
  }

  void theSameScenariosAreRunWithinTheirWeights() {
    for (const auto* tool : {&result_.artillery, &result_.mambogo}) {
      QCOMPARE(tool->scenarios.size(), result_.planned.scenario_weight.size());
      for (const auto& [name, weight] : result_.planned.scenario_weight) {
        const double n = static_cast<double>(result_.planned.arrivals);
        const double got = static_cast<double>(tool->scenarios.at(name));
        QVERIFY2(std::abs(got - n * weight) <= bound(n, weight),
                 qPrintable(QString("%1: %2 ran '%3' %4 times, expected %5 ± %6")
                                .arg(QString::fromStdString(tool->tool))
                                .arg(QString::fromStdString(tool->tool))
                                .arg(QString::fromStdString(name))
                                .arg(got)
                                .arg(n * weight)
                                .arg(bound(n, weight))));
      }
    }
  }

  void theSameEndpointsAreHitAsOftenAsTheirScenarios() {
    // The seed: each scenario's two requests run once per virtual user.
    const std::map<std::string, std::string> scenario_of = {
        {"/api/orders", "Order Creation Flow"},
        {"/api/orders/{{ orderId }}", "Order Creation Flow"},
        {"/api/products", "Product Browsing"},
        {"/api/products/{{ $randomUUID() }}", "Product Browsing"},
    };
    for (const auto* tool : {&result_.artillery, &result_.mambogo}) {
      QStringList seen;
      for (const auto& [name, e] : tool->endpoints) seen << QString::fromStdString(name);
      QCOMPARE(seen, QStringList({"/api/orders", "/api/orders/{{ orderId }}", "/api/products",
                                  "/api/products/{{ $randomUUID() }}"}));
      for (const auto& [endpoint, scenario] : scenario_of) {
        const auto& e = tool->endpoints.at(endpoint);
        QCOMPARE(e.errors, std::int64_t{0});
        QCOMPARE(e.requests, tool->scenarios.at(scenario));  // every flow ran to its end
        const double n = static_cast<double>(result_.planned.arrivals);
        const double p = result_.planned.scenario_weight.at(scenario);
        QVERIFY(std::abs(static_cast<double>(e.requests) - n * p) <= bound(n, p));
      }
    }
  }

  void eachToolCountsWhatTheServerReceived() {
    for (const auto& [name, e] : result_.artillery.endpoints)
      QCOMPARE(served(result_.server_artillery, name), e.requests);
    for (const auto& [name, e] : result_.mambogo.endpoints)
      QCOMPARE(served(result_.server_mambogo, name), e.requests);
  }

  void statusClassesAreTheSame() {
    for (const auto& [name, a] : result_.artillery.endpoints) {
      const auto& m = result_.mambogo.endpoints.at(name);
      QStringList ca, cm;
      for (const auto& [cls, n] : a.classes) ca << QString::fromStdString(cls);
      for (const auto& [cls, n] : m.classes) cm << QString::fromStdString(cls);
      QCOMPARE(ca, cm);
      QCOMPARE(ca, QStringList{"2xx"});  // every request of the seed is valid for the server
    }
    // The server's exact codes agree too: 201 for orders, 200 for the reads.
    QCOMPARE(result_.server_artillery.at("/api/orders").count("201"), std::size_t{1});
    QCOMPARE(result_.server_mambogo.at("/api/orders").count("201"), std::size_t{1});
    for (const auto* server : {&result_.server_artillery, &result_.server_mambogo})
      for (const auto& [endpoint, codes] : *server) QCOMPARE(codes.size(), std::size_t{1});
  }
};

QTEST_GUILESS_MAIN(TestArtilleryCrosscheck)
#include "tst_artillery_crosscheck.moc"
