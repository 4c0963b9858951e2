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

  // kubectl's printPod with init containers: Init:N/M while one runs (or has not started),
  // Init:<reason> when one failed or waits, PodInitializing once all completed and the app
  // containers are created; init restarts count (up to the one initializing) only until the pod is initialized.
  void pods_with_init_containers_data() {
    QTest::addColumn<QString>("phase");
    QTest::addColumn<QString>("init_states");  // JSON array of the two init containers' states
    QTest::addColumn<QString>("app_state");
    QTest::addColumn<bool>("initialized");
    QTest::addColumn<QString>("status");
    QTest::addColumn<int>("restarts");
    const char* waiting_init = R"({"waiting": {"reason": "PodInitializing"}})";
    const char* done = R"({"terminated": {"exitCode": 0, "reason": "Completed"}})";
    QTest::newRow("not started") << "Pending" << QString("[%1, %1]").arg(waiting_init) << waiting_init << false << "Init:0/2" << 1;
    QTest::newRow("first running") << "Pending" << QString(R"([{"running": {}}, %1])").arg(waiting_init) << waiting_init
                                   << false << "Init:0/2" << 1;
    QTest::newRow("second running") << "Pending" << QString(R"([%1, {"running": {}}])").arg(done) << waiting_init << false
                                    << "Init:1/2" << 2;
    QTest::newRow("second failed") << "Failed"
                                   << QString(R"([%1, {"terminated": {"exitCode": 3, "reason": "Error"}}])").arg(done)
                                   << waiting_init << false << "Init:Error" << 2;
    QTest::newRow("failed without reason") << "Pending" << QString(R"([{"terminated": {"exitCode": 2}}, %1])").arg(waiting_init)
                                           << waiting_init << false << "Init:ExitCode:2" << 1;
    QTest::newRow("back-off") << "Pending"
                              << QString(R"([{"waiting": {"reason": "CrashLoopBackOff"}}, %1])").arg(waiting_init)
                              << waiting_init << false << "Init:CrashLoopBackOff" << 1;
    QTest::newRow("initialized") << "Pending" << QString("[%1, %1]").arg(done) << waiting_init << true
                                 << "PodInitializing" << 0;
    QTest::newRow("running") << "Running" << QString("[%1, %1]").arg(done) << R"({"running": {}})" << true << "Running" << 0;
  }
  void pods_with_init_containers() {
    QFETCH(QString, phase);
    QFETCH(QString, init_states);
    QFETCH(QString, app_state);
    QFETCH(bool, initialized);
    QFETCH(QString, status);
    QFETCH(int, restarts);
    const Json states = Json::parse(init_states.toStdString());
    Json p = {{"metadata", {{"name", "db-0"}, {"namespace", "default"}, {"creationTimestamp", kCreated}}},
              {"spec", {{"initContainers", {{{"name", "one"}}, {{"name", "two"}}}}, {"containers", {{{"name", "db"}}}}}},
              {"status",
               {{"phase", phase.toStdString()},
                {"conditions", {{{"type", "Initialized"}, {"status", initialized ? "True" : "False"}}}},
                {"initContainerStatuses",
                 {{{"name", "one"}, {"ready", false}, {"restartCount", 1}, {"state", states[0]}},
                  {{"name", "two"}, {"ready", false}, {"restartCount", 1}, {"state", states[1]}}}},
                {"containerStatuses",
                 {{{"name", "db"}, {"ready", app_state.contains("running")}, {"restartCount", 0},
                   {"state", Json::parse(app_state.toStdString())}}}}}}};
    const Json table = build_table(info("", "v1", "pods"), {p}, "v1", IncludeObject::none, kNow);
    const Json& cells = table["rows"][0]["cells"];
    QCOMPARE(QString::fromStdString(cells[2].get<std::string>()), status);
    QCOMPARE(QString::fromStdString(pod_status_text(p)), status);
    QCOMPARE(cells[3].get<int>(), restarts);
    QCOMPARE(cells[1], app_state.contains("running") ? "1/1" : "0/1");
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
