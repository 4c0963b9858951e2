// Tables as kubectl get prints them: columns, cells and kubectl's age format.
#include <QtTest>

#include "apiserver/resources.h"
#include "apiserver/table.h"

using namespace mambogo::sim;
using namespace mambogo::sim::api;
using Clock = std::chrono::system_clock;

namespace {

const Clock::time_point kNow = Clock::from_time_t(1'800'000'000);  // 2027-01-15T08:00:00Z
const char* kCreated = "2027-01-15T07:58:20Z";                     // 100 s before kNow

const ResourceInfo& info(const std::string& group, const std::string& version, const std::string& plural) {
  return *find_resource(group, version, plural);
}

std::vector<std::string> column_names(const Json& table, int priority) {
  std::vector<std::string> names;
  for (const auto& c : table["columnDefinitions"])
    if (c["priority"].get<int>() <= priority) names.push_back(c["name"]);
  return names;
}

Json pod(const std::string& phase, bool ready, int restarts, const Json& state) {
  return {{"metadata", {{"name", "web-1"}, {"namespace", "default"}, {"creationTimestamp", kCreated}}},
          {"spec", {{"nodeName", "mambogo-local"}, {"containers", {{{"name", "app"}}, {{"name", "side"}}}}}},
          {"status",
           {{"phase", phase},
            {"podIP", "127.0.1.5"},
            {"containerStatuses",
             {{{"name", "app"}, {"ready", ready}, {"restartCount", restarts}, {"state", state}},
              {{"name", "side"}, {"ready", true}, {"restartCount", 0}, {"state", {{"running", Json::object()}}}}}}}}};
}

}  // namespace

class TableTest : public QObject {
  Q_OBJECT

 private slots:
  void human_duration_matches_kubectl_data() {
    QTest::addColumn<long long>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("now") << 0LL << "0s";
    QTest::newRow("clock skew") << -1LL << "0s";
    QTest::newRow("far future") << -5LL << "<invalid>";
    QTest::newRow("seconds") << 119LL << "119s";
    QTest::newRow("minutes and seconds") << 200LL << "3m20s";
    QTest::newRow("whole minutes") << 300LL << "5m";
    QTest::newRow("minutes") << 3000LL << "50m";
    QTest::newRow("hours and minutes") << 3 * 3600LL + 60 << "3h1m";
    QTest::newRow("hours") << 20 * 3600LL << "20h";
    QTest::newRow("days and hours") << 3 * 86400LL + 7200 << "3d2h";
    QTest::newRow("days") << 40 * 86400LL << "40d";
    QTest::newRow("years and days") << 800 * 86400LL << "2y70d";
  }
  void human_duration_matches_kubectl() {
    QFETCH(long long, seconds);
    QFETCH(QString, text);
    QCOMPARE(QString::fromStdString(human_duration(std::chrono::seconds(seconds))), text);
  }

  void pods_show_ready_status_restarts_and_wide_columns() {
    const Json table = build_table(info("", "v1", "pods"),
                                   {pod("Running", true, 0, {{"running", Json::object()}}),
                                    pod("Running", false, 4, {{"waiting", {{"reason", "CrashLoopBackOff"}}}})},
                                   "v1", IncludeObject::metadata, kNow);
    QCOMPARE(table["kind"], "Table");
    QCOMPARE(table["apiVersion"], "meta.k8s.io/v1");
    QCOMPARE(column_names(table, 0), (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age"}));
    QCOMPARE(column_names(table, 1).size(), std::size_t{9});
    const Json& ok = table["rows"][0]["cells"];
    QCOMPARE(ok[0], "web-1");
    QCOMPARE(ok[1], "2/2");
    QCOMPARE(ok[2], "Running");
    QCOMPARE(ok[3].get<int>(), 0);
    QCOMPARE(ok[4], "100s");
    QCOMPARE(ok[5], "127.0.1.5");
    QCOMPARE(ok[6], "mambogo-local");
    const Json& crashing = table["rows"][1]["cells"];
    QCOMPARE(crashing[1], "1/2");
    QCOMPARE(crashing[2], "CrashLoopBackOff");
    QCOMPARE(crashing[3].get<int>(), 4);
    QCOMPARE(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
    QCOMPARE(table["rows"][0]["object"]["metadata"]["name"], "web-1");
  }

  void deleting_pod_is_terminating() {
    Json p = pod("Running", true, 0, {{"running", Json::object()}});
    p["metadata"]["deletionTimestamp"] = kCreated;
    const Json table = build_table(info("", "v1", "pods"), {p}, "v1", IncludeObject::none, kNow);
    QCOMPARE(table["rows"][0]["cells"][2], "Terminating");
    QVERIFY(!table["rows"][0].contains("object"));
  }

  void deployments_and_services_data() {
    const Json deploy = {{"metadata", {{"name", "web"}, {"creationTimestamp", kCreated}}},
                         {"spec",
                          {{"replicas", 3},
                           {"selector", {{"matchLabels", {{"app", "web"}}}}},
                           {"template", {{"spec", {{"containers", {{{"name", "app"}, {"image", "web:1"}}}}}}}}}},
                         {"status", {{"readyReplicas", 2}, {"updatedReplicas", 3}, {"availableReplicas", 2}}}};
    const Json table = build_table(info("apps", "v1", "deployments"), {deploy}, "v1", IncludeObject::object, kNow);
    QCOMPARE(column_names(table, 0), (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age"}));
    QCOMPARE(table["rows"][0]["cells"], Json::parse(R"(["web", "2/3", 3, 2, "100s", "app", "web:1", "app=web"])"));
    QCOMPARE(table["rows"][0]["object"], deploy);

    const Json lb = {{"metadata", {{"name", "gateway"}, {"creationTimestamp", kCreated}}},
                     {"spec",
                      {{"type", "LoadBalancer"},
                       {"clusterIP", "127.0.2.1"},
                       {"selector", {{"app", "gateway"}}},
                       {"ports", {{{"port", 8080}, {"protocol", "TCP"}, {"nodePort", 30000}}}}}}};
    Json served = lb;
    served["status"]["loadBalancer"]["ingress"] = {{{"ip", "127.0.0.1"}}};
    const Json services = build_table(info("", "v1", "services"), {lb, served}, "v1beta1", IncludeObject::none, kNow);
    QCOMPARE(services["apiVersion"], "meta.k8s.io/v1beta1");
    QCOMPARE(column_names(services, 0),
             (std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"}));
    QCOMPARE(services["rows"][0]["cells"], Json::parse(R"(["gateway", "LoadBalancer", "127.0.2.1", "<pending>", "8080:30000/TCP", "100s", "app=gateway"])"));
    QCOMPARE(services["rows"][1]["cells"][3], "127.0.0.1");
  }

  void hpa_targets_show_current_over_target() {
    Json hpa = Json::parse(R"({"metadata": {"name": "order"},
      "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "order-service"}, "minReplicas": 2, "maxReplicas": 10,
               "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]},
      "status": {"currentReplicas": 3}})");
    hpa["metadata"]["creationTimestamp"] = kCreated;
    const auto& r = info("autoscaling", "v2", "horizontalpodautoscalers");
    Json table = build_table(r, {hpa}, "v1", IncludeObject::none, kNow);
    QCOMPARE(column_names(table, 0),
             (std::vector<std::string>{"Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"}));
    QCOMPARE(table["rows"][0]["cells"], Json::parse(R"(["order", "Deployment/order-service", "cpu: <unknown>/70%", 2, 10, 3, "100s"])"));
    hpa["status"]["currentMetrics"] = Json::parse(R"([{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 45, "averageValue": "45m"}}}])");
    table = build_table(r, {hpa}, "v1", IncludeObject::none, kNow);
    QCOMPARE(table["rows"][0]["cells"][2], "cpu: 45%/70%");
  }

  void events_and_unknown_kinds() {
    const Json ev = Json::parse(R"({"metadata": {"name": "web.1"}, "type": "Normal", "reason": "Scheduled", "message": "ok",
      "involvedObject": {"kind": "Pod", "name": "web-1"}, "count": 2, "source": {"component": "kubelet"}})");
    Json e = ev;
    e["lastTimestamp"] = kCreated;
    const Json table = build_table(info("", "v1", "events"), {e}, "v1", IncludeObject::none, kNow);
    QCOMPARE(column_names(table, 0), (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Message"}));
    QCOMPARE(table["rows"][0]["cells"][3], "pod/web-1");
    QCOMPARE(table["rows"][0]["cells"][0], "100s");
    const Json metrics = build_table(info("metrics.k8s.io", "v1beta1", "pods"), {e}, "v1", IncludeObject::none, kNow);
    QCOMPARE(column_names(metrics, 0), (std::vector<std::string>{"Name", "Created At"}));
  }
};

QTEST_APPLESS_MAIN(TableTest)
#include "tst_apiserver_table.moc"
