// The HPA decision against cases computed by hand from Kubernetes' documentation
// (tasks/run-application/horizontal-pod-autoscale.md): desired = ceil(current × metric/target),
// tolerance 0.1, set-aside pods counted conservatively, the largest metric wins, stabilization
// windows, scaling policies and the min/max limits with their condition reasons.
#include <QtTest>

#include "controllers/hpa_algorithm.h"

using namespace mambogo::sim::hpa;
using namespace std::chrono_literals;

namespace {

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 56);

// A running pod, started long ago, ready for long, with one container "app".
PodInfo pod(const std::string& name, std::int64_t cpu_request, std::optional<std::int64_t> cpu_usage) {
  PodInfo p;
  p.name = name;
  p.ready = true;
  p.start_time = kNow - 1h;
  p.ready_transition = kNow - 50min;
  p.measured = cpu_usage.has_value();
  p.metrics_timestamp = kNow - 5s;
  p.metrics_window = 15s;
  ContainerInfo c;
  c.name = "app";
  c.requests_milli["cpu"] = cpu_request;
  if (cpu_usage) c.usage_milli["cpu"] = *cpu_usage;
  p.containers.push_back(c);
  return p;
}

MetricSpec cpu_utilization(std::int32_t percent) { return MetricSpec{"Resource", "cpu", "", TargetType::utilization, percent, 0}; }

Spec spec(std::int32_t min, std::int32_t max, std::vector<MetricSpec> metrics) {
  Spec s;
  s.min_replicas = min;
  s.max_replicas = max;
  s.metrics = std::move(metrics);
  return s;
}

const Condition* find(const Decision& d, const std::string& type) {
  const Condition* last = nullptr;
  for (const Condition& c : d.conditions)
    if (c.type == type) last = &c;
  return last;
}

std::string reason(const Decision& d, const std::string& type) {
  const Condition* c = find(d, type);
  return c ? c->reason : std::string("<none>");
}

}  // namespace

class TestHpaAlgorithm : public QObject {
  Q_OBJECT
 private slots:
  void ratioWithinToleranceKeepsReplicas_data() {
    QTest::addColumn<int>("usage");
    QTest::addColumn<int>("expected");
    // 3 pods requesting 200m, target 70%.
    QTest::newRow("75% is within 10% of 70%") << 150 << 3;       // 75/70 = 1.071
    QTest::newRow("90% scales to ceil(3*90/70)=4") << 180 << 4;  // 1.286 → 3.86 → 4
    QTest::newRow("20% scales to ceil(3*20/70)=1") << 40 << 1;   // 0.286 → 0.86 → 1
    QTest::newRow("64% is within tolerance") << 128 << 3;        // 64/70 = 0.914
  }
  void ratioWithinToleranceKeepsReplicas() {
    QFETCH(int, usage);
    QFETCH(int, expected);
    std::vector<PodInfo> pods{pod("a", 200, usage), pod("b", 200, usage), pod("c", 200, usage)};
    Proposal p = resource_replicas(pods, cpu_utilization(70), 3, Options{}, kNow);
    QVERIFY2(p.error.empty(), p.error.c_str());
    QCOMPARE(p.replicas, expected);
    QCOMPARE(*p.utilization, usage * 100 / 200);
    QCOMPARE(p.average_milli, static_cast<std::int64_t>(usage));
  }

  void unreadyPodsCountAsZeroOnScaleUp() {
    // 3 ready pods at 100% of 100m, 1 pod not ready yet; target 50%. Ready pods alone: ratio 2.
    // The unready pod counts as 0: 300m / 400m = 75% → ratio 1.5 → ceil(1.5 × 4) = 6.
    std::vector<PodInfo> pods{pod("a", 100, 100), pod("b", 100, 100), pod("c", 100, 100), pod("d", 100, 100)};
    pods[3].ready = false;
    pods[3].start_time = kNow - 20s;
    pods[3].ready_transition = kNow - 20s;
    Proposal p = resource_replicas(pods, cpu_utilization(50), 4, Options{}, kNow);
    QVERIFY2(p.error.empty(), p.error.c_str());
    QCOMPARE(p.replicas, 6);
    QCOMPARE(*p.utilization, 100);  // the reported utilization is the measured one
  }

  void unreadyPodsThatFlipTheDirectionKeepReplicas() {
    // 3 ready pods at 60% (ratio 1.2 against 50%), 3 unready: with those at 0, 180m/600m = 30%
    // → ratio 0.6, a scale down: the direction flipped, so the replicas stay.
    std::vector<PodInfo> pods;
    for (const char* n : {"a", "b", "c"}) pods.push_back(pod(n, 100, 60));
    for (const char* n : {"d", "e", "f"}) {
      PodInfo p = pod(n, 100, 90);
      p.ready = false;
      p.start_time = kNow - 10s;
      p.ready_transition = kNow - 10s;
      pods.push_back(p);
    }
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 6, Options{}, kNow).replicas, 6);
  }

  void unreadyPodsAreDroppedOnScaleDown() {
    // Ready pods at 10% of target 50: ratio 0.2; the unready pod is neither counted nor added back.
    std::vector<PodInfo> pods{pod("a", 100, 10), pod("b", 100, 10), pod("c", 100, 90)};
    pods[2].ready = false;
    pods[2].start_time = kNow - 10s;
    pods[2].ready_transition = kNow - 10s;
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 3, Options{}, kNow).replicas, 1);  // ceil(0.2 × 2)
  }

  void missingMetricsCountAsFullOnScaleDown() {
    // 5 pods, 4 measured at 10m of 100m, 1 without metrics; target 50%: ratio 0.2. The missing pod
    // counts as 100%: (40 + 100) / 500 = 28% → ratio 0.56 → ceil(0.56 × 5) = 3.
    std::vector<PodInfo> pods{pod("a", 100, 10), pod("b", 100, 10), pod("c", 100, 10), pod("d", 100, 10),
                              pod("e", 100, std::nullopt)};
    Proposal p = resource_replicas(pods, cpu_utilization(50), 5, Options{}, kNow);
    QVERIFY2(p.error.empty(), p.error.c_str());
    QCOMPARE(p.replicas, 3);
    QCOMPARE(*p.utilization, 10);
  }

  void missingMetricsCountAsZeroOnScaleUp() {
    // 3 measured at 100% against 50% (ratio 2), 1 missing counted as 0: 300/400 = 75% → 1.5 × 4 = 6.
    std::vector<PodInfo> pods{pod("a", 100, 100), pod("b", 100, 100), pod("c", 100, 100), pod("d", 100, std::nullopt)};
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 4, Options{}, kNow).replicas, 6);
  }

  void missingMetricsLandingInToleranceKeepReplicas() {
    // 2 pods at 40% (ratio 0.8 against 50%), 1 missing counted as 100%: 180/300 = 60% → ratio 1.2,
    // the direction flipped → stay at 3.
    std::vector<PodInfo> pods{pod("a", 100, 40), pod("b", 100, 40), pod("c", 100, std::nullopt)};
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 3, Options{}, kNow).replicas, 3);
  }

  void deletingAndFailedPodsAreIgnored() {
    std::vector<PodInfo> pods{pod("a", 100, 50), pod("b", 100, 50), pod("c", 100, 1000), pod("d", 100, 1000)};
    pods[2].deleting = true;
    pods[3].phase = "Failed";
    Proposal p = resource_replicas(pods, cpu_utilization(50), 4, Options{}, kNow);
    QCOMPARE(*p.utilization, 50);
    QCOMPARE(p.replicas, 4);  // ratio exactly 1: the current count stays
  }

  void cpuInitializationPeriodSetsFreshSamplesAside() {
    Options o;
    // Started 1 min ago, ready 10 s ago, its 30 s window began before it was ready: set aside.
    PodInfo fresh = pod("fresh", 100, 500);
    fresh.start_time = kNow - 60s;
    fresh.ready_transition = kNow - 10s;
    fresh.metrics_timestamp = kNow;
    fresh.metrics_window = 30s;
    std::vector<PodInfo> pods{pod("a", 100, 50), fresh};
    // Ratio of "a" alone is 1.0 → no scale up with unready (ratio not > 1) → ceil(1 × 1)... within tolerance.
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 2, o, kNow).replicas, 2);
    // The same pod, past its initialization period, counts: (50 + 500) / 200 = 275% → 5.5 × 2 = 11.
    pods[1].start_time = kNow - 10min;
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 2, o, kNow).replicas, 11);
    // Past the period, not ready, never ready (readiness changed within 30 s of start): set aside.
    pods[1].ready = false;
    pods[1].ready_transition = *pods[1].start_time + 10s;
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 2, o, kNow).replicas, 2);
    // Not ready now but it was ready once (transition long after start): its sample counts.
    pods[1].ready_transition = *pods[1].start_time + 5min;
    QCOMPARE(resource_replicas(pods, cpu_utilization(50), 2, o, kNow).replicas, 11);
  }

  void averageValueTarget() {
    // Memory, AverageValue 200Mi; three pods using 300Mi: ratio 1.5 → ceil(4.5) = 5.
    const std::int64_t mi = 1024LL * 1024 * 1000;  // in millibytes
    std::vector<PodInfo> pods;
    for (const char* n : {"a", "b", "c"}) {
      PodInfo p = pod(n, 100, 10);
      p.containers[0].usage_milli["memory"] = 300 * mi;
      pods.push_back(p);
    }
    MetricSpec m{"Resource", "memory", "", TargetType::average_value, 0, 200 * mi};
    Proposal p = resource_replicas(pods, m, 3, Options{}, kNow);
    QVERIFY2(p.error.empty(), p.error.c_str());
    QCOMPARE(p.replicas, 5);
    QCOMPARE(p.average_milli, 300 * mi);
    QVERIFY(!p.utilization);
  }

  void missingRequestIsAnError() {
    std::vector<PodInfo> pods{pod("a", 100, 10)};
    pods[0].containers[0].requests_milli.clear();
    Input in{spec(1, 5, {cpu_utilization(50)}), 1, pods, kNow};
    History h;
    Decision d = decide(in, Options{}, h);
    QVERIFY(!d.computed);
    QVERIFY(!d.rescale);
    QCOMPARE(reason(d, "ScalingActive"), std::string("FailedGetResourceMetric"));
    QVERIFY(find(d, "ScalingActive")->message.find("missing request for cpu in container app of Pod a") != std::string::npos);
    QCOMPARE(d.events.front().reason, std::string("FailedGetResourceMetric"));
    QCOMPARE(d.events.back().reason, std::string("FailedComputeMetricsReplicas"));
  }

  void largestMetricWins() {
    // cpu: 3 pods at 60% of target 50 → ceil(3 × 1.2) = 4; memory at 150% of 80 → ceil(3 × 1.875) = 6.
    std::vector<PodInfo> pods;
    for (const char* n : {"a", "b", "c"}) {
      PodInfo p = pod(n, 100, 60);
      p.containers[0].requests_milli["memory"] = 1000;
      p.containers[0].usage_milli["memory"] = 1500;
      pods.push_back(p);
    }
    Input in{spec(1, 10, {cpu_utilization(50), {"Resource", "memory", "", TargetType::utilization, 80, 0}}), 3, pods, kNow};
    History h;
    Decision d = decide(in, Options{}, h);
    QVERIFY(d.rescale);
    QCOMPARE(d.desired_replicas, 6);
    QCOMPARE(d.rescale_reason, std::string("memory resource utilization (percentage of request) above target"));
    QCOMPARE(d.metrics.size(), std::size_t(2));
    QCOMPARE(*d.metrics[0].average_utilization, 60);
    QCOMPARE(*d.metrics[1].average_utilization, 150);
    QCOMPARE(reason(d, "ScalingActive"), std::string("ValidMetricFound"));
    QCOMPARE(reason(d, "ScalingLimited"), std::string("DesiredWithinRange"));
    rescaled(d, in.spec, h, kNow);
    QCOMPARE(reason(d, "AbleToScale"), std::string("SucceededRescale"));
    QCOMPARE(d.events.back().message, std::string("New size: 6; reason: memory resource utilization (percentage of request) above target"));
  }

  void legacyScaleDownWaitsForTheStabilizationWindow() {
    // No behavior: the highest recommendation of the last 300 s wins.
    Options o;
    History h;
    auto at = [&](TimePoint now, std::int64_t usage, std::int32_t current) {
      std::vector<PodInfo> pods;
      for (int i = 0; i < current; ++i) pods.push_back(pod("p" + std::to_string(i), 100, usage));
      for (auto& p : pods) p.metrics_timestamp = now;
      return decide(Input{spec(1, 10, {cpu_utilization(50)}), current, pods, now}, o, h);
    };
    Decision up = at(kNow, 100, 4);  // 200% → 8
    QCOMPARE(up.desired_replicas, 8);
    rescaled(up, spec(1, 10, {}), h, kNow);
    Decision hold = at(kNow + 60s, 20, 8);  // 20% → ceil(8 × 0.4) = 4, but 8 was recommended 60 s ago
    QVERIFY(!hold.rescale);
    QCOMPARE(hold.desired_replicas, 8);
    QCOMPARE(reason(hold, "AbleToScale"), std::string("ScaleDownStabilized"));
    Decision still = at(kNow + 299s, 20, 8);
    QVERIFY(!still.rescale);
    Decision down = at(kNow + 301s, 20, 8);  // the 8 is now older than 300 s; later ones said 4
    QVERIFY(down.rescale);
    QCOMPARE(down.desired_replicas, 4);
    QCOMPARE(down.rescale_reason, std::string("All metrics below target"));
  }

  void legacyScaleUpLimitAndReplicaBounds_data() {
    QTest::addColumn<int>("current");
    QTest::addColumn<int>("usage");  // percent of request, target 50
    QTest::addColumn<int>("min");
    QTest::addColumn<int>("max");
    QTest::addColumn<int>("expected");
    QTest::addColumn<QString>("limited");
    QTest::addColumn<QString>("limitedStatus");
    // ceil(1 × 500/50) = 10, but at most max(2 × 1, 4) = 4 at once.
    QTest::newRow("scale-up rate") << 1 << 500 << 1 << 10 << 4 << "ScaleUpLimit" << "True";
    // ceil(8 × 2) = 16 > max 10 (2 × 8 = 16 ≥ 10, so the max is what limits).
    QTest::newRow("max replicas") << 8 << 100 << 1 << 10 << 10 << "TooManyReplicas" << "True";
    // ceil(4 × 0.1) = 1 < min 3.
    QTest::newRow("min replicas") << 4 << 5 << 3 << 10 << 3 << "TooFewReplicas" << "True";
    QTest::newRow("within range") << 4 << 75 << 1 << 10 << 6 << "DesiredWithinRange" << "False";
  }
  void legacyScaleUpLimitAndReplicaBounds() {
    QFETCH(int, current);
    QFETCH(int, usage);
    QFETCH(int, min);
    QFETCH(int, max);
    QFETCH(int, expected);
    QFETCH(QString, limited);
    QFETCH(QString, limitedStatus);
    std::vector<PodInfo> pods;
    for (int i = 0; i < current; ++i) pods.push_back(pod("p" + std::to_string(i), 100, usage));
    History h;
    h.recommendations.push_back({current, kNow - 10min});  // an earlier sync, outside the window
    Decision d = decide(Input{spec(min, max, {cpu_utilization(50)}), current, pods, kNow}, Options{}, h);
    QCOMPARE(d.desired_replicas, expected);
    QCOMPARE(QString::fromStdString(reason(d, "ScalingLimited")), limited);
    QCOMPARE(QString::fromStdString(find(d, "ScalingLimited")->status), limitedStatus);
  }

  void replicasOutsideTheBoundsAreClampedFirst() {
    History h;
    std::vector<PodInfo> pods;
    for (int i = 0; i < 12; ++i) pods.push_back(pod("p" + std::to_string(i), 100, 50));
    Decision d = decide(Input{spec(3, 10, {cpu_utilization(50)}), 12, pods, kNow}, Options{}, h);
    QVERIFY(d.rescale);
    QCOMPARE(d.desired_replicas, 10);
    QCOMPARE(d.rescale_reason, std::string("Current number of replicas above Spec.MaxReplicas"));
    Decision low = decide(Input{spec(3, 10, {cpu_utilization(50)}), 1, {pods[0]}, kNow}, Options{}, h);
    QCOMPARE(low.desired_replicas, 3);
    QCOMPARE(low.rescale_reason, std::string("Current number of replicas below Spec.MinReplicas"));
  }

  void zeroReplicasDisablesScaling() {
    History h;
    Decision d = decide(Input{spec(1, 10, {cpu_utilization(50)}), 0, {}, kNow}, Options{}, h);
    QVERIFY(!d.rescale);
    QCOMPARE(d.desired_replicas, 0);
    QCOMPARE(reason(d, "ScalingActive"), std::string("ScalingDisabled"));
  }

  void behaviorPoliciesCapTheStep_data() {
    QTest::addColumn<QString>("select");
    QTest::addColumn<int>("expected");
    QTest::addColumn<QString>("limited");
    // current 10, desired 40 (usage 400% of 100%), max 50; Pods 2/60s → 12, Percent 50/60s → 15.
    QTest::newRow("Max picks the larger change") << "Max" << 15 << "ScaleUpLimit";
    QTest::newRow("Min picks the smaller change") << "Min" << 12 << "ScaleUpLimit";
    QTest::newRow("Disabled keeps the count") << "Disabled" << 10 << "ScaleUpLimit";
  }
  void behaviorPoliciesCapTheStep() {
    QFETCH(QString, select);
    QFETCH(int, expected);
    QFETCH(QString, limited);
    nlohmann::json j{{"minReplicas", 1},
                     {"maxReplicas", 50},
                     {"metrics", {{{"type", "Resource"}, {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 100}}}}}}}},
                     {"behavior",
                      {{"scaleUp",
                        {{"selectPolicy", select.toStdString()},
                         {"policies", {{{"type", "Pods"}, {"value", 2}, {"periodSeconds", 60}}, {{"type", "Percent"}, {"value", 50}, {"periodSeconds", 60}}}}}}}}};
    Spec s = parse_spec(j);
    std::vector<PodInfo> pods;
    for (int i = 0; i < 10; ++i) pods.push_back(pod("p" + std::to_string(i), 100, 400));
    History h;
    Decision d = decide(Input{s, 10, pods, kNow}, Options{}, h);
    QCOMPARE(d.desired_replicas, expected);
    QCOMPARE(QString::fromStdString(reason(d, "ScalingLimited")), limited);
    QCOMPARE(d.rescale, expected != 10);
  }

  void behaviorCountsEarlierScalingInThePeriod() {
    // Scaled 7 → 10 20 s ago; within the 60 s period the start is 7: Pods 7+2 = 9 (< current,
    // so the count stays), Percent ceil(7 × 1.5) = 11. Max → 11.
    nlohmann::json j{{"maxReplicas", 50},
                     {"behavior",
                      {{"scaleUp", {{"policies", {{{"type", "Pods"}, {"value", 2}, {"periodSeconds", 60}}, {{"type", "Percent"}, {"value", 50}, {"periodSeconds", 60}}}}}}}}};
    Spec s = parse_spec(j);
    QCOMPARE(s.metrics.front().average_utilization, 80);  // the API server's default metric
    History h;
    h.scale_up_events.push_back({3, kNow - 20s, false});
    std::vector<PodInfo> pods;
    for (int i = 0; i < 10; ++i) pods.push_back(pod("p" + std::to_string(i), 100, 400));
    Decision d = decide(Input{s, 10, pods, kNow}, Options{}, h);
    QCOMPARE(d.desired_replicas, 11);
    rescaled(d, s, h, kNow);
    QCOMPARE(h.scale_up_events.size(), std::size_t(2));
    QCOMPARE(h.scale_up_events.back().change, 1);
  }

  void behaviorScaleDownPoliciesAndWindow() {
    // current 10, usage 5% of 100% → desired 1; Percent 50/60 → int(10 × 0.5) = 5, Pods 3/60 → 7.
    nlohmann::json j{{"minReplicas", 1},
                     {"maxReplicas", 20},
                     {"metrics", {{{"type", "Resource"}, {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 100}}}}}}}},
                     {"behavior",
                      {{"scaleDown",
                        {{"stabilizationWindowSeconds", 0},
                         {"policies", {{{"type", "Percent"}, {"value", 50}, {"periodSeconds", 60}}, {{"type", "Pods"}, {"value", 3}, {"periodSeconds", 60}}}}}}}}};
    std::vector<PodInfo> pods;
    for (int i = 0; i < 10; ++i) pods.push_back(pod("p" + std::to_string(i), 100, 5));
    History h;
    Spec s = parse_spec(j);
    Decision d = decide(Input{s, 10, pods, kNow}, Options{}, h);
    QCOMPARE(d.desired_replicas, 5);
    QCOMPARE(reason(d, "ScalingLimited"), std::string("ScaleDownLimit"));
    j["behavior"]["scaleDown"]["selectPolicy"] = "Min";
    History h2;
    QCOMPARE(decide(Input{parse_spec(j), 10, pods, kNow}, Options{}, h2).desired_replicas, 7);

    // A 120 s window: a recommendation of 10 made 60 s ago holds the count.
    j["behavior"]["scaleDown"] = {{"stabilizationWindowSeconds", 120}};
    History h3;
    h3.recommendations.push_back({10, kNow - 60s});
    Decision held = decide(Input{parse_spec(j), 10, pods, kNow}, Options{}, h3);
    QVERIFY(!held.rescale);
    QCOMPARE(reason(held, "AbleToScale"), std::string("ScaleDownStabilized"));
    // After the window, the default scale-down policy (100% per 15 s) allows going straight to 1.
    History h4;
    h4.recommendations.push_back({10, kNow - 121s});
    Decision down = decide(Input{parse_spec(j), 10, pods, kNow}, Options{}, h4);
    QCOMPARE(down.desired_replicas, 1);
  }

  void defaultScaleUpBehaviorIsFourPodsOrDouble() {
    // behavior: {} → scaleUp Max of {4 pods, 100%} per 15 s, window 0. From 2: max(6, 4) = 6; from 10: 20.
    nlohmann::json j{{"maxReplicas", 100}, {"behavior", nlohmann::json::object()}};
    for (auto [current, expected] : {std::pair{2, 6}, std::pair{10, 20}}) {
      std::vector<PodInfo> pods;
      for (int i = 0; i < current; ++i) pods.push_back(pod("p" + std::to_string(i), 100, 800));
      History h;
      QCOMPARE(decide(Input{parse_spec(j), current, pods, kNow}, Options{}, h).desired_replicas, expected);
    }
  }

  void statusJsonAndQuantities() {
    QCOMPARE(format_milli_quantity(250), std::string("250m"));
    QCOMPARE(format_milli_quantity(1000), std::string("1"));
    QCOMPARE(format_milli_quantity(1500), std::string("1500m"));
    QCOMPARE(format_milli_quantity(52428800000LL), std::string("52428800"));
    QCOMPARE(format_milli_quantity(2000000000LL), std::string("2M"));
    nlohmann::json j = to_json(MetricStatus{"Resource", "cpu", "", 45, 90});
    QCOMPARE(j["resource"]["current"]["averageUtilization"].get<int>(), 45);
    QCOMPARE(j["resource"]["current"]["averageValue"].get<std::string>(), std::string("90m"));

    nlohmann::json conditions;
    set_condition(conditions, {"AbleToScale", "True", "SucceededGetScale", "m"}, "t1");
    set_condition(conditions, {"AbleToScale", "True", "ReadyForNewScale", "m2"}, "t2");
    QCOMPARE(conditions[0]["lastTransitionTime"].get<std::string>(), std::string("t1"));
    QCOMPARE(conditions[0]["reason"].get<std::string>(), std::string("ReadyForNewScale"));
    set_condition(conditions, {"AbleToScale", "False", "FailedUpdateScale", "m3"}, "t3");
    QCOMPARE(conditions[0]["lastTransitionTime"].get<std::string>(), std::string("t3"));
  }

  void parseSpecRejectsBadInput() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_spec(nlohmann::json{{"minReplicas", 1}}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_spec(nlohmann::json{{"minReplicas", 5}, {"maxReplicas", 2}}));
    nlohmann::json bad{{"maxReplicas", 3},
                       {"metrics", {{{"type", "Resource"}, {"resource", {{"name", "cpu"}, {"target", {{"type", "Value"}}}}}}}}};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parse_spec(bad));
  }

  void seedHpaParses() {
    // ../shared/seed/order-service-hpa.yaml
    nlohmann::json j = nlohmann::json::parse(R"({"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"order-service"},
      "minReplicas":3,"maxReplicas":10,"metrics":[
      {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
      {"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":80}}}]})");
    Spec s = parse_spec(j);
    QCOMPARE(s.min_replicas, 3);
    QCOMPARE(s.max_replicas, 10);
    QCOMPARE(s.metrics.size(), std::size_t(2));
    QCOMPARE(s.metrics[1].resource, std::string("memory"));
    QCOMPARE(s.metrics[1].average_utilization, 80);
    QVERIFY(!s.behavior);
  }
};

QTEST_APPLESS_MAIN(TestHpaAlgorithm)
#include "tst_hpa_algorithm.moc"
