// Client-side load balancing without sockets: the policies' fairness, Envoy's outlier ejection
// (consecutive failures, growing ejection time, the 10% / at-least-one cap) on a FakeClock, and
// the per-endpoint request limit.
#include <QtTest>

#include <map>

#include "gateway/load_balancer.h"
#include "metric_value.h"
#include <prometheus/registry.h>

using namespace mambogo::gateway;
using mambogo::runtime::FakeClock;
using namespace std::chrono_literals;

namespace {

std::vector<std::shared_ptr<Endpoint>> hosts(int n) {
  std::vector<std::shared_ptr<Endpoint>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_shared<Endpoint>(EndpointAddress{"10.0.0." + std::to_string(i + 1), 8080}, nullptr));
  return out;
}

// Picks and immediately releases `n` times; counts per host.
std::map<std::string, int> spread(EndpointSet& set, int n) {
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) {
    Pick p = set.pick();
    if (p.result != Pick::Result::ok) return {};
    ++counts[p.endpoint->address().host];
    set.release(*p.endpoint, EndpointOutcome::success);
  }
  return counts;
}

void fail(EndpointSet& set, const std::string& host, int times) {
  for (int i = 0; i < times;) {
    Pick p = set.pick();
    QVERIFY(p.result == Pick::Result::ok);
    const bool target = p.endpoint->address().host == host;
    set.release(*p.endpoint, target ? EndpointOutcome::server_error : EndpointOutcome::success);
    i += target ? 1 : 0;
  }
}

bool is_ejected(EndpointSet& set, const std::string& host) {
  for (const auto& s : set.status())
    if (s.address.host == host) return s.ejected;
  return false;
}

}  // namespace

class TestLoadBalancer : public QObject {
  Q_OBJECT
 private slots:
  void roundRobinVisitsEveryEndpointInTurn() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 100, clock, nullptr);
    set.set_endpoints(hosts(3));
    auto counts = spread(set, 300);
    QCOMPARE(counts.size(), std::size_t(3));
    for (const auto& [host, n] : counts) QCOMPARE(n, 100);
  }

  void randomAndLeastRequestSpreadEvenly_data() {
    QTest::addColumn<int>("policy");
    QTest::newRow("random") << int(LbPolicy::random);
    QTest::newRow("least_request") << int(LbPolicy::least_request);
  }
  void randomAndLeastRequestSpreadEvenly() {
    QFETCH(int, policy);
    FakeClock clock;
    EndpointSet set("svc", LbPolicy(policy), {}, 100, clock, nullptr, 42);
    set.set_endpoints(hosts(4));
    auto counts = spread(set, 4000);
    QCOMPARE(counts.size(), std::size_t(4));
    for (const auto& [host, n] : counts) QVERIFY2(n > 850 && n < 1150, qPrintable(QString::fromStdString(host) + " " + QString::number(n)));
  }

  void leastRequestPrefersTheLessLoadedEndpoint() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::least_request, {}, 1000, clock, nullptr, 7);
    set.set_endpoints(hosts(2));
    // One request in flight on host 1; with two endpoints P2C always compares both.
    Pick held;
    for (int i = 0; i < 1000 && !held.endpoint; ++i) {
      Pick p = set.pick();
      if (p.endpoint->address().host == "10.0.0.1") held = p;
      else set.release(*p.endpoint, EndpointOutcome::success);
    }
    QVERIFY(held.endpoint);
    // Now the idle host wins every choice.
    for (int i = 0; i < 100; ++i) {
      Pick p = set.pick();
      QCOMPARE(QString::fromStdString(p.endpoint->address().host), QString("10.0.0.2"));
      set.release(*p.endpoint, EndpointOutcome::success);
    }
    set.release(*held.endpoint, EndpointOutcome::success);
  }

  void fiveConsecutiveFailuresEjectForBaseTimeTimesEjections() {
    FakeClock clock;
    prometheus::Registry registry;
    OutlierSettings o;  // Envoy defaults: 5 in a row, 30 s base, 10% (at least one)
    EndpointSet set("svc", LbPolicy::round_robin, o, 100, clock, &registry);
    set.set_endpoints(hosts(3));
    fail(set, "10.0.0.1", 4);
    QVERIFY(!is_ejected(set, "10.0.0.1"));
    fail(set, "10.0.0.1", 1);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    QCOMPARE(mambogo::test::metric_value(registry, "gateway_outlier_ejections_total", {{"service", "svc"}}), 1.0);
    QCOMPARE(mambogo::test::metric_value(registry, "gateway_endpoints", {{"state", "ejected"}}), 1.0);
    auto counts = spread(set, 100);
    QCOMPARE(counts.count("10.0.0.1"), std::size_t(0));

    clock.advance(29s);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    clock.advance(1s);  // 30 s x 1
    QVERIFY(!is_ejected(set, "10.0.0.1"));
    QVERIFY(spread(set, 30).at("10.0.0.1") == 10);

    fail(set, "10.0.0.1", 5);  // second ejection: 60 s
    QVERIFY(is_ejected(set, "10.0.0.1"));
    clock.advance(59s);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    clock.advance(1s);
    QVERIFY(!is_ejected(set, "10.0.0.1"));
  }

  void aSuccessResetsTheFailureStreak() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 100, clock, nullptr);
    set.set_endpoints(hosts(1));
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 4; ++i) {
        Pick p = set.pick();
        set.release(*p.endpoint, EndpointOutcome::connect_failure);
      }
      Pick p = set.pick();
      set.release(*p.endpoint, EndpointOutcome::success);
    }
    QVERIFY(!is_ejected(set, "10.0.0.1"));
    // Local errors (our own timeout) say nothing about the endpoint.
    for (int i = 0; i < 10; ++i) {
      Pick p = set.pick();
      set.release(*p.endpoint, EndpointOutcome::local_error);
    }
    QVERIFY(!is_ejected(set, "10.0.0.1"));
  }

  void atMostTenPercentAreEjectedButAtLeastOne_data() {
    QTest::addColumn<int>("hosts");
    QTest::addColumn<int>("ejectable");
    QTest::newRow("3 hosts: one") << 3 << 1;
    QTest::newRow("20 hosts: two") << 20 << 2;
  }
  void atMostTenPercentAreEjectedButAtLeastOne() {
    QFETCH(int, hosts);
    QFETCH(int, ejectable);
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 100, clock, nullptr);
    set.set_endpoints(::hosts(hosts));
    for (int i = 0; i < hosts * 6; ++i) {  // every host fails at least five times in a row
      Pick p = set.pick();
      set.release(*p.endpoint, EndpointOutcome::server_error);
    }
    int ejected = 0;
    for (const auto& s : set.status()) ejected += s.ejected ? 1 : 0;
    QCOMPARE(ejected, ejectable);
  }

  void aSingleEjectedHostIsStillUsedInPanic() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 100, clock, nullptr);
    set.set_endpoints(hosts(1));
    fail(set, "10.0.0.1", 5);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    Pick p = set.pick();
    QVERIFY(p.result == Pick::Result::ok);
    set.release(*p.endpoint, EndpointOutcome::success);
  }

  void requestLimitPerEndpointOverflows() {
    FakeClock clock;
    prometheus::Registry registry;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 2, clock, &registry);
    set.set_endpoints(hosts(1));
    Pick a = set.pick(), b = set.pick();
    QVERIFY(a.result == Pick::Result::ok && b.result == Pick::Result::ok);
    QVERIFY(set.pick().result == Pick::Result::overflow);
    QCOMPARE(mambogo::test::metric_value(registry, "gateway_upstream_overflow_total"), 1.0);
    set.release(*a.endpoint, EndpointOutcome::success);
    Pick c = set.pick();
    QVERIFY(c.result == Pick::Result::ok);
    set.release(*b.endpoint, EndpointOutcome::success);
    set.release(*c.endpoint, EndpointOutcome::success);
  }

  void noEndpointsIsReported() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::random, {}, 2, clock, nullptr);
    QVERIFY(set.pick().result == Pick::Result::no_endpoints);
  }

  void replacingTheListKeepsTheStateOfKnownEndpoints() {
    FakeClock clock;
    EndpointSet set("svc", LbPolicy::round_robin, {}, 100, clock, nullptr);
    auto list = hosts(3);
    set.set_endpoints(list);
    fail(set, "10.0.0.1", 5);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    auto again = std::vector<std::shared_ptr<Endpoint>>{set.find({"10.0.0.1", 8080}), set.find({"10.0.0.2", 8080}),
                                                        std::make_shared<Endpoint>(EndpointAddress{"10.0.0.9", 8080}, nullptr)};
    set.set_endpoints(again);
    QVERIFY(is_ejected(set, "10.0.0.1"));
    QCOMPARE(set.status().size(), std::size_t(3));
    QVERIFY(!set.find({"10.0.0.3", 8080}));
  }

  void policyNamesParse() {
    QVERIFY(parse_lb_policy("least_request") == LbPolicy::least_request);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_lb_policy("fastest"));
  }
};

QTEST_GUILESS_MAIN(TestLoadBalancer)
#include "tst_load_balancer.moc"
