// The API server's patch formats: JSON merge patch, JSON patch and the strategic merge patch
// kubectl apply/edit/set image send, with their directives.
#include <QtTest>

#include "apiserver/api_server.h"
#include "apiserver/patch.h"

using namespace mambogo::sim;
using namespace mambogo::sim::api;

namespace {

Json deployment() {
  return Json::parse(R"({
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a"]},
    "spec": {"replicas": 2,
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
      "template": {"spec": {"containers": [
        {"name": "app", "image": "web:1", "args": ["--a", "--b"],
         "ports": [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 9090, "name": "admin"}],
         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "proxy:1"}]}}}})");
}

const Json& container(const Json& d, std::size_t i) { return d["spec"]["template"]["spec"]["containers"][i]; }

}  // namespace

class PatchTest : public QObject {
  Q_OBJECT

 private slots:
  void merge_patch_sets_and_removes_fields() {
    const Json out = apply_merge_patch(deployment(), Json::parse(R"({"spec": {"replicas": 5}, "metadata": {"labels": {"tier": null}}})"));
    QCOMPARE(out["spec"]["replicas"].get<int>(), 5);
    QVERIFY(!out["metadata"]["labels"].contains("tier"));
    QCOMPARE(out["metadata"]["labels"]["app"], "web");
    // a merge patch replaces lists whole
    const Json lists = apply_merge_patch(deployment(), Json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "only"}]}}}})"));
    QCOMPARE(lists["spec"]["template"]["spec"]["containers"].size(), std::size_t{1});
  }

  void strategic_patch_merges_containers_by_name() {
    // kubectl set image deployment/web app=web:2
    const Json out = apply_strategic_merge_patch(
        deployment(), Json::parse(R"({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}})"));
    QCOMPARE(out["spec"]["template"]["spec"]["containers"].size(), std::size_t{2});
    QCOMPARE(container(out, 0)["image"], "web:2");
    QCOMPARE(container(out, 0)["ports"].size(), std::size_t{2});  // untouched fields stay
    QCOMPARE(container(out, 1)["image"], "proxy:1");
  }

  void strategic_patch_merges_env_ports_and_deletes_items() {
    const Json out = apply_strategic_merge_patch(deployment(), Json::parse(R"({"spec": {"template": {"spec": {"containers": [
        {"name": "app",
         "env": [{"name": "B", "value": "22"}, {"name": "C", "value": "3"}, {"name": "A", "$patch": "delete"}],
         "ports": [{"containerPort": 9090, "name": "metrics"}],
         "args": ["--only"]}]}}}})"));
    const Json& app = container(out, 0);
    QCOMPARE(app["env"], Json::parse(R"([{"name": "B", "value": "22"}, {"name": "C", "value": "3"}])"));
    QCOMPARE(app["ports"].size(), std::size_t{2});
    QCOMPARE(app["ports"][1]["name"], "metrics");
    QCOMPARE(app["ports"][0]["containerPort"].get<int>(), 8080);
    QCOMPARE(app["args"], Json::parse(R"(["--only"])"));  // lists without a merge key are replaced
  }

  void strategic_patch_honours_retain_keys_and_element_order() {
    // What kubectl apply sends when a Deployment switches to Recreate.
    const Json out = apply_strategic_merge_patch(deployment(), Json::parse(R"({"spec": {
        "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null},
        "template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}],
                              "containers": [{"name": "sidecar", "image": "proxy:2"}]}}}})"));
    QCOMPARE(out["spec"]["strategy"], Json::parse(R"({"type": "Recreate"})"));
    QCOMPARE(container(out, 0)["name"], "sidecar");
    QCOMPARE(container(out, 0)["image"], "proxy:2");
    QCOMPARE(container(out, 1)["name"], "app");
    QVERIFY(out.dump().find("$") == std::string::npos);
  }

  void strategic_patch_service_ports_by_port_and_finalizers_as_set() {
    const Json svc = Json::parse(R"({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]},
                                     "metadata": {"finalizers": ["a"]}})");
    const Json out = apply_strategic_merge_patch(svc, Json::parse(R"({"spec": {"ports": [{"port": 443, "targetPort": 9443}]},
        "metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/finalizers": ["a"]}})"));
    QCOMPARE(out["spec"]["ports"].size(), std::size_t{2});
    QCOMPARE(out["spec"]["ports"][1]["targetPort"].get<int>(), 9443);
    QCOMPARE(out["metadata"]["finalizers"], Json::parse(R"(["b"])"));
  }

  void json_patch_applies_or_refuses() {
    const Json out = apply_patch(deployment(), "application/json-patch+json",
                                 R"([{"op": "replace", "path": "/spec/replicas", "value": 7}])");
    QCOMPARE(out["spec"]["replicas"].get<int>(), 7);
    try {
      apply_patch(deployment(), "application/json-patch+json", R"([{"op": "test", "path": "/spec/replicas", "value": 9}])");
      QFAIL("a failed test operation must refuse the patch");
    } catch (const ApiError& e) {
      QCOMPARE(e.code(), 422);
    }
  }

  void bad_patches_are_status_errors() {
    const auto code_of = [](const std::string& type, const std::string& body) {
      try {
        apply_patch(deployment(), type, body);
      } catch (const ApiError& e) {
        return e.code();
      }
      return 200;
    };
    QCOMPARE(code_of("application/merge-patch+json", "{not json"), 400);
    QCOMPARE(code_of("application/merge-patch+json", "[1]"), 400);
    QCOMPARE(code_of("application/strategic-merge-patch+json", R"({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})"), 400);
    QCOMPARE(code_of("text/plain", "{}"), 415);
    QCOMPARE(code_of("application/merge-patch+json; charset=utf-8", R"({"spec": {"replicas": 1}})"), 200);
  }
};

QTEST_APPLESS_MAIN(PatchTest)
#include "tst_apiserver_patch.moc"
