// The environment and command line a container gets, as Kubernetes builds them.
#include "pods/image_map.h"
#include "pods/pod_env.h"

#include <QtTest>

using namespace mambogo::sim;

namespace {

std::string value_of(const EnvList& env, const std::string& name) {
  for (const auto& [n, v] : env)
    if (n == name) return v;
  return "<unset>";
}

Json pod_with(const Json& container) {
  return {{"metadata", {{"name", "web-1"}, {"namespace", "shop"}, {"uid", "u-1"}, {"labels", {{"app", "web"}}}}},
          {"spec", {{"nodeName", "mambogo-local"}, {"containers", Json::array({container})}}}};
}

}  // namespace

class PodEnvTest : public QObject {
  Q_OBJECT
 private slots:
  void expandsLikeKubernetes_data() {
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("known") << "http://$(HOST):$(PORT)/x" << "http://h:80/x";
    QTest::newRow("unknown stays") << "$(NOPE)-x" << "$(NOPE)-x";
    QTest::newRow("escaped") << "$$(HOST)" << "$(HOST)";
    QTest::newRow("double dollar") << "a$$b" << "a$b";
    QTest::newRow("lone dollar") << "cost $5" << "cost $5";
    QTest::newRow("trailing dollar") << "x$" << "x$";
    QTest::newRow("unclosed") << "$(HOST" << "$(HOST";
    QTest::newRow("empty name") << "$()" << "$()";
    QTest::newRow("adjacent") << "$(HOST)$(PORT)" << "h80";
  }
  void expandsLikeKubernetes() {
    QFETCH(QString, input);
    QFETCH(QString, expected);
    const std::map<std::string, std::string> vars = {{"HOST", "h"}, {"PORT", "80"}};
    QCOMPARE(QString::fromStdString(expand_vars(input.toStdString(), vars)), expected);
  }

  void serviceVariablesFollowKubelet() {
    const Json svc = {{"metadata", {{"name", "payment-service"}}},
                      {"spec", {{"clusterIP", "127.0.2.7"},
                                {"ports", Json::array({{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}},
                                                       {{"name", "admin-port"}, {"port", 9090}}})}}}};
    const Json headless = {{"metadata", {{"name", "db"}}}, {"spec", {{"clusterIP", "None"}}}};
    const auto env = service_env({svc, headless});
    QCOMPARE(env.at("PAYMENT_SERVICE_SERVICE_HOST"), std::string("127.0.2.7"));
    QCOMPARE(env.at("PAYMENT_SERVICE_SERVICE_PORT"), std::string("8080"));
    QCOMPARE(env.at("PAYMENT_SERVICE_SERVICE_PORT_HTTP"), std::string("8080"));
    QCOMPARE(env.at("PAYMENT_SERVICE_SERVICE_PORT_ADMIN_PORT"), std::string("9090"));
    QCOMPARE(env.at("PAYMENT_SERVICE_PORT"), std::string("tcp://127.0.2.7:8080"));
    QCOMPARE(env.at("PAYMENT_SERVICE_PORT_9090_TCP_ADDR"), std::string("127.0.2.7"));
    QVERIFY(!env.contains("DB_SERVICE_HOST"));
  }

  void containerEnvHasPrecedenceAndExpansion() {
    const Json container = {
        {"name", "app"},
        {"envFrom", Json::array({{{"configMapRef", {{"name", "settings"}}}, {"prefix", "CFG_"}}})},
        {"env", Json::array({{{"name", "PAYMENT_URL"},
                              {"value", "http://$(PAYMENT_SERVICE_SERVICE_HOST):$(PAYMENT_SERVICE_SERVICE_PORT)"}},
                             {{"name", "SELF"}, {"value", "$(POD_NAME).$(POD_NAMESPACE) at $(POD_IP) later=$(LATER)"}},
                             {{"name", "LATER"}, {"value", "x"}},
                             {{"name", "LEVEL"}, {"valueFrom", {{"configMapKeyRef", {{"name", "settings"}, {"key", "level"}}}}}},
                             {{"name", "PASSWORD"}, {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", "password"}}}}}},
                             {{"name", "APP"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels['app']"}}}}}},
                             {{"name", "NODE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "spec.nodeName"}}}}}},
                             {{"name", "CPU_LIMIT"}, {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}, {"divisor", "1m"}}}}}},
                             {{"name", "SERVER_PORT"}, {"value", "9000"}}})},
        {"resources", {{"limits", {{"cpu", "500m"}}}}}};
    EnvSources sources;
    sources.configmaps["settings"] = {{"data", {{"level", "debug"}, {"mode", "fast"}}}};
    sources.secrets["db"] = {{"data", {{"password", "czNjcjN0"}}}};  // "s3cr3t"
    sources.services = {{{"metadata", {{"name", "payment-service"}}},
                         {"spec", {{"clusterIP", "127.0.2.9"}, {"ports", Json::array({{{"port", 8080}}})}}}}};
    sources.pod_ip = "127.0.1.5";
    sources.base = {{"PATH", "/usr/bin:/bin"}};
    sources.image_env = {{"SERVER_ADDRESS", "$(POD_IP)"}, {"SERVER_PORT", "8080"}};
    const EnvList env = container_env(pod_with(container), container, sources);

    QCOMPARE(value_of(env, "PAYMENT_URL"), std::string("http://127.0.2.9:8080"));
    QCOMPARE(value_of(env, "SELF"), std::string("web-1.shop at 127.0.1.5 later=$(LATER)"));
    QCOMPARE(value_of(env, "LEVEL"), std::string("debug"));
    QCOMPARE(value_of(env, "CFG_mode"), std::string("fast"));
    QCOMPARE(value_of(env, "PASSWORD"), std::string("s3cr3t"));
    QCOMPARE(value_of(env, "APP"), std::string("web"));
    QCOMPARE(value_of(env, "NODE"), std::string("mambogo-local"));
    QCOMPARE(value_of(env, "CPU_LIMIT"), std::string("500"));
    QCOMPARE(value_of(env, "SERVER_ADDRESS"), std::string("127.0.1.5"));
    QCOMPARE(value_of(env, "SERVER_PORT"), std::string("9000"));  // the manifest beats the image
    QCOMPARE(value_of(env, "POD_IP"), std::string("127.0.1.5"));
    QCOMPARE(value_of(env, "PAYMENT_SERVICE_SERVICE_HOST"), std::string("127.0.2.9"));
    QCOMPARE(value_of(env, "PATH"), std::string("/usr/bin:/bin"));
    int server_ports = 0;
    for (const auto& [n, v] : env) server_ports += n == "SERVER_PORT";
    QCOMPARE(server_ports, 1);
  }

  void missingReferencesAreConfigErrors() {
    const Json container = {{"name", "app"},
                            {"env", Json::array({{{"name", "X"},
                                                  {"valueFrom", {{"configMapKeyRef", {{"name", "absent"}, {"key", "k"}}}}}}})}};
    try {
      container_env(pod_with(container), container, EnvSources{});
      QFAIL("a missing ConfigMap must be an error");
    } catch (const EnvError& e) {
      QCOMPARE(std::string(e.what()), std::string("configmap \"absent\" not found"));
    }
    Json optional = container;
    optional["env"][0]["valueFrom"]["configMapKeyRef"]["optional"] = true;
    QCOMPARE(value_of(container_env(pod_with(optional), optional, EnvSources{}), "X"), std::string("<unset>"));
    EnvSources with_map;
    with_map.configmaps["absent"] = {{"data", {{"other", "1"}}}};
    QVERIFY_THROWS_EXCEPTION(EnvError, container_env(pod_with(container), container, with_map));
  }

  void commandAndArgsOverrideTheImage() {
    const EnvList env = {{"POD_IP", "127.0.1.3"}};
    const std::vector<std::string> cmd = {"redis-server", "--bind", "$(POD_IP)"};
    const std::vector<std::string> args = {"--save", ""};
    QCOMPARE(container_argv(Json::object(), cmd, args, env),
             (std::vector<std::string>{"redis-server", "--bind", "127.0.1.3", "--save", ""}));
    QCOMPARE(container_argv({{"args", {"--port", "7000"}}}, cmd, args, env),
             (std::vector<std::string>{"redis-server", "--bind", "127.0.1.3", "--port", "7000"}));
    QCOMPARE(container_argv({{"command", {"/bin/echo", "$(POD_IP)", "$$(POD_IP)"}}}, cmd, args, env),
             (std::vector<std::string>{"/bin/echo", "127.0.1.3", "$(POD_IP)"}));
  }

  void mountPathsAreTranslated_data() {
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("exact") << "/data" << "/host/d";
    QTest::newRow("below") << "/data/pg/x.conf" << "/host/d/pg/x.conf";
    QTest::newRow("longest wins") << "/data/cache/a" << "/host/c/a";
    QTest::newRow("prefix of a name is not a mount") << "/database" << "/database";
    QTest::newRow("elsewhere") << "--dir=/data" << "--dir=/data";
    QTest::newRow("trailing slash mount") << "/etc/config/app.yaml" << "/host/cfg/app.yaml";
  }
  void mountPathsAreTranslated() {
    QFETCH(QString, value);
    QFETCH(QString, expected);
    const MountMap mounts = {{"/data", "/host/d"}, {"/data/cache", "/host/c"}, {"/etc/config/", "/host/cfg"}};
    QCOMPARE(QString::fromStdString(translate_mount_path(value.toStdString(), mounts)), expected);
  }

  void imageNamesIgnoreRegistryAndTag_data() {
    QTest::addColumn<QString>("image");
    QTest::addColumn<QString>("key");
    QTest::newRow("tag") << "mambogo/order-service:1.0" << "mambogo/order-service";
    QTest::newRow("library") << "docker.io/library/redis:7.2" << "redis";
    QTest::newRow("registry port") << "localhost:5000/mambogo/cart-service:dev" << "mambogo/cart-service";
    QTest::newRow("digest") << "postgres@sha256:abcd" << "postgres";
    QTest::newRow("plain") << "redis" << "redis";
  }
  void imageNamesIgnoreRegistryAndTag() {
    QFETCH(QString, image);
    QFETCH(QString, key);
    QCOMPARE(QString::fromStdString(ImageMap::key_of(image.toStdString())), key);
  }

  void imageMapSubstitutesVariables() {
    const ImageMap map = ImageMap::parse(R"yaml(
images:
  mambogo/order-service:
    command: ["${MAMBOGO_BIN_DIR}/mambogo-order"]
    env: {SERVER_ADDRESS: "$(POD_IP)", SERVER_PORT: "${CONTAINER_PORT}"}
    defaultPort: 8080
    stopSignal: SIGINT
)yaml", {{"MAMBOGO_BIN_DIR", "/opt/bin"}});
    auto entry = map.resolve("mambogo/order-service:latest");
    QVERIFY(entry);
    QCOMPARE(entry->command, std::vector<std::string>{"/opt/bin/mambogo-order"});
    QCOMPARE(entry->env[1].second, std::string("8080"));
    QCOMPARE(entry->env[0].second, std::string("$(POD_IP)"));  // left for the kubelet's expansion
    QCOMPARE(entry->stop_signal, 2);
    QCOMPARE(map.resolve("mambogo/order-service", {{"CONTAINER_PORT", "9000"}})->env[1].second, std::string("9000"));
    QVERIFY(!map.resolve("nginx"));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, ImageMap::parse("images:\n  x: {args: [a]}\n", {}));
  }

  void shippedImageMapLoads() {
    const ImageMap map = ImageMap::load(ImageMap::default_file(), {{"MAMBOGO_BIN_DIR", "/b"}});
    for (const char* image : {"mambogo/gateway", "mambogo/product-service", "mambogo/cart-service",
                              "mambogo/order-service", "mambogo/payment-service", "redis", "postgres"})
      QVERIFY2(map.resolve(image), image);
    QCOMPARE(map.resolve("mambogo/order-service")->command[0], std::string("/b/mambogo-order"));
    QVERIFY(map.resolve("postgres")->command[0].ends_with("simulator/images/postgres.sh"));
  }
};

QTEST_GUILESS_MAIN(PodEnvTest)
#include "tst_pods_env.moc"
