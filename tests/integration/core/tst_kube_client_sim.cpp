// The console's Kubernetes client against mambogo-cluster's own API server (in process, on a
// loopback port): list + watch through informers, create / merge-patch / delete, Status
// errors, and the cluster tree built from what the server streams.
#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QSignalSpy>
#include <QtTest>

#include "apiserver/api_server.h"
#include "core/cluster_model.h"
#include "core/informer.h"
#include "core/kube_client.h"
#include "store/store.h"

using namespace mambogo::core;
using mambogo::sim::ApiServer;
using mambogo::sim::ApiServerOptions;
using mambogo::sim::Store;

namespace {

QJsonObject podJson(const QString& name, const QString& app) {
  return QJsonObject{{QStringLiteral("apiVersion"), QStringLiteral("v1")},
                     {QStringLiteral("kind"), QStringLiteral("Pod")},
                     {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), name},
                                                              {QStringLiteral("labels"), QJsonObject{{QStringLiteral("app"), app}}}}},
                     {QStringLiteral("spec"), QJsonObject{{QStringLiteral("containers"),
                                                           QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("main")},
                                                                                  {QStringLiteral("image"), QStringLiteral("mambogo/demo")}}}}}}};
}

mambogo::sim::Json deploymentJson(const std::string& name) {
  return mambogo::sim::Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")" + name +
                                   R"("},"spec":{"replicas":2,"selector":{"matchLabels":{"app":")" + name +
                                   R"("}},"template":{"metadata":{"labels":{"app":")" + name +
                                   R"("}},"spec":{"containers":[{"name":"main","image":"mambogo/demo"}]}}}})");
}

}  // namespace

class TestKubeClientSim : public QObject {
  Q_OBJECT

  Store m_store;
  std::unique_ptr<ApiServer> m_server;
  std::unique_ptr<KubeClient> m_client;

 private Q_SLOTS:
  void initTestCase() {
    m_server = std::make_unique<ApiServer>(m_store, nullptr, ApiServerOptions{});
    m_server->start();
    ConnectionSettings settings;
    settings.contextName = QStringLiteral("mambogo-local");
    settings.server = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server->port()));
    m_client = std::make_unique<KubeClient>(settings);
  }

  void cleanupTestCase() {
    m_client.reset();
    m_server->stop();
  }

  void informerFollowsCreatePatchAndDelete() {
    Informer pods(m_client.get(), QStringLiteral("/api/v1/namespaces/default/pods"));
    QSignalSpy synced(&pods, &Informer::synced), added(&pods, &Informer::added), modified(&pods, &Informer::modified),
        deleted(&pods, &Informer::deleted);
    pods.start();
    QTRY_COMPARE_WITH_TIMEOUT(synced.size(), 1, 10'000);

    QList<KubeResponse> replies;
    auto keep = [&](const KubeResponse& r) { replies.append(r); };
    m_client->create(QStringLiteral("/api/v1/namespaces/default/pods"), podJson(QStringLiteral("watched-1"), QStringLiteral("demo")), this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(replies.size(), 1, 10'000);
    QVERIFY2(replies[0].ok(), qPrintable(replies[0].error.toString()));
    QTRY_COMPARE_WITH_TIMEOUT(added.size(), 1, 10'000);
    QCOMPARE(nameOf(added[0][0].value<QJsonObject>()), QStringLiteral("watched-1"));
    QVERIFY(!uidOf(added[0][0].value<QJsonObject>()).isEmpty());

    m_client->mergePatch(QStringLiteral("/api/v1/namespaces/default/pods/watched-1"),
                         QJsonObject{{QStringLiteral("metadata"), QJsonObject{{QStringLiteral("labels"), QJsonObject{{QStringLiteral("tier"), QStringLiteral("web")}}}}}},
                         this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(modified.size(), 1, 10'000);
    const QJsonObject patched = modified[0][0].value<QJsonObject>();
    QCOMPARE(patched[QStringLiteral("metadata")].toObject()[QStringLiteral("labels")].toObject()[QStringLiteral("tier")].toString(),
             QStringLiteral("web"));

    m_client->remove(QStringLiteral("/api/v1/namespaces/default/pods/watched-1"), this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(deleted.size(), 1, 10'000);
    QCOMPARE(pods.size(), 0);
  }

  void statusErrorsAreReadable() {
    std::optional<KubeResponse> got;
    m_client->get(QStringLiteral("/api/v1/namespaces/default/pods/does-not-exist"), {}, this, [&](const KubeResponse& r) { got = r; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10'000);
    QCOMPARE(got->error.code, 404);
    QCOMPARE(got->error.reason, QStringLiteral("NotFound"));
    QVERIFY2(got->error.message.contains(QStringLiteral("does-not-exist")), qPrintable(got->error.toString()));
  }

  void clusterTreeFromTheServersStreams() {
    Informer deployments(m_client.get(), QStringLiteral("/apis/apps/v1/namespaces/default/deployments"));
    Informer pods(m_client.get(), QStringLiteral("/api/v1/namespaces/default/pods"));
    ClusterModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSources(&deployments, nullptr, &pods, nullptr);
    deployments.start();
    pods.start();
    QTRY_VERIFY_WITH_TIMEOUT(deployments.hasSynced() && pods.hasSynced(), 10'000);

    m_server->apply(deploymentJson("checkout"));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    QCOMPARE(model.data(model.index(0, ClusterModel::NameColumn)).toString(), QStringLiteral("checkout"));
    QCOMPARE(model.data(model.index(0, ClusterModel::ReadyColumn)).toString().section(QLatin1Char('/'), 1), QStringLiteral("2"));

    // No pod runtime here: pods are created as a controller would, through the API.
    int created = 0;
    for (const char* name : {"checkout-a", "checkout-b"})
      m_client->create(QStringLiteral("/api/v1/namespaces/default/pods"), podJson(QLatin1String(name), QStringLiteral("checkout")), this,
                       [&](const KubeResponse& r) { created += r.ok(); });
    QTRY_COMPARE_WITH_TIMEOUT(created, 2, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(model.index(0, 0)), 2, 10'000);

    bool removed = false;
    m_client->remove(QStringLiteral("/apis/apps/v1/namespaces/default/deployments/checkout"), this, [&](const KubeResponse& r) { removed = r.ok(); });
    QTRY_VERIFY_WITH_TIMEOUT(removed, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 0, 10'000);
  }
};

QTEST_GUILESS_MAIN(TestKubeClientSim)
#include "tst_kube_client_sim.moc"
