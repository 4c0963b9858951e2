// The full profile as a user meets it: `mambogo-cluster up --profile full` runs Redis and
// PostgreSQL (a primary and a streaming replica, both StatefulSets with claim templates) from
// packaging/kubernetes/full (the replica cloned by its init container), the init SQL creates the
// services' databases, and an order placed through the gateway is stored on the primary,
// streamed to the replica and confirmed.
#include <QtTest>

#include "cluster_process.h"
#include "raw_http.h"

using mambogo::test::LocalCluster;
using nlohmann::json;

namespace {

// psql against a pod's address as the manifests' database user; "" when it fails.
QString psql(const LocalCluster& cluster, const std::string& host, const QString& db, const QString& sql) {
  QProcessEnvironment env = cluster.env();
  env.insert("PGPASSWORD", "mambogo-local-only");
  const auto r = mambogo::test::run_command("psql", {"-h", QString::fromStdString(host), "-U", "mambogo", "-d", db,
                                                     "-Atc", sql}, env, 20'000);
  return r.ok() ? r.out.trimmed() : QString();
}

std::string pod_ip(const LocalCluster& cluster, const QString& pod) {
  const json p = cluster.kubectl_json({"get", "pod", pod});
  return p.is_object() ? p["status"].value("podIP", "") : "";
}

}  // namespace

class ClusterFullTest : public QObject {
  Q_OBJECT

  std::unique_ptr<LocalCluster> cluster_;

 private slots:
  void initTestCase() {
    if (QStandardPaths::findExecutable("redis-server").isEmpty() || !QFileInfo::exists("/usr/lib/postgresql"))
      QSKIP("the full profile needs redis-server and PostgreSQL (packaging/dev/setup.sh installs them)");
    cluster_ = std::make_unique<LocalCluster>("full");
    const bool ready = cluster_->wait_ready();
    if (!ready) qWarning().noquote() << cluster_->log();
    QVERIFY2(ready, "mambogo-cluster up --profile full did not report READY");
  }

  void stores_run_as_statefulsets() {
    const auto r = cluster_->kubectl({"get", "statefulsets"});
    QVERIFY2(r.ok(), qPrintable(r.err));
    for (const char* name : {"redis", "postgres", "postgres-replica"}) QVERIFY2(r.out.contains(name), name);
    const json postgres_pod = cluster_->kubectl_json({"get", "pods", "postgres-0"});
    QCOMPARE(postgres_pod["status"].value("phase", ""), std::string("Running"));
  }

  // The replica's data comes from its init container, as on a real cluster: clone-primary ran
  // pg_basebackup to completion before the server started, and kubectl shows it.
  void the_replica_is_cloned_by_its_init_container() {
    const json pod = cluster_->kubectl_json({"get", "pod", "postgres-replica-0"});
    const json init = pod["status"].value("initContainerStatuses", json::array());
    QCOMPARE(init.size(), std::size_t{1});
    QCOMPARE(init[0].value("name", ""), std::string("clone-primary"));
    QCOMPARE(init[0]["state"]["terminated"].value("reason", ""), std::string("Completed"));
    QCOMPARE(init[0]["state"]["terminated"].value("exitCode", -1), 0);
    bool initialized = false;
    for (const auto& c : pod["status"]["conditions"]) initialized |= c["type"] == "Initialized" && c["status"] == "True";
    QVERIFY(initialized);
    const auto logs = cluster_->kubectl({"logs", "postgres-replica-0", "-c", "clone-primary"});
    QVERIFY2(logs.ok(), qPrintable(logs.err));
    QVERIFY2(logs.out.contains("pg_basebackup: base backup completed") && logs.out.contains("standby data cloned from"),
             qPrintable(logs.out));
    // Without -c, kubectl names the app container (the only one); the server did not clone.
    const auto server = cluster_->kubectl({"logs", "postgres-replica-0"});
    QVERIFY2(server.ok(), qPrintable(server.err));
    QVERIFY2(!server.out.contains("pg_basebackup"), qPrintable(server.out));
  }

  void the_replica_streams_from_the_primary() {
    const std::string primary = pod_ip(*cluster_, "postgres-0");
    const std::string replica = pod_ip(*cluster_, "postgres-replica-0");
    QVERIFY(!primary.empty() && !replica.empty());
    QCOMPARE(psql(*cluster_, replica, "postgres", "select pg_is_in_recovery()"), QString("t"));
    QCOMPARE(psql(*cluster_, primary, "postgres", "select pg_is_in_recovery()"), QString("f"));
    QVERIFY(LocalCluster::eventually(
        [&] { return psql(*cluster_, primary, "postgres", "select state from pg_stat_replication") == "streaming"; },
        30'000));
    // The init script of the manifests' ConfigMap created the services' databases.
    const QString dbs = psql(*cluster_, primary, "postgres", "select string_agg(datname, ',' order by datname) from pg_database");
    for (const char* db : {"order_service", "payment_service", "product_service"}) QVERIFY2(dbs.contains(db), qPrintable(dbs));
  }

  void an_order_is_stored_replicated_and_confirmed() {
    QFile token_file(cluster_->state_dir() + "/auth/user.jwt");
    QVERIFY(token_file.open(QIODevice::ReadOnly));
    const std::string auth = "Authorization: Bearer " + token_file.readAll().trimmed().toStdString() + "\r\n";
    const json svc = cluster_->kubectl_json({"get", "svc", "gateway"});
    const std::string ip = svc["spec"].value("clusterIP", "");
    const int port = svc["spec"]["ports"][0].value("port", 0);

    const auto products = mambogo::test::http_request(ip, port, "GET", "/api/products?size=1", {}, auth);
    QVERIFY(products && products->status == 200);
    const std::string product_id = json::parse(products->body)["content"][0]["id"];
    const json order{{"items", {{{"productId", product_id}, {"quantity", 1}}}},
                     {"shippingAddress", "1 Cluster Road"},
                     {"paymentMethod", "CREDIT_CARD"}};
    const auto created = mambogo::test::http_request(ip, port, "POST", "/api/orders", order.dump(),
                                                     auth + "Content-Type: application/json\r\nX-Idempotency-Key: full-1\r\n");
    QVERIFY(created);
    QVERIFY2(created->status == 201, created->body.c_str());
    const std::string order_id = json::parse(created->body)["orderId"];

    const std::string replica = pod_ip(*cluster_, "postgres-replica-0");
    const QString query = QString("select count(*) from orders where id::text = '%1'").arg(QString::fromStdString(order_id));
    QVERIFY2(LocalCluster::eventually([&] { return psql(*cluster_, replica, "order_service", query) == "1"; }, 30'000),
             "the order never reached the replica");
    QVERIFY(LocalCluster::eventually(
        [&] {
          const auto got = mambogo::test::http_request(ip, port, "GET", "/api/orders/" + order_id, {}, auth);
          return got && got->status == 200 && json::parse(got->body, nullptr, false).value("status", "") == "CONFIRMED";
        },
        60'000));
  }

  void down_leaves_nothing_running() {
    cluster_->stop();
    const auto r = mambogo::test::run_command("pgrep", {"-f", cluster_->state_dir()}, cluster_->env(), 10'000);
    QVERIFY2(r.out.trimmed().isEmpty(), qPrintable(r.out));
  }
};

QTEST_GUILESS_MAIN(ClusterFullTest)
#include "tst_cluster_full.moc"
