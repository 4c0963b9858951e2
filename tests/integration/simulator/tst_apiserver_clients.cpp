// The API server as kubectl and the Python Kubernetes client see it: an in-process ApiServer
// over HTTPS (TLS generated with generate_tls) with a bearer token, a kubeconfig in a
// temporary directory, and the real clients run as processes.
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "apiserver/api_server.h"
#include "apiserver/tls.h"
#include "pods/node_backend.h"

#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace mambogo::sim;

namespace {

const char* kToken = "integration-token";

// A node for logs and metrics: one log file, fixed usage.
class FakeNode : public NodeBackend {
 public:
  explicit FakeNode(std::filesystem::path log) : log_(std::move(log)) {}
  std::string node_name() const override { return "mambogo-local"; }
  std::optional<std::filesystem::path> log_file(const std::string&, const std::string& pod, const std::string& container,
                                                bool previous) const override {
    if (pod.rfind("web-", 0) != 0 || container != "app" || previous) return std::nullopt;
    return log_;
  }
  std::optional<PodUsage> pod_usage(const std::string&, const std::string& pod) const override {
    if (pod.rfind("web-", 0) != 0) return std::nullopt;
    return PodUsage{now_rfc3339(), 10, {{"app", 123'000'000, 64ull * 1024 * 1024}}};
  }
  NodeUsage node_usage() const override { return {now_rfc3339(), 10, 500'000'000, 2ull * 1024 * 1024 * 1024}; }
  double cpu_capacity_cores() const override { return 2; }
  std::uint64_t memory_capacity_bytes() const override { return 8ull * 1024 * 1024 * 1024; }

 private:
  std::filesystem::path log_;
};

// A loopback port nobody listens on right now.
quint16 free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  quint16 port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

struct Run {
  int code = -1;
  QString out;
  QString err;
};

Json running_pod(const std::string& name, const std::string& app, const std::string& ip) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"app", app}}}}},
          {"spec",
           {{"nodeName", "mambogo-local"},
            {"containers", {{{"name", "app"}, {"image", app + ":1"}, {"ports", {{{"containerPort", 8080}}}}}}}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", ip},
            {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
            {"containerStatuses",
             {{{"name", "app"},
               {"ready", true},
               {"restartCount", 0},
               {"image", app + ":1"},
               {"imageID", ""},
               {"state", {{"running", {{"startedAt", now_rfc3339()}}}}}}}}}}};
}

const char* kManifest = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: mambogo/web:1
        ports:
        - containerPort: 8080
        resources:
          requests: {cpu: 100m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 6
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 70}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  LOG_LEVEL: info
)";

}  // namespace

class ApiServerClientsTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<FakeNode> node_;
  std::unique_ptr<ApiServer> server_;
  QString kubeconfig_;
  QString anonymous_kubeconfig_;
  QString wrong_token_kubeconfig_;

  QString path(const QString& name) const { return dir_.filePath(name); }

  void write_file(const QString& name, const std::string& text) const {
    std::ofstream out(path(name).toStdString());
    out << text;
  }

  QString write_kubeconfig(const QString& name, const std::string& token) const {
    std::string user = token.empty() ? "{}" : "{token: " + token + "}";
    write_file(name, "apiVersion: v1\nkind: Config\nclusters:\n- name: mambogo-local\n  cluster:\n    server: https://127.0.0.1:" +
                         std::to_string(server_->port()) + "\n    certificate-authority: " +
                         path("tls/ca.crt").toStdString() + "\nusers:\n- name: admin\n  user: " + user +
                         "\ncontexts:\n- name: mambogo-local\n  context: {cluster: mambogo-local, user: admin, namespace: default}\n"
                         "current-context: mambogo-local\n");
    return path(name);
  }

  QProcessEnvironment environment() const {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("HOME", dir_.path());  // kubectl's discovery cache stays in the temporary directory
    env.remove("KUBECONFIG");
    return env;
  }

  Run run(const QString& program, const QStringList& args, int timeout_ms = 60'000) const {
    QProcess p;
    p.setProcessEnvironment(environment());
    p.start(program, args);
    p.closeWriteChannel();  // kubectl without credentials would otherwise prompt for a password
    Run r;
    if (!p.waitForStarted(10'000)) {
      r.err = program + " did not start";
      return r;
    }
    if (!p.waitForFinished(timeout_ms)) {
      p.kill();
      p.waitForFinished(5'000);
      r.err = program + " timed out";
      return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
  }

  Run kubectl(QStringList args, const QString& kubeconfig = {}) const {
    args.prepend("--kubeconfig=" + (kubeconfig.isEmpty() ? kubeconfig_ : kubeconfig));
    args.append("--request-timeout=30s");
    // KUBECTL may name another kubectl (e.g. an older one) to run the same checks with.
    return run(qEnvironmentVariable("KUBECTL", "kubectl"), args);
  }

  Run python(const QString& body, const QString& kubeconfig = {}) const {
    const QString script = "import sys, json\nfrom kubernetes import client, config, watch\nconfig.load_kube_config(config_file=" +
                           QString("'%1'").arg(kubeconfig.isEmpty() ? kubeconfig_ : kubeconfig) + ")\n" + body;
    return run("/usr/bin/python3", {"-c", script});
  }

  // A long-running kubectl (get -w, logs -f).
  void start_kubectl(QProcess& p, QStringList args) const {
    args.prepend("--kubeconfig=" + kubeconfig_);
    p.setProcessEnvironment(environment());
    p.start(qEnvironmentVariable("KUBECTL", "kubectl"), args);
    p.waitForStarted(10'000);
    p.closeWriteChannel();
  }

  // Reads p's output into `seen` until it contains `needle`, p ends or the time is up.
  static bool wait_for_output(QProcess& p, QByteArray& seen, const QByteArray& needle, int timeout_ms = 60'000) {
    QElapsedTimer waited;
    waited.start();
    while (!seen.contains(needle) && waited.elapsed() < timeout_ms) {
      if (p.state() != QProcess::Running && !p.bytesAvailable()) break;
      p.waitForReadyRead(500);
      seen += p.readAllStandardOutput();
    }
    return seen.contains(needle);
  }

  Json stored(const std::string& resource, const std::string& name) const {
    auto o = store_->get({resource, "default", name});
    return o ? *o : Json();
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    generate_tls(path("tls").toStdString());
    write_file("app.log", "line one\nline two\nline three\n");
    store_ = std::make_unique<Store>();
    node_ = std::make_unique<FakeNode>(path("app.log").toStdString());
    ApiServerOptions options;
    options.tls = TlsFiles{path("tls/server.crt").toStdString(), path("tls/server.key").toStdString()};
    options.bearer_token = kToken;
    server_ = std::make_unique<ApiServer>(*store_, node_.get(), options);
    server_->start();
    QVERIFY(server_->port() != 0);
    kubeconfig_ = write_kubeconfig("kubeconfig", kToken);
    anonymous_kubeconfig_ = write_kubeconfig("anonymous", "");
    wrong_token_kubeconfig_ = write_kubeconfig("wrong-token", "not-the-token");
  }

  void cleanupTestCase() {
    server_->stop();
    server_.reset();
  }

  void tls_material_is_kept_while_valid() {
    std::ifstream before(path("tls/server.crt").toStdString());
    const std::string cert((std::istreambuf_iterator<char>(before)), {});
    generate_tls(path("tls").toStdString());
    std::ifstream after(path("tls/server.crt").toStdString());
    QCOMPARE(std::string((std::istreambuf_iterator<char>(after)), {}), cert);
    QCOMPARE(std::filesystem::status(path("tls/server.key").toStdString()).permissions() & std::filesystem::perms::others_read,
             std::filesystem::perms::none);
  }

  void kubectl_applies_a_multi_document_manifest() {
    write_file("app.yaml", kManifest);
    Run r = kubectl({"apply", "-f", path("app.yaml")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    for (const char* line : {"deployment.apps/web created", "service/web created",
                             "horizontalpodautoscaler.autoscaling/web created", "configmap/web-config created"})
      QVERIFY2(r.out.contains(line), qPrintable(r.out));
    QCOMPARE(stored("deployments.apps", "web")["spec"]["strategy"]["type"], "RollingUpdate");
    QVERIFY(stored("services", "web")["spec"]["clusterIP"].get<std::string>().starts_with("127.0.2."));
    QCOMPARE(stored("horizontalpodautoscalers.autoscaling", "web")["spec"]["maxReplicas"].get<int>(), 6);

    r = kubectl({"apply", "-f", path("app.yaml")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("deployment.apps/web unchanged"), qPrintable(r.out));

    std::string changed = kManifest;
    changed.replace(changed.find("mambogo/web:1"), 13, "mambogo/web:2");
    write_file("app2.yaml", changed);
    r = kubectl({"apply", "-f", path("app2.yaml")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("deployment.apps/web configured"), qPrintable(r.out));
    const Json d = stored("deployments.apps", "web");
    QCOMPARE(d["spec"]["template"]["spec"]["containers"][0]["image"], "mambogo/web:2");
    QCOMPARE(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"].get<int>(), 8080);
    QCOMPARE(d["metadata"]["generation"].get<int>(), 2);
  }

  void kubectl_get_prints_tables() {
    store_->create("pods", running_pod("web-1", "web", "127.0.1.2"));
    store_->create("pods", running_pod("web-2", "web", "127.0.1.3"));
    store_->create("pods", running_pod("db-0", "db", "127.0.1.4"));
    QVERIFY2(store_->get({"deployments.apps", "default", "web"}), "the manifest was not applied");
    store_->mutate({"deployments.apps", "default", "web"}, [](Json& o) {
      o["status"] = {{"replicas", 2}, {"readyReplicas", 2}, {"updatedReplicas", 2}, {"availableReplicas", 2}};
    });
    Run r = kubectl({"get", "pods"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 4);
    QVERIFY2(lines[0].simplified() == "NAME READY STATUS RESTARTS AGE", qPrintable(lines[0]));
    QVERIFY2(lines[2].simplified().startsWith("web-1 1/1 Running 0 "), qPrintable(lines[2]));

    r = kubectl({"get", "pods", "-o", "wide"});
    QVERIFY2(r.out.split('\n')[0].simplified().startsWith("NAME READY STATUS RESTARTS AGE IP NODE"), qPrintable(r.out));
    QVERIFY(r.out.contains("127.0.1.3"));

    r = kubectl({"get", "deploy"});
    QVERIFY2(r.out.split('\n')[0].simplified() == "NAME READY UP-TO-DATE AVAILABLE AGE", qPrintable(r.out));
    QVERIFY2(r.out.split('\n')[1].simplified().startsWith("web 2/2 2 2 "), qPrintable(r.out));

    r = kubectl({"get", "svc", "web"});
    QVERIFY2(r.out.split('\n')[0].simplified() == "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", qPrintable(r.out));
    QVERIFY2(r.out.split('\n')[1].simplified().startsWith("web ClusterIP 127.0.2."), qPrintable(r.out));
    QVERIFY(r.out.contains("<none> 80/TCP") || r.out.simplified().contains("<none> 80/TCP"));

    r = kubectl({"get", "hpa"});
    QVERIFY2(r.out.split('\n')[0].simplified() == "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", qPrintable(r.out));
    QVERIFY2(r.out.split('\n')[1].simplified().startsWith("web Deployment/web cpu: <unknown>/70% 2 6 0"), qPrintable(r.out));

    r = kubectl({"get", "pods", "-l", "app=web", "-o", "name"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out.split('\n', Qt::SkipEmptyParts), (QStringList{"pod/web-1", "pod/web-2"}));
    r = kubectl({"get", "pods", "--field-selector", "metadata.name=db-0", "-o", "name"});
    QCOMPARE(r.out.trimmed(), QString("pod/db-0"));
  }

  void kubectl_get_json_is_the_object() {
    Run r = kubectl({"get", "deploy", "web", "-o", "json"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    const Json d = Json::parse(r.out.toStdString());
    QCOMPARE(d["kind"], "Deployment");
    QCOMPARE(d["spec"]["replicas"].get<int>(), 2);
    r = kubectl({"get", "configmaps", "-o", "json"});
    const Json list = Json::parse(r.out.toStdString());
    QCOMPARE(list["items"][0]["data"]["LOG_LEVEL"], "info");
  }

  void kubectl_and_python_scale() {
    Run r = kubectl({"scale", "deployment", "web", "--replicas=4"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("deployment.apps/web scaled"), qPrintable(r.out));
    QCOMPARE(stored("deployments.apps", "web")["spec"]["replicas"].get<int>(), 4);
    // k9s and the Python client: GET the Scale, then PUT it back changed
    r = python(
        "apps = client.AppsV1Api()\n"
        "s = apps.read_namespaced_deployment_scale('web', 'default')\n"
        "print('was', s.spec.replicas, s.status.selector)\n"
        "s.spec.replicas = 5\n"
        "s = apps.replace_namespaced_deployment_scale('web', 'default', s)\n"
        "print('now', s.spec.replicas)\n");
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("was 4 app=web") && r.out.contains("now 5"), qPrintable(r.out));
    QCOMPARE(stored("deployments.apps", "web")["spec"]["replicas"].get<int>(), 5);
  }

  void python_lists_with_selectors_and_reads_objects() {
    Run r = python(
        "v1 = client.CoreV1Api()\n"
        "pods = v1.list_namespaced_pod('default', label_selector='app=web')\n"
        "print(sorted(p.metadata.name for p in pods.items))\n"
        "print(v1.read_namespaced_service('web', 'default').spec.cluster_ip)\n"
        "d = client.AppsV1Api().read_namespaced_deployment('web', 'default')\n"
        "print(d.spec.template.spec.containers[0].image, d.spec.strategy.rolling_update.max_surge)\n"
        "print(client.VersionApi().get_code().git_version)\n");
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    const QStringList lines = r.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines[0], QString("['web-1', 'web-2']"));
    QVERIFY(lines[1].startsWith("127.0.2."));
    QCOMPARE(lines[2], QString("mambogo/web:2 25%"));
  }

  void kubectl_delete_pod_marks_it_terminating() {
    Run r = kubectl({"delete", "pod", "web-2", "--wait=false"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains("pod \"web-2\" deleted"), qPrintable(r.out));
    const Json pod = stored("pods", "web-2");
    QVERIFY(pod["metadata"].contains("deletionTimestamp"));
    QCOMPARE(pod["metadata"]["deletionGracePeriodSeconds"].get<int>(), 30);
    r = kubectl({"get", "pod", "web-2"});
    QVERIFY2(r.out.split('\n')[1].simplified().startsWith("web-2 1/1 Terminating"), qPrintable(r.out));
    store_->remove({"pods", "default", "web-2"});  // what the kubelet does after the grace period
    r = kubectl({"get", "pod", "web-2"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("Error from server (NotFound): pods \"web-2\" not found"), qPrintable(r.err));
  }

  void python_watch_sees_added_modified_deleted_in_order() {
    QProcess p;
    p.setProcessEnvironment(environment());
    const QString script = QString(
                               "from kubernetes import client, config, watch\n"
                               "config.load_kube_config(config_file='%1')\n"
                               "v1 = client.CoreV1Api()\n"
                               "rv = v1.list_namespaced_config_map('default').metadata.resource_version\n"
                               "print('READY', flush=True)\n"
                               "for ev in watch.Watch().stream(v1.list_namespaced_config_map, 'default', resource_version=rv, timeout_seconds=6):\n"
                               "    print(ev['type'], ev['object'].metadata.name, (ev['object'].data or {}).get('k'), flush=True)\n")
                               .arg(kubeconfig_);
    p.start("/usr/bin/python3", {"-c", script});
    QVERIFY(p.waitForStarted(10'000));
    // importing the client takes a while on a busy machine
    QByteArray early;
    QElapsedTimer waited;
    waited.start();
    while (!early.contains("READY") && p.state() == QProcess::Running && waited.elapsed() < 180'000) {
      p.waitForReadyRead(1000);
      early += p.readAllStandardOutput();
    }
    QVERIFY2(early.contains("READY"), p.readAllStandardError().constData());
    QTest::qWait(1000);  // the watch request is on its way; events after `rv` are replayed anyway
    store_->create("configmaps", Json{{"metadata", {{"name", "watched"}, {"namespace", "default"}}}, {"data", {{"k", "1"}}}});
    store_->mutate({"configmaps", "default", "watched"}, [](Json& o) { o["data"]["k"] = "2"; });
    store_->remove({"configmaps", "default", "watched"});
    QVERIFY(p.waitForFinished(120'000));
    const QString out = QString::fromUtf8(early + p.readAllStandardOutput()).remove("READY\n");
    QVERIFY2(p.exitCode() == 0, qPrintable(out + p.readAllStandardError()));
    QCOMPARE(out.split('\n', Qt::SkipEmptyParts),
             (QStringList{"ADDED watched 1", "MODIFIED watched 2", "DELETED watched 2"}));
  }

  void bad_inputs_get_status_errors_and_change_nothing() {
    const auto version = store_->resource_version();
    write_file("bad.json", "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {");
    Run r = kubectl({"create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", path("bad.json")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("BadRequest"), qPrintable(r.err));

    write_file("badname.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n");
    r = kubectl({"apply", "-f", path("badname.yaml")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("is invalid") && r.err.contains("metadata.name"), qPrintable(r.err));

    Json stale = stored("configmaps", "web-config");
    stale["metadata"]["resourceVersion"] = "1";
    stale["data"]["LOG_LEVEL"] = "debug";
    write_file("stale.json", stale.dump());
    r = kubectl({"replace", "-f", path("stale.json")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("Conflict") || r.err.contains("the object has been modified"), qPrintable(r.err));

    r = kubectl({"get", "--raw", "/api/v1/namespaces/default/widgets"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("NotFound"), qPrintable(r.err));
    r = kubectl({"get", "widgets"});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("the server doesn't have a resource type \"widgets\""), qPrintable(r.err));

    write_file("typo.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: typo\nspec:\n  ports:\n  - port: 80\n    targetport: 8080\n");
    r = kubectl({"apply", "-f", path("typo.yaml")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("unknown field \"spec.ports[0].targetport\""), qPrintable(r.err));

    // kubectl asks for a password when it has no credentials; the Python client just sends none
    r = python("try:\n  client.CoreV1Api().list_namespaced_pod('default')\nexcept client.ApiException as e:\n"
               "  print(e.status, json.loads(e.body)['reason'])\n",
               anonymous_kubeconfig_);
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out.trimmed(), QString("401 Unauthorized"));
    r = kubectl({"delete", "configmap", "web-config"}, wrong_token_kubeconfig_);
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains("Unauthorized"), qPrintable(r.err));
    QCOMPARE(store_->resource_version(), version);
    QCOMPARE(stored("configmaps", "web-config")["data"]["LOG_LEVEL"], "info");
  }

  void kubectl_logs_and_top_use_the_node() {
    Run r = kubectl({"logs", "web-1", "--tail=2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out, QString("line two\nline three\n"));
    r = kubectl({"top", "pod", "-l", "app=web"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.split('\n')[0].simplified() == "NAME CPU(cores) MEMORY(bytes)", qPrintable(r.out));
    QVERIFY2(r.out.split('\n')[1].simplified() == "web-1 123m 64Mi", qPrintable(r.out));
  }

  void kubectl_logs_follow_streams() {
    // logs -f: what the file has, what is appended, and the end when the pod goes away
    QProcess follow;
    start_kubectl(follow, {"logs", "-f", "web-1"});
    QByteArray seen;
    QVERIFY2(wait_for_output(follow, seen, "line three\n"), seen.constData());
    {
      std::ofstream log(path("app.log").toStdString(), std::ios::app);
      log << "line four\n";
    }
    QVERIFY2(wait_for_output(follow, seen, "line four\n"), seen.constData());
    store_->remove({"pods", "default", "web-1"});
    QVERIFY(follow.waitForFinished(60'000));
    QCOMPARE(follow.exitCode(), 0);
    QCOMPARE(QString::fromUtf8(seen + follow.readAllStandardOutput()), QString("line one\nline two\nline three\nline four\n"));
  }

  void kubectl_get_watch_prints_rows_as_objects_change() {
    QProcess watch;
    start_kubectl(watch, {"get", "configmaps", "--watch"});
    auto stop = qScopeGuard([&] {
      watch.kill();
      watch.waitForFinished(5'000);
    });
    QByteArray seen;
    QVERIFY2(wait_for_output(watch, seen, "web-config"), seen.constData() + watch.readAllStandardError());
    QVERIFY2(seen.simplified().startsWith("NAME DATA AGE"), seen.constData());
    store_->create("configmaps", Json{{"metadata", {{"name", "row-added"}, {"namespace", "default"}}}, {"data", {{"a", "1"}, {"b", "2"}}}});
    QVERIFY2(wait_for_output(watch, seen, "row-added"), seen.constData() + watch.readAllStandardError());
    // kubectl writes a row cell by cell: read on to the end of that row's line
    for (int i = 0; i < 20 && seen.indexOf('\n', seen.indexOf("row-added")) < 0; ++i) {
      watch.waitForReadyRead(500);
      seen += watch.readAllStandardOutput();
    }
    const QList<QByteArray> lines = seen.split('\n');
    bool row = false;
    for (const auto& line : lines)
      if (line.simplified().startsWith("row-added 2 ")) row = true;
    QVERIFY2(row, seen.constData());
  }

  void pod_proxy_reaches_the_pod_port() {
    const quint16 port = free_port();
    QVERIFY(port != 0);
    QDir(dir_.path()).mkpath("www");
    write_file("www/metrics", "http_server_requests_seconds_count 3\n");
    QProcess http;
    http.start("/usr/bin/python3", {"-m", "http.server", QString::number(port), "--bind", "127.0.0.1", "--directory", path("www")});
    QVERIFY(http.waitForStarted(10'000));
    auto stop = qScopeGuard([&] {
      http.kill();
      http.waitForFinished(5'000);
    });
    store_->create("pods", running_pod("web-proxy", "proxy", "127.0.0.1"));
    Run r;
    for (int attempt = 0; attempt < 50; ++attempt) {
      r = kubectl({"get", "--raw", QString("/api/v1/namespaces/default/pods/web-proxy:%1/proxy/metrics").arg(port)});
      if (r.code == 0) break;
      QTest::qWait(200);
    }
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out, QString("http_server_requests_seconds_count 3\n"));
  }
};

QTEST_GUILESS_MAIN(ApiServerClientsTest)
#include "tst_apiserver_clients.moc"
