// The main window connected through a kubeconfig to an API server on loopback (a small
// stand-in answering lists, the pod proxy's /metrics, metrics.k8s.io and quiet watches): the
// Cluster tree shows the deployments and their pods, the autoscaler feeds the replica chart,
// the topology colours order-service's open payment-service breaker red, the events arrive.
// Also: the Launch button with a stand-in mambogo-cluster. Saves test-artifacts/gui-connected.png.
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTreeView>
#include <QTreeWidget>
#include <QtTest>

#include "control_http_server.h"
#include "core/cluster_model.h"
#include "core/event_model.h"
#include "gui/chartspanel.h"
#include "gui/clusterpanel.h"
#include "core/cluster_session.h"
#include "gui/eventspanel.h"
#include "gui/mainwindow.h"
#include "gui/topologyview.h"

using mambogo::core::ClusterModel;
using mambogo::gui::ChartsPanel;
using mambogo::gui::MainWindow;
using mambogo::gui::TopologyView;
using mambogo::test::ControlHttpServer;
using mambogo::test::HttpReply;
using mambogo::test::HttpRequest;

namespace {

const QStringList kApps{QStringLiteral("gateway"), QStringLiteral("product-service"), QStringLiteral("cart-service"),
                        QStringLiteral("order-service"), QStringLiteral("payment-service")};

QString stamp(int secondsAgo) { return QDateTime::currentDateTimeUtc().addSecs(-secondsAgo).toString(Qt::ISODate); }

QJsonObject deployment(const QString& app, int replicas) {
  return QJsonObject{
      {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), app},
                                               {QStringLiteral("namespace"), QStringLiteral("default")},
                                               {QStringLiteral("uid"), QStringLiteral("d-") + app},
                                               {QStringLiteral("resourceVersion"), QStringLiteral("10")},
                                               {QStringLiteral("generation"), 1},
                                               {QStringLiteral("creationTimestamp"), stamp(600)},
                                               {QStringLiteral("labels"), QJsonObject{{QStringLiteral("app"), app}}}}},
      {QStringLiteral("spec"),
       QJsonObject{{QStringLiteral("replicas"), replicas},
                   {QStringLiteral("selector"),
                    QJsonObject{{QStringLiteral("matchLabels"), QJsonObject{{QStringLiteral("app"), app}}}}}}},
      {QStringLiteral("status"), QJsonObject{{QStringLiteral("replicas"), replicas},
                                             {QStringLiteral("readyReplicas"), replicas},
                                             {QStringLiteral("updatedReplicas"), replicas},
                                             {QStringLiteral("observedGeneration"), 1}}}};
}

QJsonObject pod(const QString& app, int index) {
  const QString name = QStringLiteral("%1-7d9f%2").arg(app).arg(index);
  return QJsonObject{
      {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), name},
                                               {QStringLiteral("namespace"), QStringLiteral("default")},
                                               {QStringLiteral("uid"), QStringLiteral("p-") + name},
                                               {QStringLiteral("resourceVersion"), QStringLiteral("11")},
                                               {QStringLiteral("creationTimestamp"), stamp(300 - index * 60)},
                                               {QStringLiteral("labels"), QJsonObject{{QStringLiteral("app"), app}}}}},
      {QStringLiteral("spec"), QJsonObject{{QStringLiteral("containers"),
                                            QJsonArray{QJsonObject{{QStringLiteral("name"), app}}}}}},
      {QStringLiteral("status"),
       QJsonObject{{QStringLiteral("phase"), QStringLiteral("Running")},
                   {QStringLiteral("podIP"), QStringLiteral("127.0.1.%1").arg(10 + index)},
                   {QStringLiteral("conditions"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("Ready")},
                                                                         {QStringLiteral("status"), QStringLiteral("True")}}}},
                   {QStringLiteral("containerStatuses"),
                    QJsonArray{QJsonObject{{QStringLiteral("name"), app},
                                           {QStringLiteral("ready"), true},
                                           {QStringLiteral("restartCount"), index},
                                           {QStringLiteral("state"),
                                            QJsonObject{{QStringLiteral("running"),
                                                         QJsonObject{{QStringLiteral("startedAt"), stamp(200)}}}}}}}}}}};
}

QJsonObject hpa() {
  return QJsonObject{
      {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), QStringLiteral("order-service")},
                                               {QStringLiteral("namespace"), QStringLiteral("default")},
                                               {QStringLiteral("uid"), QStringLiteral("h-1")},
                                               {QStringLiteral("resourceVersion"), QStringLiteral("12")}}},
      {QStringLiteral("spec"),
       QJsonObject{{QStringLiteral("scaleTargetRef"), QJsonObject{{QStringLiteral("kind"), QStringLiteral("Deployment")},
                                                                  {QStringLiteral("name"), QStringLiteral("order-service")}}},
                   {QStringLiteral("minReplicas"), 2},
                   {QStringLiteral("maxReplicas"), 6},
                   {QStringLiteral("metrics"),
                    QJsonArray{QJsonObject{
                        {QStringLiteral("type"), QStringLiteral("Resource")},
                        {QStringLiteral("resource"),
                         QJsonObject{{QStringLiteral("name"), QStringLiteral("cpu")},
                                     {QStringLiteral("target"), QJsonObject{{QStringLiteral("type"), QStringLiteral("Utilization")},
                                                                            {QStringLiteral("averageUtilization"), 70}}}}}}}}}},
      {QStringLiteral("status"),
       QJsonObject{{QStringLiteral("currentReplicas"), 2},
                   {QStringLiteral("desiredReplicas"), 3},
                   {QStringLiteral("currentMetrics"),
                    QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("Resource")},
                                           {QStringLiteral("resource"),
                                            QJsonObject{{QStringLiteral("name"), QStringLiteral("cpu")},
                                                        {QStringLiteral("current"),
                                                         QJsonObject{{QStringLiteral("averageUtilization"), 85}}}}}}}}}}};
}

QJsonObject event(const QString& uid, const QString& kind, const QString& name, const QString& reason,
                  const QString& message, const QString& type) {
  return QJsonObject{{QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), uid},
                                                              {QStringLiteral("namespace"), QStringLiteral("default")},
                                                              {QStringLiteral("uid"), uid},
                                                              {QStringLiteral("resourceVersion"), QStringLiteral("13")}}},
                     {QStringLiteral("involvedObject"), QJsonObject{{QStringLiteral("kind"), kind}, {QStringLiteral("name"), name}}},
                     {QStringLiteral("reason"), reason},
                     {QStringLiteral("message"), message},
                     {QStringLiteral("type"), type},
                     {QStringLiteral("count"), 1},
                     {QStringLiteral("lastTimestamp"), stamp(30)}};
}

QByteArray list(const QJsonArray& items) {
  return QJsonDocument(QJsonObject{{QStringLiteral("kind"), QStringLiteral("List")},
                                   {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("resourceVersion"), QStringLiteral("20")}}},
                                   {QStringLiteral("items"), items}})
      .toJson(QJsonDocument::Compact);
}

// A service's /metrics: counters that grow with every scrape, so rates are non-zero; 1 in 20
// requests answered 503; order-service's payment-service breaker open.
QByteArray metricsText(const QString& app, int scrape) {
  const double ok = 100.0 * scrape, failed = 5.0 * scrape;
  QByteArray text =
      "# TYPE http_server_requests_seconds histogram\n"
      "http_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"200\",le=\"0.005\"} " +
      QByteArray::number(ok * 0.5) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"200\",le=\"0.025\"} " +
      QByteArray::number(ok * 0.9) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"200\",le=\"0.1\"} " +
      QByteArray::number(ok) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"200\",le=\"+Inf\"} " +
      QByteArray::number(ok) + "\nhttp_server_requests_seconds_sum{method=\"GET\",uri=\"/api/x\",status=\"200\"} " +
      QByteArray::number(ok * 0.01) + "\nhttp_server_requests_seconds_count{method=\"GET\",uri=\"/api/x\",status=\"200\"} " +
      QByteArray::number(ok) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"503\",le=\"0.005\"} " +
      QByteArray::number(failed) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"503\",le=\"0.025\"} " +
      QByteArray::number(failed) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"503\",le=\"0.1\"} " +
      QByteArray::number(failed) + "\nhttp_server_requests_seconds_bucket{method=\"GET\",uri=\"/api/x\",status=\"503\",le=\"+Inf\"} " +
      QByteArray::number(failed) + "\nhttp_server_requests_seconds_sum{method=\"GET\",uri=\"/api/x\",status=\"503\"} " +
      QByteArray::number(failed * 0.001) + "\nhttp_server_requests_seconds_count{method=\"GET\",uri=\"/api/x\",status=\"503\"} " +
      QByteArray::number(failed) + "\n";
  if (app == QLatin1String("order-service")) {
    text += "# TYPE resilience4j_circuitbreaker_state gauge\n";
    for (const char* state : {"closed", "open", "half_open"})
      text += "resilience4j_circuitbreaker_state{name=\"payment-service\",state=\"" + QByteArray(state) + "\"} " +
              (QByteArray(state) == "open" ? "1" : "0") + "\n";
    for (const char* state : {"closed", "open", "half_open"})
      text += "resilience4j_circuitbreaker_state{name=\"product-service\",state=\"" + QByteArray(state) + "\"} " +
              (QByteArray(state) == "closed" ? "1" : "0") + "\n";
  }
  return text;
}

class FakeApiServer {
 public:
  FakeApiServer() : server([this](const HttpRequest& r) { return handle(r); }) {}
  ControlHttpServer server;

 private:
  HttpReply handle(const HttpRequest& r) {
    const QString path = r.path();
    if (r.query().contains(QLatin1String("watch=1"))) return {0, {}};  // quiet until the client leaves
    if (path.endsWith(QLatin1String("/proxy/metrics"))) {
      const QString podName = path.section(QLatin1Char('/'), -3, -3).section(QLatin1Char(':'), 0, 0);
      const QString app = podName.left(podName.lastIndexOf(QLatin1Char('-')));
      return {200, metricsText(app, ++m_scrapes[podName]), "text/plain; version=0.0.4"};
    }
    if (path.endsWith(QLatin1String("/deployments"))) {
      QJsonArray items;
      for (const QString& app : kApps) items.append(deployment(app, app == QLatin1String("order-service") ? 2 : 1));
      return {200, list(items)};
    }
    if (path.endsWith(QLatin1String("/pods")) && path.startsWith(QLatin1String("/apis/metrics.k8s.io"))) {
      QJsonArray items;
      for (const QString& app : kApps)
        items.append(QJsonObject{
            {QStringLiteral("metadata"), QJsonObject{{QStringLiteral("name"), app + QStringLiteral("-7d9f0")}}},
            {QStringLiteral("containers"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), app},
                                    {QStringLiteral("usage"), QJsonObject{{QStringLiteral("cpu"), QStringLiteral("120m")},
                                                                          {QStringLiteral("memory"), QStringLiteral("48Mi")}}}}}}});
      return {200, list(items)};
    }
    if (path.endsWith(QLatin1String("/pods"))) {
      QJsonArray items;
      for (const QString& app : kApps) {
        items.append(pod(app, 0));
        if (app == QLatin1String("order-service")) items.append(pod(app, 1));
      }
      return {200, list(items)};
    }
    if (path.endsWith(QLatin1String("/horizontalpodautoscalers"))) return {200, list({hpa()})};
    if (path.endsWith(QLatin1String("/events")))
      return {200, list({event(QStringLiteral("e1"), QStringLiteral("HorizontalPodAutoscaler"), QStringLiteral("order-service"),
                               QStringLiteral("SuccessfulRescale"), QStringLiteral("New size: 3; reason: cpu resource utilization above target"),
                               QStringLiteral("Normal")),
                         event(QStringLiteral("e2"), QStringLiteral("Pod"), QStringLiteral("payment-service-7d9f0"),
                               QStringLiteral("Unhealthy"), QStringLiteral("Readiness probe failed: HTTP probe failed with statuscode: 503"),
                               QStringLiteral("Warning"))})};
    return {200, list({})};  // statefulsets, chaos collections
  }

  QHash<QString, int> m_scrapes;
};

}  // namespace

class TestGuiConnected : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName(QStringLiteral("MambogoTest"));
    QApplication::setApplicationName(QStringLiteral("tst_gui_connected"));
  }

  void showsTheClusterItIsConnectedTo() {
    FakeApiServer api;
    QTemporaryDir dir;
    const QString kubeconfig = dir.filePath(QStringLiteral("kubeconfig"));
    QFile file(kubeconfig);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QStringLiteral("apiVersion: v1\nkind: Config\ncurrent-context: loopback\n"
                              "clusters:\n- name: loopback\n  cluster:\n    server: %1\n"
                              "users:\n- name: me\n  user:\n    token: t0ken\n"
                              "contexts:\n- name: loopback\n  context:\n    cluster: loopback\n    user: me\n")
                   .arg(api.server.baseUrl())
                   .toUtf8());
    file.close();

    MainWindow window;
    window.resize(1440, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.connectTo(kubeconfig, QString());
    QVERIFY(window.session());
    QVERIFY(window.windowTitle().contains(QLatin1String("loopback")));

    // The tree: five deployments, order-service with its two pods, all Running.
    const QAbstractItemModel* tree = window.clusterPanel()->tree()->model();
    QVERIFY(tree == window.session()->clusterModel());
    QTRY_COMPARE_WITH_TIMEOUT(tree->rowCount(), 5, 15'000);
    QModelIndex order;
    for (int r = 0; r < tree->rowCount(); ++r)
      if (tree->index(r, 0).data().toString() == QLatin1String("order-service")) order = tree->index(r, 0);
    QVERIFY(order.isValid());
    QTRY_COMPARE_WITH_TIMEOUT(tree->rowCount(order), 2, 10'000);
    QCOMPARE(tree->index(0, ClusterModel::StatusColumn, order).data().toString(), QStringLiteral("Running"));

    // The autoscaler feeds the replica chart; the metrics feed rps and the breaker colours.
    QTRY_VERIFY_WITH_TIMEOUT(window.chartsPanel()->pointCount(ChartsPanel::Series::ReplicasDesired) >= 1, 10'000);
    QCOMPARE(window.chartsPanel()->currentHpa(), QStringLiteral("order-service"));
    QTRY_COMPARE_WITH_TIMEOUT(window.topology()->breakerColourShown(QStringLiteral("order-service"), QStringLiteral("payment-service")),
                              TopologyView::breakerColour(QStringLiteral("open")), 15'000);
    QCOMPARE(window.topology()->breakerColourShown(QStringLiteral("order-service"), QStringLiteral("product-service")),
             TopologyView::breakerColour(QStringLiteral("closed")));
    QTRY_VERIFY_WITH_TIMEOUT(
        window.topology()->edgeText(QStringLiteral("gateway"), QStringLiteral("order-service")).contains(QLatin1String("rps")),
        15'000);
    QTRY_VERIFY_WITH_TIMEOUT(window.chartsPanel()->pointCount(ChartsPanel::Series::RequestsPerSecond) >= 3, 15'000);

    // Events: the two Kubernetes events, and the console's breaker event.
    QTRY_VERIFY_WITH_TIMEOUT(window.session()->eventModel()->rowCount() >= 3, 10'000);

    window.clusterPanel()->tree()->setCurrentIndex(tree->index(0, 0, order));
    QDir().mkpath(QStringLiteral(MAMBOGO_ARTIFACT_DIR));
    QVERIFY(window.grab().save(QDir(QStringLiteral(MAMBOGO_ARTIFACT_DIR)).filePath(QStringLiteral("gui-connected.png"))));

    window.stopAction()->trigger();
    QVERIFY(!window.session());
    QVERIFY(window.clusterPanel()->tree()->model() == nullptr);
  }

  // "Launch local cluster" with a stand-in mambogo-cluster (the launcher tests' script) whose
  // kubeconfig points at the API stand-in: one click shows the pods coming up, then connects,
  // points the Load panel at the gateway with the user token; Stop runs `down`.
  void launchButtonStartsShowsProgressAndConnects() {
    FakeApiServer api;
    QTemporaryDir dir;
    const QString program = dir.filePath(QStringLiteral("mambogo-cluster"));
    QVERIFY(QFile::copy(QStringLiteral(MAMBOGO_FAKE_CLUSTER), program));
    QVERIFY(QFile(program).setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    qputenv("FAKE_CLUSTER_MODE", "ok");
    qputenv("FAKE_CLUSTER_LOG", dir.filePath(QStringLiteral("calls")).toUtf8());
    qputenv("FAKE_API_URL", api.server.baseUrl().toUtf8());

    MainWindow window;
    window.resize(1440, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    mambogo::core::LaunchOptions options;
    options.program = program;
    options.stateDir = dir.filePath(QStringLiteral("state"));
    options.profile = QStringLiteral("embedded");
    QDir().mkpath(options.stateDir);
    window.setLaunchOptions(options);
    QSignalSpy stopped(window.launcher(), &mambogo::core::ClusterLauncher::stopped);

    window.launchAction()->trigger();
    QVERIFY(!window.launchAction()->isEnabled());
    auto* pods = window.findChild<QTreeWidget*>(QStringLiteral("launchPods"));
    QVERIFY(pods);
    QTRY_COMPARE_WITH_TIMEOUT(pods->topLevelItemCount(), 2, 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(window.session() != nullptr, 10'000);
    QCOMPARE(pods->topLevelItem(0)->text(1), QStringLiteral("Running"));
    QCOMPARE(window.findChild<QLineEdit*>(QStringLiteral("loadTarget"))->text(), QStringLiteral("http://127.0.0.1:8080"));
    QTRY_COMPARE_WITH_TIMEOUT(window.clusterPanel()->tree()->model()->rowCount(), 5, 15'000);

    window.stopAction()->trigger();
    QVERIFY(stopped.wait(20'000));
    QVERIFY(window.launchAction()->isEnabled());
    QVERIFY(!window.session());
    qunsetenv("FAKE_API_URL");
  }
};

QTEST_MAIN(TestGuiConnected)
#include "tst_gui_connected.moc"
