// The API server's request handling over a real Store, without sockets: discovery, the
// verbs, subresources, Tables, watch streams and the Status errors — each refusal leaving
// the store unchanged.
#include <QtTest>

#include "apiserver/handler.h"
#include "apiserver/status.h"
#include "pods/node_backend.h"

#include <QTemporaryDir>

#include <fstream>
#include <mutex>

using namespace mambogo::sim;
using namespace mambogo::sim::api;

namespace {

const char* kToken = "secret-token";

Json deployment_json(const std::string& name) {
  return Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": ")" + name + R"(", "labels": {"app": "web"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
      "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "web:1", "ports": [{"containerPort": 8080}]}]}}}})");
}

class CollectingSink : public StreamSink {
 public:
  void write(std::string chunk) override {
    std::lock_guard lock(mutex);
    chunks.push_back(std::move(chunk));
  }
  void finish() override {
    std::lock_guard lock(mutex);
    finished = true;
  }
  std::vector<Json> events() {
    std::lock_guard lock(mutex);
    std::vector<Json> out;
    for (const auto& c : chunks) out.push_back(Json::parse(c));
    return out;
  }
  std::mutex mutex;
  std::vector<std::string> chunks;
  bool finished = false;
};

// A node whose only log is the init container "clone" of pod db-0.
class OneLogNode : public NodeBackend {
 public:
  explicit OneLogNode(std::filesystem::path file) : file_(std::move(file)) {}
  std::string node_name() const override { return "mambogo-local"; }
  std::optional<std::filesystem::path> log_file(const std::string&, const std::string& pod, const std::string& container,
                                                bool previous) const override {
    if (pod == "db-0" && container == "clone" && !previous) return file_;
    return std::nullopt;
  }
  std::optional<PodUsage> pod_usage(const std::string&, const std::string&) const override { return std::nullopt; }
  NodeUsage node_usage() const override { return {}; }
  double cpu_capacity_cores() const override { return 1; }
  std::uint64_t memory_capacity_bytes() const override { return 1 << 30; }

 private:
  std::filesystem::path file_;
};

}  // namespace

class HandlerTest : public QObject {
  Q_OBJECT

  std::unique_ptr<Store> store;
  std::unique_ptr<Handler> handler;

  Response call(const std::string& method, const std::string& target, const std::string& body = {},
                const std::string& content_type = "application/json", const std::string& accept = "application/json",
                bool authorized = true) {
    Request r;
    r.method = method;
    const auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      r.raw_query = target.substr(q + 1);
      std::string rest = r.raw_query;
      while (!rest.empty()) {
        auto amp = rest.find('&');
        const std::string pair = rest.substr(0, amp);
        rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
        const auto eq = pair.find('=');
        r.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      }
    }
    if (!body.empty()) r.headers["content-type"] = content_type;
    r.headers["accept"] = accept;
    if (authorized) r.headers["authorization"] = std::string("Bearer ") + kToken;
    r.body = body;
    return handler->handle(r);
  }
  Json json(const Response& r) { return Json::parse(r.body); }

 private slots:
  void init() {
    store = std::make_unique<Store>();
    handler = std::make_unique<Handler>(*store, nullptr, kToken, [] { return std::string("127.0.0.1:6443"); });
    handler->ensure_namespaces();
  }
  void cleanup() {
    handler.reset();
    store.reset();
  }

  void discovery_lists_groups_resources_and_subresources() {
    QCOMPARE(json(call("GET", "/api"))["versions"], Json::parse(R"(["v1"])"));
    const Json groups = json(call("GET", "/apis"));
    std::vector<std::string> names;
    for (const auto& g : groups["groups"]) names.push_back(g["name"]);
    QCOMPARE(names, (std::vector<std::string>{"apps", "autoscaling", "metrics.k8s.io", "chaos-mesh.org"}));
    const Json apps = json(call("GET", "/apis/apps/v1"));
    QCOMPARE(apps["groupVersion"], "apps/v1");
    bool deploy = false, scale = false;
    for (const auto& r : apps["resources"]) {
      if (r["name"] == "deployments") deploy = r["shortNames"] == Json::parse(R"(["deploy"])") && r["namespaced"] == true;
      if (r["name"] == "deployments/scale") scale = r["kind"] == "Scale" && r["group"] == "autoscaling";
    }
    QVERIFY(deploy && scale);
    QCOMPARE(call("GET", "/apis/nothing.io/v1").status, 404);
    QCOMPARE(json(call("GET", "/api/v1/namespaces"))["items"].size(), std::size_t{4});
  }

  void token_is_required_except_for_version_and_health() {
    const Response denied = call("GET", "/api/v1/pods", {}, {}, "application/json", false);
    QCOMPARE(denied.status, 401);
    QCOMPARE(json(denied)["reason"], "Unauthorized");
    QCOMPARE(call("GET", "/version", {}, {}, "application/json", false).status, 200);
    QCOMPARE(call("GET", "/healthz", {}, {}, "application/json", false).body, std::string("ok"));
  }

  void create_defaults_and_refuses_duplicates() {
    const Response created = call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("web").dump());
    QCOMPARE(created.status, 201);
    const Json d = json(created);
    QCOMPARE(d["metadata"]["namespace"], "default");
    QCOMPARE(d["spec"]["strategy"]["type"], "RollingUpdate");
    QVERIFY(!d["metadata"]["uid"].get<std::string>().empty());
    const Response again = call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("web").dump());
    QCOMPARE(again.status, 409);
    QCOMPARE(json(again)["reason"], "AlreadyExists");
    QCOMPARE(json(again)["message"], "deployments.apps \"web\" already exists");
    QCOMPARE(json(again)["details"], Json::parse(R"({"name": "web", "group": "apps", "kind": "deployments"})"));
    const Response got = call("GET", "/apis/apps/v1/namespaces/default/deployments/web");
    QCOMPARE(json(got)["metadata"]["uid"], d["metadata"]["uid"]);
    QCOMPARE(call("POST", "/apis/apps/v1/namespaces/nowhere/deployments", deployment_json("x").dump()).status, 404);
  }

  void bad_requests_change_nothing() {
    const auto version = store->resource_version();
    const Response malformed = call("POST", "/api/v1/namespaces/default/configmaps", "{\"metadata\": {");
    QCOMPARE(malformed.status, 400);
    QCOMPARE(json(malformed)["kind"], "Status");
    QCOMPARE(json(malformed)["reason"], "BadRequest");
    const Response bad_name = call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("Bad_Name").dump());
    QCOMPARE(bad_name.status, 422);
    QCOMPARE(json(bad_name)["reason"], "Invalid");
    QCOMPARE(json(bad_name)["details"]["causes"][0]["field"], "metadata.name");
    QVERIFY(json(bad_name)["message"].get<std::string>().starts_with("Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value"));
    QCOMPARE(call("GET", "/api/v1/namespaces/default/widgets").status, 404);
    QCOMPARE(call("POST", "/api/v1/namespaces/default/configmaps", "x: 1", "text/plain").status, 415);
    Json strict = deployment_json("typo");
    strict["spec"]["replica"] = 3;
    const Response refused = call("POST", "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", strict.dump());
    QCOMPARE(refused.status, 400);
    QVERIFY(json(refused)["message"].get<std::string>().find("unknown field \"spec.replica\"") != std::string::npos);
    QCOMPARE(store->resource_version(), version);
    // without Strict the unknown field is dropped, as kube-apiserver does
    const Json lenient = json(call("POST", "/apis/apps/v1/namespaces/default/deployments", strict.dump()));
    QVERIFY(!lenient["spec"].contains("replica"));
  }

  void update_conflicts_and_status_rules() {
    const Json d = json(call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("web").dump()));
    store->mutate({"deployments.apps", "default", "web"}, [](Json& o) { o["status"] = {{"replicas", 2}}; });
    Json stale = d;
    stale["spec"]["replicas"] = 5;
    const Response conflict = call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", stale.dump());
    QCOMPARE(conflict.status, 409);
    QCOMPARE(json(conflict)["reason"], "Conflict");
    QCOMPARE(store->get({"deployments.apps", "default", "web"}).value()["spec"]["replicas"].get<int>(), 2);

    Json fresh = json(call("GET", "/apis/apps/v1/namespaces/default/deployments/web"));
    fresh["spec"]["replicas"] = 5;
    fresh["status"] = {{"replicas", 99}};
    const Json updated = json(call("PUT", "/apis/apps/v1/namespaces/default/deployments/web", fresh.dump()));
    QCOMPARE(updated["spec"]["replicas"].get<int>(), 5);
    QCOMPARE(updated["status"]["replicas"].get<int>(), 2);  // the main resource keeps status
    QCOMPARE(updated["metadata"]["generation"].get<int>(), 2);

    const Json status = json(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/status",
                                  R"({"status": {"replicas": 4}, "spec": {"replicas": 1}})", "application/merge-patch+json"));
    QCOMPARE(status["status"]["replicas"].get<int>(), 4);
    QCOMPARE(status["spec"]["replicas"].get<int>(), 5);  // /status changes only status
  }

  void patch_kinds_and_yaml_bodies() {
    call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("web").dump());
    const Json smp = json(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                               R"({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}})",
                               "application/strategic-merge-patch+json"));
    QCOMPARE(smp["spec"]["template"]["spec"]["containers"][0]["image"], "web:2");
    QCOMPARE(smp["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"].get<int>(), 8080);
    const Json jp = json(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                              R"([{"op": "add", "path": "/metadata/labels/tier", "value": "front"}])", "application/json-patch+json"));
    QCOMPARE(jp["metadata"]["labels"]["tier"], "front");
    const Response yaml = call("POST", "/api/v1/namespaces/default/configmaps",
                               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  port: \"8080\"\n",
                               "application/yaml");
    QCOMPARE(yaml.status, 201);
    QCOMPARE(json(yaml)["data"]["port"], "8080");
    QCOMPARE(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/missing", "{}", "application/merge-patch+json").status, 404);
    QCOMPARE(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                  R"({"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 9}})", "application/merge-patch+json").status,
             409);
  }

  void scale_subresource_get_put_patch() {
    call("POST", "/apis/apps/v1/namespaces/default/deployments", deployment_json("web").dump());
    Json scale = json(call("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale"));
    QCOMPARE(scale["kind"], "Scale");
    QCOMPARE(scale["apiVersion"], "autoscaling/v1");
    QCOMPARE(scale["spec"]["replicas"].get<int>(), 2);
    QCOMPARE(scale["status"]["selector"], "app=web");
    scale["spec"]["replicas"] = 4;  // k9s: GET then PUT
    QCOMPARE(json(call("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", scale.dump()))["spec"]["replicas"].get<int>(), 4);
    QCOMPARE(call("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", scale.dump()).status, 409);  // stale now
    const Json patched = json(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                                   R"({"spec": {"replicas": 6}})", "application/merge-patch+json"));
    QCOMPARE(patched["spec"]["replicas"].get<int>(), 6);
    QCOMPARE(store->get({"deployments.apps", "default", "web"}).value()["spec"]["replicas"].get<int>(), 6);
    QCOMPARE(call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", R"({"spec": {"replicas": -1}})",
                  "application/merge-patch+json").status,
             422);
  }

  void services_get_cluster_ips_and_lists_filter() {
    const auto svc = [](const std::string& name) {
      return Json{{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", name}}},
                  {"spec", {{"selector", {{"app", name}}}, {"ports", {{{"port", 80}}}}}}}.dump();
    };
    QCOMPARE(json(call("POST", "/api/v1/namespaces/default/services", svc("a")))["spec"]["clusterIP"], "127.0.2.1");
    const Json b = json(call("POST", "/api/v1/namespaces/default/services", svc("b")));
    QCOMPARE(b["spec"]["clusterIP"], "127.0.2.2");
    QCOMPARE(b["spec"]["ports"][0]["targetPort"].get<int>(), 80);
    const Json dry = json(call("POST", "/api/v1/namespaces/default/services?dryRun=All", svc("c")));
    QCOMPARE(dry["metadata"]["name"], "c");
    QVERIFY(!store->get({"services", "default", "c"}));
    const Json only_b = json(call("GET", "/api/v1/namespaces/default/services?fieldSelector=metadata.name=b"));
    QCOMPARE(only_b["kind"], "ServiceList");
    QCOMPARE(only_b["items"].size(), std::size_t{1});
    const Json table = json(call("GET", "/api/v1/namespaces/default/services", {}, {},
                                 "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
    QCOMPARE(table["kind"], "Table");
    QCOMPARE(table["rows"].size(), std::size_t{2});
    QCOMPARE(table["rows"][1]["cells"][2], "127.0.2.2");
    const Json page = json(call("GET", "/api/v1/namespaces/default/services?limit=1"));
    QCOMPARE(page["items"].size(), std::size_t{1});
    QCOMPARE(page["metadata"]["remainingItemCount"].get<int>(), 1);
    const Json next = json(call("GET", "/api/v1/namespaces/default/services?limit=1&continue=" +
                                           page["metadata"]["continue"].get<std::string>()));
    QCOMPARE(next["items"][0]["metadata"]["name"], "b");
  }

  void pod_deletion_is_graceful_when_it_ran() {
    const auto pod = [](const std::string& name, bool bound) {
      Json p{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}},
             {"spec", {{"containers", {{{"name", "app"}, {"image", "x"}}}}}}};
      if (bound) p["spec"]["nodeName"] = "mambogo-local";
      return p.dump();
    };
    QCOMPARE(json(call("POST", "/api/v1/namespaces/default/pods", pod("running", true)))["status"]["phase"], "Pending");
    call("POST", "/api/v1/namespaces/default/pods", pod("unbound", false));
    const Json terminating = json(call("DELETE", "/api/v1/namespaces/default/pods/running"));
    QVERIFY(terminating["metadata"].contains("deletionTimestamp"));
    QCOMPARE(terminating["metadata"]["deletionGracePeriodSeconds"].get<int>(), 30);
    QVERIFY(store->get({"pods", "default", "running"}));
    QCOMPARE(call("DELETE", "/api/v1/namespaces/default/pods/unbound").status, 200);
    QVERIFY(!store->get({"pods", "default", "unbound"}));
    QCOMPARE(call("DELETE", "/api/v1/namespaces/default/pods/running", R"({"gracePeriodSeconds": 0})").status, 200);
    QVERIFY(!store->get({"pods", "default", "running"}));
    QCOMPARE(call("DELETE", "/api/v1/namespaces/default/pods/running").status, 404);
    QCOMPARE(call("DELETE", "/api/v1/namespaces/default").status, 403);
  }

  void watch_streams_changes_in_order() {
    call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata": {"name": "before"}})");
    Response r = call("GET", "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5");
    QVERIFY(r.stream);
    QCOMPARE(r.stream_timeout, std::chrono::seconds(5));
    auto sink = std::make_shared<CollectingSink>();
    r.stream->start(sink);
    call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata": {"name": "during"}})");
    call("PATCH", "/api/v1/namespaces/default/configmaps/during", R"({"data": {"a": "b"}})", "application/merge-patch+json");
    call("DELETE", "/api/v1/namespaces/default/configmaps/during");
    r.stream.reset();  // unwatches
    call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata": {"name": "after"}})");
    const auto events = sink->events();
    QCOMPARE(events.size(), std::size_t{4});
    QCOMPARE(events[0]["type"], "ADDED");
    QCOMPARE(events[0]["object"]["metadata"]["name"], "before");
    QCOMPARE(events[1]["type"], "ADDED");
    QCOMPARE(events[2]["type"], "MODIFIED");
    QCOMPARE(events[2]["object"]["data"]["a"], "b");
    QCOMPARE(events[3]["type"], "DELETED");

    // from a resourceVersion: only later changes; from a forgotten one: 410 Expired
    const auto rv = json(call("GET", "/api/v1/namespaces/default/configmaps"))["metadata"]["resourceVersion"].get<std::string>();
    Response later = call("GET", "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" + rv);
    auto later_sink = std::make_shared<CollectingSink>();
    later.stream->start(later_sink);
    call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata": {"name": "last"}})");
    later.stream.reset();
    QCOMPARE(later_sink->events().size(), std::size_t{1});
    QCOMPARE(later_sink->events()[0]["object"]["metadata"]["name"], "last");

    Store small({}, 2);
    Handler h(small, nullptr, "", [] { return std::string(); });
    h.ensure_namespaces();
    for (int i = 0; i < 5; ++i)
      small.create("configmaps", Json{{"metadata", {{"name", "c" + std::to_string(i)}, {"namespace", "default"}}}});
    Request old;
    old.method = "GET";
    old.path = "/api/v1/namespaces/default/configmaps";
    old.query = {{"watch", "true"}, {"resourceVersion", "1"}};
    Response expired = h.handle(old);
    auto expired_sink = std::make_shared<CollectingSink>();
    expired.stream->start(expired_sink);
    QVERIFY(expired_sink->finished);
    QCOMPARE(expired_sink->events()[0]["type"], "ERROR");
    QCOMPARE(expired_sink->events()[0]["object"]["code"].get<int>(), 410);
  }

  // pods/log names init containers as the API server does: -c accepts them, a pod with several
  // app containers lists them too, and a container without a log says why it waits.
  void logs_of_init_containers() {
    QTemporaryDir dir;
    const std::filesystem::path file = dir.filePath("clone.log").toStdString();
    std::ofstream(file) << "base backup completed\n";
    OneLogNode node(file);
    Handler h(*store, &node, kToken, [] { return std::string(); });
    auto pod = [](const std::string& name, const Json& containers) {
      return Json{{"metadata", {{"name", name}, {"namespace", "default"}}},
                  {"spec", {{"initContainers", {{{"name", "clone"}, {"image", "postgres:15"}}}}, {"containers", containers}}},
                  {"status", {{"initContainerStatuses", {{{"name", "clone"}, {"state", {{"running", Json::object()}}}}}},
                              {"containerStatuses",
                               {{{"name", "db"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}}}}};
    };
    store->create("pods", pod("db-0", {{{"name", "db"}, {"image", "postgres:15"}}}));
    store->create("pods", pod("two", {{{"name", "db"}, {"image", "postgres:15"}}, {{"name", "exporter"}, {"image", "x"}}}));
    auto get = [&](const std::string& target) {
      Request r;
      r.method = "GET";
      const auto q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query.emplace("container", target.substr(q + std::string("?container=").size()));
      r.headers["authorization"] = std::string("Bearer ") + kToken;
      return h.handle(r);
    };
    const Response clone = get("/api/v1/namespaces/default/pods/db-0/log?container=clone");
    QCOMPARE(clone.status, 200);
    QCOMPARE(clone.body, std::string("base backup completed\n"));
    const Response waiting = get("/api/v1/namespaces/default/pods/db-0/log");  // the only app container
    QCOMPARE(waiting.status, 400);
    QCOMPARE(json(waiting)["message"], "container \"db\" in pod \"db-0\" is waiting to start: PodInitializing");
    QCOMPARE(json(get("/api/v1/namespaces/default/pods/db-0/log?container=nope"))["message"],
             "container nope is not valid for pod db-0");
    QCOMPARE(json(get("/api/v1/namespaces/default/pods/two/log"))["message"],
             "a container name must be specified for pod two, choose one of: [db exporter] or one of the init "
             "containers: [clone]");
  }

  void apply_creates_then_updates() {
    Json d = deployment_json("applied");
    const Json created = handler->apply(d);
    QCOMPARE(created["metadata"]["namespace"], "default");
    d["spec"]["replicas"] = 7;
    const Json updated = handler->apply(d);
    QCOMPARE(updated["spec"]["replicas"].get<int>(), 7);
    QCOMPARE(updated["metadata"]["uid"], created["metadata"]["uid"]);
    d["metadata"]["name"] = "Bad";
    QVERIFY_THROWS_EXCEPTION(ApiError, handler->apply(d));
  }
};

QTEST_APPLESS_MAIN(HandlerTest)
#include "tst_apiserver_handler.moc"
