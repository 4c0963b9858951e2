// Kubernetes defaulting and validation (objects/defaults.h, objects/validation.h): what
// kube-apiserver fills in and refuses.
#include <QtTest>

#include "objects/defaults.h"
#include "objects/validation.h"

using namespace mambogo::sim;
using Json = nlohmann::json;

namespace {

Json deployment() {
  return Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "mambogo/web:1.2",
          "ports": [{"containerPort": 8080}],
          "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
          "readinessProbe": {"httpGet": {"port": 8080}}}]}}}})");
}

std::vector<std::string> fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

bool has_field(const std::vector<FieldError>& errors, const std::string& field) {
  const auto f = fields(errors);
  return std::find(f.begin(), f.end(), field) != f.end();
}

}  // namespace

class ObjectsTest : public QObject {
  Q_OBJECT

 private slots:
  void deployment_defaults() {
    Json d = deployment();
    apply_defaults("deployments.apps", d);
    const Json& spec = d["spec"];
    QCOMPARE(spec["replicas"].get<int>(), 1);
    QCOMPARE(spec["strategy"], Json::parse(R"({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})"));
    QCOMPARE(spec["revisionHistoryLimit"].get<int>(), 10);
    QCOMPARE(spec["progressDeadlineSeconds"].get<int>(), 600);
    const Json& pod = spec["template"]["spec"];
    QCOMPARE(pod["restartPolicy"], "Always");
    QCOMPARE(pod["terminationGracePeriodSeconds"].get<int>(), 30);
    const Json& c = pod["containers"][0];
    QCOMPARE(c["imagePullPolicy"], "IfNotPresent");
    QCOMPARE(c["ports"][0]["protocol"], "TCP");
    QCOMPARE(c["resources"]["requests"], c["resources"]["limits"]);  // requests default to limits
    QCOMPARE(c["readinessProbe"]["periodSeconds"].get<int>(), 10);
    QCOMPARE(c["readinessProbe"]["timeoutSeconds"].get<int>(), 1);
    QCOMPARE(c["readinessProbe"]["successThreshold"].get<int>(), 1);
    QCOMPARE(c["readinessProbe"]["failureThreshold"].get<int>(), 3);
    QCOMPARE(c["readinessProbe"]["httpGet"]["path"], "/");
    QVERIFY(validate_object("deployments.apps", d).empty());
    // idempotent, and set values are kept
    Json again = d;
    apply_defaults("deployments.apps", again);
    QCOMPARE(again, d);
    Json latest = deployment();
    latest["spec"]["replicas"] = 0;
    latest["spec"]["template"]["spec"]["containers"][0]["image"] = "redis";
    apply_defaults("deployments.apps", latest);
    QCOMPARE(latest["spec"]["replicas"].get<int>(), 0);
    QCOMPARE(latest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
  }

  void service_statefulset_and_hpa_defaults() {
    Json svc = Json::parse(R"({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 81, "targetPort": "http"}]}})");
    apply_defaults("services", svc);
    QCOMPARE(svc["spec"]["type"], "ClusterIP");
    QCOMPARE(svc["spec"]["ports"][0]["protocol"], "TCP");
    QCOMPARE(svc["spec"]["ports"][0]["targetPort"].get<int>(), 80);
    QCOMPARE(svc["spec"]["ports"][1]["targetPort"], "http");
    Json sts = Json::parse(R"({"metadata": {"name": "db"}, "spec": {"template": {"spec": {"containers": []}}}})");
    apply_defaults("statefulsets.apps", sts);
    QCOMPARE(sts["spec"]["replicas"].get<int>(), 1);
    QCOMPARE(sts["spec"]["podManagementPolicy"], "OrderedReady");
    QCOMPARE(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
    Json hpa = Json::parse(R"({"metadata": {"name": "web"}, "spec": {"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}})");
    apply_defaults("horizontalpodautoscalers.autoscaling", hpa);
    QCOMPARE(hpa["spec"]["minReplicas"].get<int>(), 1);
    QCOMPARE(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].get<int>(), 80);
    QCOMPARE(hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"].get<int>(), 60);
    QCOMPARE(hpa["spec"]["behavior"]["scaleUp"]["policies"].size(), std::size_t{2});
    Json secret = Json::parse(R"({"metadata": {"name": "s"}, "stringData": {"password": "hunter2"}})");
    apply_defaults("secrets", secret);
    QCOMPARE(secret["type"], "Opaque");
    QCOMPARE(secret["data"]["password"], "aHVudGVyMg==");
    QVERIFY(!secret.contains("stringData"));
  }

  void statefulset_containers_mount_their_claim_templates() {
    // The usual StatefulSet: a container mounts "data", which only a volumeClaimTemplate names.
    Json sts = Json::parse(R"({"metadata": {"name": "db"}, "spec": {"serviceName": "db",
      "selector": {"matchLabels": {"app": "db"}},
      "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:15",
        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}]}},
      "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}})");
    apply_defaults("statefulsets.apps", sts);
    QVERIFY(validate_object("statefulsets.apps", sts).empty());
    sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] = "other";
    QVERIFY(has_field(validate_object("statefulsets.apps", sts), "spec.template.spec.containers[0].volumeMounts[0].name"));
    sts["spec"]["volumeClaimTemplates"] = Json::array({Json::object()});  // no metadata: still just "not found"
    QVERIFY(has_field(validate_object("statefulsets.apps", sts), "spec.template.spec.containers[0].volumeMounts[0].name"));
  }

  void invalid_objects_name_their_fields() {
    Json d = deployment();
    d["metadata"]["name"] = "Bad_Name";
    d["metadata"]["labels"]["app"] = "-bad";
    d["spec"]["replicas"] = -1;
    d["spec"]["template"]["metadata"]["labels"]["app"] = "other";
    d["spec"]["template"]["spec"]["containers"][0].erase("image");
    d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = 70000;
    d["spec"]["template"]["spec"]["containers"].push_back({{"name", "app"}, {"image", "x"}});
    const auto errors = validate_object("deployments.apps", d);
    for (const char* field : {"metadata.name", "metadata.labels", "spec.replicas", "spec.template.metadata.labels",
                              "spec.template.spec.containers[0].image", "spec.template.spec.containers[0].ports[0].containerPort",
                              "spec.template.spec.containers[1].name"})
      QVERIFY2(has_field(errors, field), field);
    QVERIFY(!has_field(validate_object("services", Json::parse(R"({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}})")), "spec.ports"));
    QVERIFY(has_field(validate_object("services", Json::parse(R"({"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}})")), "metadata.name"));
    QVERIFY(has_field(validate_object("services", Json::parse(R"({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}, {"port": 81}]}})")), "spec.ports[0].name"));
    const auto hpa = validate_object("horizontalpodautoscalers.autoscaling",
                                     Json::parse(R"({"metadata": {"name": "h"}, "spec": {"minReplicas": 3, "maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment"}}})"));
    QVERIFY(has_field(hpa, "spec.maxReplicas"));
    QVERIFY(has_field(hpa, "spec.scaleTargetRef.name"));
    const auto chaos = validate_object("podchaos.chaos-mesh.org",
                                       Json::parse(R"({"metadata": {"name": "c"}, "spec": {"mode": "fixed", "duration": "30 s", "selector": {}}})"));
    QVERIFY(has_field(chaos, "spec.value"));
    QVERIFY(has_field(chaos, "spec.duration"));
  }

  void updates_may_not_change_immutable_fields() {
    Json old_d = deployment();
    Json new_d = old_d;
    new_d["spec"]["selector"]["matchLabels"]["app"] = "other";
    QVERIFY(has_field(validate_update("deployments.apps", old_d, new_d), "spec.selector"));
    new_d = old_d;
    new_d["spec"]["replicas"] = 4;
    QVERIFY(validate_update("deployments.apps", old_d, new_d).empty());
    const Json pod = Json::parse(R"({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x:1"}]}})");
    Json image = pod, port = pod;
    image["spec"]["containers"][0]["image"] = "x:2";
    port["spec"]["containers"][0]["ports"] = Json::parse(R"([{"containerPort": 80}])");
    QVERIFY(validate_update("pods", pod, image).empty());
    QVERIFY(has_field(validate_update("pods", pod, port), "spec"));
  }

  void unknown_fields_are_found_and_dropped() {
    Json d = deployment();
    d["spec"]["replica"] = 3;
    d["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo";
    d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerport"] = 80;
    d["status"] = {{"anything", "goes"}};
    const auto unknown = unknown_fields("deployments.apps", d);
    QCOMPARE(unknown, (std::vector<std::string>{"spec.replica", "spec.template.spec.containers[0].imagee",
                                                "spec.template.spec.containers[0].ports[0].containerport"}));
    drop_unknown_fields("deployments.apps", d);
    QVERIFY(unknown_fields("deployments.apps", d).empty());
    QCOMPARE(d["status"]["anything"], "goes");
    QCOMPARE(d["spec"]["template"]["spec"]["containers"][0]["image"], "mambogo/web:1.2");
  }

  void name_rules() {
    QVERIFY(is_dns1123_subdomain("order-service.v1"));
    QVERIFY(!is_dns1123_subdomain("Order"));
    QVERIFY(!is_dns1123_subdomain("a..b"));
    QVERIFY(is_dns1123_label("redis-0"));
    QVERIFY(!is_dns1123_label("a.b"));
    QVERIFY(!is_dns1035_label("0redis"));
    QVERIFY(is_label_value(""));
    QVERIFY(is_label_value("v1.2_x"));
    QVERIFY(!is_label_value(std::string(64, 'a')));
    QVERIFY(is_qualified_name("app.kubernetes.io/name"));
    QVERIFY(!is_qualified_name("Bad Prefix/name"));
  }
};

QTEST_APPLESS_MAIN(ObjectsTest)
#include "tst_apiserver_objects.moc"
