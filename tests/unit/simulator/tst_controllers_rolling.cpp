// Rolling-update arithmetic of the Deployment controller, against Kubernetes' documented rules
// (concepts/workloads/controllers/deployment.md): maxSurge rounds up, maxUnavailable rounds
// down, both zero → one unavailable; a rollout never exceeds replicas + maxSurge pods nor goes
// below replicas − maxUnavailable available ones; scaling mid-rollout is proportional.
#include <QtTest>

#include "controllers/deployment_util.h"

using namespace mambogo::sim::deploy;
using nlohmann::json;

namespace {

struct Model {
  RsView new_rs{"web-new", 0, 0, 0, "2026-01-02T00:00:00Z", {}, {}};
  RsView old_rs{"web-old", 0, 0, 0, "2026-01-01T00:00:00Z", {}, {}};

  void apply(const std::vector<ScaleAction>& actions) {
    for (const ScaleAction& a : actions) {
      RsView& rs = a.name == new_rs.name ? new_rs : old_rs;
      QCOMPARE(a.from, rs.replicas);
      rs.replicas = a.to;
      // Scaling down removes not-ready pods first, so availability drops only below replicas.
      rs.available = std::min(rs.available, rs.replicas);
    }
  }
  void all_ready() {
    new_rs.available = new_rs.replicas;
    old_rs.available = old_rs.replicas;
  }
};

}  // namespace

class TestControllersRolling : public QObject {
  Q_OBJECT
 private slots:
  void fenceposts_data() {
    QTest::addColumn<QString>("surge");
    QTest::addColumn<QString>("unavailable");
    QTest::addColumn<int>("replicas");
    QTest::addColumn<int>("expectedSurge");
    QTest::addColumn<int>("expectedUnavailable");
    QTest::newRow("defaults of 10") << "25%" << "25%" << 10 << 3 << 2;  // 2.5 up, 2.5 down
    QTest::newRow("defaults of 4") << "25%" << "25%" << 4 << 1 << 1;
    QTest::newRow("defaults of 3") << "25%" << "25%" << 3 << 1 << 0;     // 0.75 → 1 and 0
    QTest::newRow("both round to zero") << "0" << "10%" << 3 << 0 << 1;  // never stuck
    QTest::newRow("integers") << "1" << "0" << 3 << 1 << 0;
    QTest::newRow("half") << "50%" << "50%" << 3 << 2 << 1;
    QTest::newRow("unavailable capped at replicas") << "1" << "5" << 3 << 1 << 3;
  }
  void fenceposts() {
    QFETCH(QString, surge);
    QFETCH(QString, unavailable);
    QFETCH(int, replicas);
    auto value = [](const QString& s) { return s.endsWith('%') ? json(s.toStdString()) : json(s.toInt()); };
    Fenceposts f = resolve_fenceposts(value(surge), value(unavailable), replicas);
    QTEST(f.max_surge, "expectedSurge");
    QTEST(f.max_unavailable, "expectedUnavailable");
  }

  void paramsDefaultLikeTheApiServer() {
    Params p = params_of(json{{"replicas", 4}});
    QVERIFY(p.rolling);
    QCOMPARE(p.max_surge, 1);
    QCOMPARE(p.max_unavailable, 1);
    QCOMPARE(p.revision_history_limit, 10);
    QCOMPARE(*p.progress_deadline_seconds, 600);
    Params recreate = params_of(json{{"strategy", {{"type", "Recreate"}}}});
    QVERIFY(!recreate.rolling);
    QCOMPARE(recreate.max_surge, 0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, params_of(json{{"strategy", {{"type", "BlueGreen"}}}}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             params_of(json{{"strategy", {{"rollingUpdate", {{"maxSurge", "lots"}}}}}}));
  }

  void surgeOnlyRolloutStepsOneAtATime() {
    // 4 replicas, maxSurge 1, maxUnavailable 0: up one new, down one old, each after readiness.
    Params p = params_of(json{{"replicas", 4}, {"strategy", {{"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}}});
    Model m;
    m.old_rs.replicas = m.old_rs.available = 4;
    std::vector<std::pair<int, int>> seen;
    for (int step = 0; step < 20 && !(m.new_rs.replicas == 4 && m.old_rs.replicas == 0); ++step) {
      auto actions = plan_rolling(p, m.new_rs, {m.old_rs});
      QVERIFY2(!actions.empty(), "a rollout with ready pods always makes progress");
      m.apply(actions);
      seen.emplace_back(m.new_rs.replicas, m.old_rs.replicas);
      QVERIFY(m.new_rs.replicas + m.old_rs.replicas <= 5);
      QVERIFY(m.new_rs.available + m.old_rs.available >= 4);
      m.all_ready();
    }
    const std::vector<std::pair<int, int>> expected{{1, 4}, {1, 3}, {2, 3}, {2, 2}, {3, 2}, {3, 1}, {4, 1}, {4, 0}};
    QCOMPARE(seen, expected);
  }

  void defaultRolloutWaitsForNewPodsWithinBounds() {
    // 4 replicas with 25%/25%: at most 5 pods, at least 3 available, whatever the readiness.
    Params p = params_of(json{{"replicas", 4}});
    Model m;
    m.old_rs.replicas = m.old_rs.available = 4;
    int passes = 0;
    while (!(m.new_rs.replicas == 4 && m.old_rs.replicas == 0) && passes++ < 50) {
      auto actions = plan_rolling(p, m.new_rs, {m.old_rs});
      m.apply(actions);
      QVERIFY(m.new_rs.replicas + m.old_rs.replicas <= 5);
      QVERIFY(m.new_rs.available + m.old_rs.available >= 3);
      if (actions.empty()) m.all_ready();  // stuck until the kubelet reports new pods ready
    }
    QCOMPARE(m.new_rs.replicas, 4);
    QCOMPARE(m.old_rs.replicas, 0);
    // The first pass surges one new pod; the second may drop one old pod at once (4 available > 3).
    Model fresh;
    fresh.old_rs.replicas = fresh.old_rs.available = 4;
    fresh.apply(plan_rolling(p, fresh.new_rs, {fresh.old_rs}));
    QCOMPARE(fresh.new_rs.replicas, 1);
    fresh.apply(plan_rolling(p, fresh.new_rs, {fresh.old_rs}));
    QCOMPARE(fresh.old_rs.replicas, 3);
    fresh.apply(plan_rolling(p, fresh.new_rs, {fresh.old_rs}));
    QCOMPARE(fresh.new_rs.replicas, 2);
    QVERIFY(plan_rolling(p, fresh.new_rs, {fresh.old_rs}).empty());  // 2 new pods not ready: wait
  }

  void unhealthyOldReplicasAreRemovedFirst() {
    // Old RS of 4 with only 2 available; the new RS is full but not available: unavailable old
    // replicas go even though availability is at its minimum.
    Params p = params_of(json{{"replicas", 4}, {"strategy", {{"rollingUpdate", {{"maxSurge", 2}, {"maxUnavailable", 1}}}}}});
    RsView new_rs{"n", 2, 2, 0, "2026-01-02T00:00:00Z", {}, {}};
    RsView old_rs{"o", 4, 4, 2, "2026-01-01T00:00:00Z", {}, {}};
    auto actions = plan_rolling(p, new_rs, {old_rs});
    // all 6, minAvailable 3, new unavailable 2 → at most 1 may go; it is an unhealthy one.
    QCOMPARE(actions.size(), std::size_t(1));
    QCOMPARE(actions[0].name, std::string("o"));
    QCOMPARE(actions[0].to, 3);
  }

  void proportionalScalingMidRollout() {
    // The documented example: 10 replicas, maxSurge 3, maxUnavailable 2, rollout stuck with
    // 8 old and 5 new; scaling to 15 allows 18 pods: +3 for the old RS, +2 for the new one.
    Params p = params_of(json{{"replicas", 15}, {"strategy", {{"rollingUpdate", {{"maxSurge", 3}, {"maxUnavailable", 2}}}}}});
    RsView old_rs{"old", 8, 8, 8, "2026-01-01T00:00:00Z", 13, 10};
    RsView new_rs{"new", 5, 5, 0, "2026-01-02T00:00:00Z", 13, 10};
    auto actions = plan_scale(p, 13, new_rs, {old_rs});
    QCOMPARE(actions.size(), std::size_t(2));
    std::map<std::string, int> to;
    for (const auto& a : actions) to[a.name] = a.to;
    QCOMPARE(to["old"], 11);
    QCOMPARE(to["new"], 7);
    // Scaling the same rollout down to 5 (allowed 8): 8×8/13 → 5 (−3), 5×8/13 → 3 (−2).
    Params down = params_of(json{{"replicas", 5}, {"strategy", {{"rollingUpdate", {{"maxSurge", 3}, {"maxUnavailable", 2}}}}}});
    to.clear();
    for (const auto& a : plan_scale(down, 13, new_rs, {old_rs})) to[a.name] = a.to;
    QCOMPARE(to["old"] + to["new"], 8);
    QCOMPARE(to["old"], 5);
  }

  void singleActiveReplicaSetTakesTheWholeScale() {
    Params p = params_of(json{{"replicas", 5}});
    RsView only{"web", 3, 3, 3, "2026-01-01T00:00:00Z", 4, 3};
    auto actions = plan_scale(p, 3, only, {});
    QCOMPARE(actions.size(), std::size_t(1));
    QCOMPARE(actions[0].to, 5);
    QVERIFY(plan_scale(params_of(json{{"replicas", 3}}), 3, only, {}).empty());
  }

  void templateHashIsStableAndSafe() {
    json a{{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"containers", {{{"name", "app"}, {"image", "web:1"}}}}}}};
    json b = a;
    b["spec"]["containers"][0]["image"] = "web:2";
    const std::string ha = template_hash(a, std::nullopt);
    QCOMPARE(template_hash(a, std::nullopt), ha);
    QVERIFY(template_hash(b, std::nullopt) != ha);
    QVERIFY(template_hash(a, 1) != ha);
    QVERIFY(!ha.empty() && ha.size() <= 10);
    for (char c : ha) QVERIFY(std::string("bcdfghjklmnpqrstvwxz2456789").find(c) != std::string::npos);
    json labelled = a;
    labelled["metadata"]["labels"]["pod-template-hash"] = ha;
    QVERIFY(equal_ignore_hash(a, labelled));
    QVERIFY(!equal_ignore_hash(b, labelled));
  }
};

QTEST_APPLESS_MAIN(TestControllersRolling)
#include "tst_controllers_rolling.moc"
