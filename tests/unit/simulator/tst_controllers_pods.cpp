// Which pods a ReplicaSet removes first when it scales down (Kubernetes' ActivePods ranking:
// unscheduled, pending, not ready, cheaper, ready for less time, more restarts, younger), when a
// pod counts as available (minReadySeconds), and metav1.Time parsing.
#include <QtTest>

#include "controllers/object_util.h"
#include "controllers/replicaset_controller.h"

using namespace mambogo::sim;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json pod(const std::string& name, const std::string& phase, bool ready, const std::string& ready_since = "2026-01-01T00:00:00Z",
         int restarts = 0, const std::string& created = "2026-01-01T00:00:00Z") {
  json p{{"metadata", {{"name", name}, {"namespace", "default"}, {"creationTimestamp", created}}},
         {"spec", {{"nodeName", "mambogo-local"}}},
         {"status",
          {{"phase", phase},
           {"conditions", json::array({{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", ready_since}}})},
           {"containerStatuses", json::array({{{"name", "app"}, {"restartCount", restarts}}})}}}};
  return p;
}

std::vector<std::string> names(const std::vector<json>& pods) {
  std::vector<std::string> out;
  for (const json& p : pods) out.push_back(p["metadata"]["name"]);
  return out;
}

}  // namespace

class TestControllersPods : public QObject {
  Q_OBJECT
 private slots:
  void deletionRanking() {
    std::vector<json> pods{
        pod("old-ready", "Running", true, "2026-01-01T00:00:00Z", 0, "2026-01-01T00:00:00Z"),
        pod("young-ready", "Running", true, "2026-01-01T00:00:00Z", 0, "2026-01-02T00:00:00Z"),
        pod("restarting", "Running", true, "2026-01-01T00:00:00Z", 3, "2026-01-01T00:00:00Z"),
        pod("recently-ready", "Running", true, "2026-01-03T00:00:00Z", 0, "2026-01-01T00:00:00Z"),
        pod("not-ready", "Running", false),
        pod("pending", "Pending", false),
    };
    json unscheduled = pod("unscheduled", "Pending", false);
    unscheduled["spec"].erase("nodeName");
    pods.push_back(unscheduled);
    sort_pods_for_deletion(pods);
    QCOMPARE(names(pods), (std::vector<std::string>{"unscheduled", "pending", "not-ready", "recently-ready", "restarting",
                                                    "young-ready", "old-ready"}));
  }

  void deletionCostComesBeforeReadyTime() {
    std::vector<json> pods{pod("expensive", "Running", true, "2026-01-03T00:00:00Z"), pod("cheap", "Running", true)};
    pods[0]["metadata"]["annotations"]["controller.kubernetes.io/pod-deletion-cost"] = "100";
    sort_pods_for_deletion(pods);
    QCOMPARE(names(pods), (std::vector<std::string>{"cheap", "expensive"}));
  }

  void availabilityWaitsForMinReadySeconds() {
    const auto ready_at = *ctl::parse_time("2026-01-01T00:00:00Z");
    json p = pod("p", "Running", true, "2026-01-01T00:00:00Z");
    QVERIFY(ctl::is_pod_available(p, 0, ready_at));
    QVERIFY(!ctl::is_pod_available(p, 10, ready_at + 9s));
    QVERIFY(ctl::is_pod_available(p, 10, ready_at + 10s));
    QVERIFY(!ctl::is_pod_available(pod("q", "Running", false), 0, ready_at));
    json deleting = p;
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:30Z";
    QVERIFY(!ctl::is_pod_active(deleting));
    QVERIFY(ctl::is_pod_active(p));
    QVERIFY(!ctl::is_pod_active(pod("done", "Succeeded", false)));
  }

  void parsesKubernetesTimes() {
    const auto t = ctl::parse_time("2026-11-27T10:00:00Z");
    QVERIFY(t);
    QCOMPARE(ctl::format_time(*t), std::string("2026-11-27T10:00:00Z"));
    QCOMPARE(*ctl::parse_time("2026-11-27T10:00:00.500000Z") - *t, std::chrono::system_clock::duration(500ms));
    QCOMPARE(*ctl::parse_time("2026-11-27T12:00:00+02:00"), *t);
    QVERIFY(!ctl::parse_time("yesterday"));
    QVERIFY(!ctl::parse_time("2026-11-27T10:00:00"));  // no zone
  }

  void ownerReferences() {
    json owner{{"metadata", {{"name", "web-abc"}, {"uid", "u-1"}}}};
    json ref = ctl::make_controller_ref("replicasets.apps", owner);
    QCOMPARE(ref["kind"].get<std::string>(), std::string("ReplicaSet"));
    QCOMPARE(ref["apiVersion"].get<std::string>(), std::string("apps/v1"));
    json p = pod("p", "Running", true);
    p["metadata"]["ownerReferences"] = json::array({ref});
    QVERIFY(ctl::controlled_by(p, "u-1"));
    QVERIFY(!ctl::controlled_by(p, "u-2"));
  }
};

QTEST_APPLESS_MAIN(TestControllersPods)
#include "tst_controllers_pods.moc"
