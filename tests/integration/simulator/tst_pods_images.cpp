// The shipped image map (simulator/images/images.yaml) runs the real servers as pods: redis
// bound to its pod address, and postgres as a primary with a streaming replica.
#include "tst_pods_fixture.h"
#include "raw_http.h"

#include <cstdio>

using namespace podtest;

namespace {

bool installed(const char* program) { return ::access(program, X_OK) == 0; }

// The first line a shell command prints (psql -tA).
std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void use_shipped_images(Cluster& c) {
  c.options.images = mambogo::sim::ImageMap::load(mambogo::sim::ImageMap::default_file(),
                                                  {{"MAMBOGO_BIN_DIR", "/nonexistent"}});
  // The postgres user must reach the volumes under the state directory.
  std::filesystem::permissions(c.options.state_dir, std::filesystem::perms::others_exec | std::filesystem::perms::group_exec,
                               std::filesystem::perm_options::add);
}

}  // namespace

class ImagesTest : public QObject {
  Q_OBJECT
 private slots:
  void redisAnswersOnItsPodAddress() {
    if (!installed("/usr/bin/redis-server")) QSKIP("redis-server is not installed");
    Cluster c;
    use_shipped_images(c);
    c.start();
    const int port = free_port();
    c.create_pod("redis-0", Json::array({{{"name", "redis"},
                                          {"image", "redis:7"},
                                          {"ports", Json::array({{{"containerPort", port}}})},
                                          {"readinessProbe", {{"tcpSocket", {{"port", port}}}, {"periodSeconds", 1}}}}}));
    QVERIFY2(wait_for([&] { return c.ready("redis-0"); }), c.dump("redis-0").c_str());
    const std::string ip = c.pod("redis-0")["status"]["podIP"];
    QCOMPARE(run("redis-cli -h " + ip + " -p " + std::to_string(port) + " ping"), std::string("PONG"));
    // Bound to the pod's address only.
    QVERIFY(run("redis-cli -h 127.0.0.1 -p " + std::to_string(port) + " ping 2>&1") != "PONG");
  }

  void postgresRunsAPrimaryAndAStreamingReplica() {
    if (!installed("/usr/lib/postgresql/15/bin/postgres")) QSKIP("PostgreSQL 15 is not installed");
    Cluster c;
    use_shipped_images(c);
    c.start();
    const int port = free_port();
    auto pg = [&](const std::string& name, const Json& env) {
      c.create_pod(name, Json::array({{{"name", "postgres"},
                                       {"image", "postgres:15"},
                                       {"ports", Json::array({{{"containerPort", port}}})},
                                       {"env", env},
                                       {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", "/var/lib/postgresql/data"}}})},
                                       {"readinessProbe", {{"exec", {{"command", {"pg_isready", "-h", "$(POD_IP)", "-p", std::to_string(port)}}}},
                                                           {"periodSeconds", 1}}}}}),
                   {{"volumes", Json::array({{{"name", "data"}, {"emptyDir", Json::object()}}})},
                    {"terminationGracePeriodSeconds", 10}});
    };
    pg("postgres-0", Json::array());
    QVERIFY2(wait_for([&] { return c.ready("postgres-0"); }, 30s), c.dump("postgres-0").c_str());
    const std::string primary = c.pod("postgres-0")["status"]["podIP"];
    pg("postgres-replica-0", Json::array({{{"name", "POSTGRES_PRIMARY_HOST"}, {"value", primary}},
                                          {{"name", "POSTGRES_PRIMARY_PORT"}, {"value", std::to_string(port)}}}));
    QVERIFY2(wait_for([&] { return c.ready("postgres-replica-0"); }, 30s), c.dump("postgres-replica-0").c_str());
    const std::string replica = c.pod("postgres-replica-0")["status"]["podIP"];
    auto on = [&](const std::string& host, const std::string& sql) {
      return run("psql -h " + host + " -p " + std::to_string(port) + " -U postgres -tAc \"" + sql + "\" 2>&1");
    };
    QCOMPARE(on(primary, "select pg_is_in_recovery()"), std::string("f"));
    QCOMPARE(on(replica, "select pg_is_in_recovery()"), std::string("t"));
    on(primary, "create table t(x int); insert into t values (42)");
    QVERIFY(wait_for([&] { return on(replica, "select x from t") == "42"; }, 10s));
    // The server runs as the postgres user.
    const pid_t pid = c.pid_of("postgres-0");
    QCOMPARE(run("stat -c %U /proc/" + std::to_string(pid)), std::string("postgres"));
    c.kubelet->stop();
    QVERIFY(group_members(pid).empty());
  }
};

QTEST_GUILESS_MAIN(ImagesTest)
#include "tst_pods_images.moc"
