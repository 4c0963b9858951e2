// The console's item models under QAbstractItemModelTester, fed with synthetic Kubernetes
// objects through their public slots (what the informers call) and with a MetricsCollector
// fed captured-shape expositions: rows appear, change in place and go, never with a reset.
#include <QAbstractItemModelTester>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QtTest>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/hpa_model.h"
#include "core/informer.h"
#include "core/metrics_collector.h"

using namespace mambogo::core;

namespace {

const QDateTime kNow = QDateTime::fromString(QStringLiteral("2026-11-27T01:00:00Z"), Qt::ISODate);

QJsonObject json(const QString& text) {
  QJsonParseError error;
  const QJsonObject o = QJsonDocument::fromJson(text.toUtf8(), &error).object();
  if (error.error != QJsonParseError::NoError) qFatal("bad test JSON: %s in %s", qPrintable(error.errorString()), qPrintable(text));
  return o;
}

QJsonObject deployment(const QString& name, int replicas, int ready, const QString& rv = QStringLiteral("1")) {
  return json(QStringLiteral(R"({"metadata":{"name":"%1","namespace":"default","uid":"d-%1","resourceVersion":"%4",
      "creationTimestamp":"2026-11-27T00:00:00Z"},
      "spec":{"replicas":%2,"selector":{"matchLabels":{"app":"%1"}},"template":{"metadata":{"labels":{"app":"%1"}}}},
      "status":{"readyReplicas":%3}})")
                  .arg(name).arg(replicas).arg(ready).arg(rv));
}

QJsonObject pod(const QString& name, const QString& app, const QString& waitingReason = {}, int restarts = 0) {
  const QString state = waitingReason.isEmpty() ? QStringLiteral(R"({"running":{}})")
                                                : QStringLiteral(R"({"waiting":{"reason":"%1"}})").arg(waitingReason);
  return json(QStringLiteral(R"({"metadata":{"name":"%1","namespace":"default","uid":"p-%1","labels":{"app":"%2"},
      "creationTimestamp":"2026-11-27T00:55:00Z"},
      "spec":{"containers":[{"name":"main"}]},
      "status":{"phase":"Running","containerStatuses":[{"ready":%3,"restartCount":%4,"state":%5}]}})")
                  .arg(name, app, waitingReason.isEmpty() ? QStringLiteral("true") : QStringLiteral("false"))
                  .arg(restarts)
                  .arg(state));
}

QByteArray requests(int okFast) {
  return QByteArrayLiteral("# TYPE http_server_requests_seconds histogram\n") +
         "http_server_requests_seconds_count{status=\"200\"} " + QByteArray::number(okFast) + "\n" +
         "http_server_requests_seconds_bucket{status=\"200\",le=\"0.05\"} " + QByteArray::number(okFast) + "\n" +
         "http_server_requests_seconds_bucket{status=\"200\",le=\"+Inf\"} " + QByteArray::number(okFast) + "\n";
}

QString text(const QAbstractItemModel& m, int row, int column, const QModelIndex& parent = {}) {
  return m.data(m.index(row, column, parent)).toString();
}

}  // namespace

class TestModels : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void clusterTreeFollowsWorkloadsAndPods() {
    ClusterModel model;
    model.setClock([] { return kNow; });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);

    model.upsertPod(pod(QStringLiteral("cart-1"), QStringLiteral("cart-service")));  // before its deployment
    QCOMPARE(model.rowCount(), 0);
    model.upsertWorkload(QStringLiteral("Deployment"), deployment(QStringLiteral("order-service"), 2, 1));
    model.upsertPod(pod(QStringLiteral("order-1"), QStringLiteral("order-service"), {}, 1));
    model.upsertPod(pod(QStringLiteral("order-2"), QStringLiteral("order-service"), QStringLiteral("ContainerCreating")));
    QCOMPARE(model.rowCount(), 1);
    const QModelIndex order = model.index(0, 0);
    QCOMPARE(model.rowCount(order), 2);
    QCOMPARE(text(model, 0, ClusterModel::NameColumn), QStringLiteral("order-service"));
    QCOMPARE(text(model, 0, ClusterModel::StatusColumn), QStringLiteral("Progressing"));
    QCOMPARE(text(model, 0, ClusterModel::ReadyColumn), QStringLiteral("1/2"));
    QCOMPARE(text(model, 0, ClusterModel::AgeColumn), QStringLiteral("60m"));
    QCOMPARE(text(model, 1, ClusterModel::StatusColumn, order), QStringLiteral("ContainerCreating"));
    QCOMPARE(text(model, 0, ClusterModel::AgeColumn, order), QStringLiteral("5m"));
    QCOMPARE(text(model, 0, ClusterModel::ReadyColumn, order), QStringLiteral("1/1"));
    QCOMPARE(model.data(model.index(0, 0, order), ClusterModel::KindRole).toString(), QStringLiteral("Pod"));

    model.upsertWorkload(QStringLiteral("Deployment"), deployment(QStringLiteral("cart-service"), 1, 1));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowCount(model.index(1, 0)), 1);  // the early pod found its parent
    model.upsertWorkload(QStringLiteral("StatefulSet"), deployment(QStringLiteral("redis"), 1, 1));
    QCOMPARE(model.data(model.index(2, 0), ClusterModel::KindRole).toString(), QStringLiteral("StatefulSet"));

    // A pod update changes its row (and its parent's aggregates) in place.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.upsertPod(pod(QStringLiteral("order-1"), QStringLiteral("order-service"), QStringLiteral("CrashLoopBackOff"), 4));
    QCOMPARE(inserted.size(), 0);
    QVERIFY(changed.size() >= 2);
    QCOMPARE(text(model, 0, ClusterModel::StatusColumn, order), QStringLiteral("CrashLoopBackOff"));
    QCOMPARE(model.data(model.index(0, ClusterModel::RestartsColumn)).toInt(), 4);
    model.upsertWorkload(QStringLiteral("Deployment"), deployment(QStringLiteral("order-service"), 2, 2, QStringLiteral("2")));
    QCOMPARE(text(model, 0, ClusterModel::StatusColumn), QStringLiteral("Available"));

    model.removePod(pod(QStringLiteral("order-2"), QStringLiteral("order-service")));
    QCOMPARE(model.rowCount(order), 1);
    model.removeWorkload(deployment(QStringLiteral("order-service"), 2, 2));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(text(model, 0, ClusterModel::NameColumn), QStringLiteral("cart-service"));
    QCOMPARE(resets.size(), 0);
  }

  void clusterMetricsColumnsComeFromTheCollector() {
    TimeSeriesStore store;
    MetricsCollector collector(nullptr, nullptr, &store, MetricsCollector::Options{});
    ClusterModel model;
    model.setSources(nullptr, nullptr, nullptr, &collector);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.upsertWorkload(QStringLiteral("Deployment"), deployment(QStringLiteral("gateway"), 2, 2));
    model.upsertPod(pod(QStringLiteral("gateway-1"), QStringLiteral("gateway")));
    model.upsertPod(pod(QStringLiteral("gateway-2"), QStringLiteral("gateway")));

    const qint64 t0 = kNow.toMSecsSinceEpoch();
    for (const char* name : {"gateway-1", "gateway-2"})
      collector.ingestExposition(QLatin1String(name), QStringLiteral("gateway"), requests(0), t0);
    collector.finishRound(t0);
    collector.ingestExposition(QStringLiteral("gateway-1"), QStringLiteral("gateway"), requests(30), t0 + 2000);
    collector.ingestExposition(QStringLiteral("gateway-2"), QStringLiteral("gateway"), requests(10), t0 + 2000);
    collector.ingestPodMetrics(json(QStringLiteral(R"({"items":[{"metadata":{"name":"gateway-1"},"containers":[{"usage":{"cpu":"120m","memory":"32Mi"}}]},
        {"metadata":{"name":"gateway-2"},"containers":[{"usage":{"cpu":"80m","memory":"16Mi"}}]}]})")));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    collector.finishRound(t0 + 2000);  // emits updated(): the model refreshes in place
    QCOMPARE(changed.size(), 2);       // one block of top-level rows, one of gateway's pods
    QCOMPARE(text(model, 0, ClusterModel::RpsColumn), QStringLiteral("20.0"));
    QCOMPARE(text(model, 0, ClusterModel::P99Column), QStringLiteral("49.5 ms"));  // 0.05 * 0.99
    QCOMPARE(text(model, 0, ClusterModel::CpuColumn), QStringLiteral("200m"));
    QCOMPARE(text(model, 0, ClusterModel::MemoryColumn), QStringLiteral("48Mi"));
    const QModelIndex gateway = model.index(0, 0);
    QCOMPARE(text(model, 0, ClusterModel::RpsColumn, gateway), QStringLiteral("15.0"));
    QCOMPARE(model.data(model.index(1, ClusterModel::RpsColumn, gateway), ClusterModel::ValueRole).toDouble(), 5.0);
  }

  void clusterModelFollowsAnInformer() {
    Informer deployments(nullptr, QStringLiteral("/apis/apps/v1/namespaces/default/deployments"));
    Informer pods(nullptr, QStringLiteral("/api/v1/namespaces/default/pods"));
    ClusterModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setSources(&deployments, nullptr, &pods, nullptr);
    deployments.replaceAll({deployment(QStringLiteral("product-service"), 1, 1)});
    pods.replaceAll({pod(QStringLiteral("product-1"), QStringLiteral("product-service"))});
    QCOMPARE(model.rowCount(model.index(0, 0)), 1);
    pods.apply(QStringLiteral("DELETED"), pod(QStringLiteral("product-1"), QStringLiteral("product-service")));
    QCOMPARE(model.rowCount(model.index(0, 0)), 0);
    deployments.replaceAll({});  // a relist without it
    QCOMPARE(model.rowCount(), 0);
  }

  void hpaRowsShowReplicasMetricsAndConditions() {
    HpaModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    const QString hpa = QStringLiteral(R"({"metadata":{"name":"order-service","namespace":"default","uid":"h1"},
        "spec":{"scaleTargetRef":{"kind":"Deployment","name":"order-service"},"minReplicas":2,"maxReplicas":10,
          "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
                     {"type":"Pods","pods":{"metric":{"name":"http_requests"},"target":{"type":"AverageValue","averageValue":"100"}}}]},
        "status":{"currentReplicas":%1,"desiredReplicas":%2,
          "currentMetrics":[%3],
          "conditions":[{"type":"AbleToScale","status":"True","reason":"ReadyForNewScale"},
                        {"type":"ScalingActive","status":"True","reason":"ValidMetricFound"},
                        {"type":"ScalingLimited","status":"False"}]}})");
    model.upsert(json(hpa.arg(2).arg(2).arg(QString())));
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(text(model, 0, HpaModel::ReferenceColumn), QStringLiteral("Deployment/order-service"));
    QCOMPARE(text(model, 0, HpaModel::MetricsColumn), QStringLiteral("cpu: <unknown>/70%, http_requests: <unknown>/100"));
    QCOMPARE(text(model, 0, HpaModel::ConditionsColumn),
             QStringLiteral("AbleToScale=True (ReadyForNewScale); ScalingActive=True (ValidMetricFound); ScalingLimited=False"));

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.upsert(json(hpa.arg(2).arg(4).arg(QStringLiteral(
        R"({"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":135,"averageValue":"270m"}}},
           {"type":"Pods","pods":{"metric":{"name":"http_requests"},"current":{"averageValue":"42"}}})"))));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(model.data(model.index(0, HpaModel::DesiredColumn)).toInt(), 4);
    QCOMPARE(model.data(model.index(0, HpaModel::MinColumn)).toInt(), 2);
    QCOMPARE(model.data(model.index(0, HpaModel::MaxColumn)).toInt(), 10);
    QCOMPARE(text(model, 0, HpaModel::MetricsColumn), QStringLiteral("cpu: 135%/70%, http_requests: 42/100"));
    model.remove(json(hpa.arg(0).arg(0).arg(QString())));
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(resets.size(), 0);
  }

  void eventsAreOrderedUpdatedInPlaceAndCapped() {
    EventModel model(3);
    model.setClock([] { return kNow; });
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString event = QStringLiteral(R"({"metadata":{"uid":"%1"},"type":"%2","reason":"%3","message":"%4","count":%5,
        "lastTimestamp":"%6","involvedObject":{"kind":"Pod","name":"order-1"}})");
    model.upsertKubeEvent(json(event.arg(QStringLiteral("e2"), QStringLiteral("Warning"), QStringLiteral("BackOff"),
                                         QStringLiteral("Back-off restarting"), QStringLiteral("1"), QStringLiteral("2026-11-27T00:59:00Z"))));
    model.upsertKubeEvent(json(event.arg(QStringLiteral("e1"), QStringLiteral("Normal"), QStringLiteral("Scheduled"),
                                         QStringLiteral("Assigned"), QStringLiteral("1"), QStringLiteral("2026-11-27T00:50:00Z"))));
    QCOMPARE(text(model, 0, EventModel::ReasonColumn), QStringLiteral("Scheduled"));  // older first
    QCOMPARE(text(model, 1, EventModel::ObjectColumn), QStringLiteral("Pod/order-1"));

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.upsertKubeEvent(json(event.arg(QStringLiteral("e2"), QStringLiteral("Warning"), QStringLiteral("BackOff"),
                                         QStringLiteral("Back-off restarting"), QStringLiteral("5"), QStringLiteral("2026-11-27T00:59:30Z"))));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.data(model.index(1, EventModel::CountColumn)).toInt(), 5);

    TimeSeriesStore store;
    MetricsCollector collector(nullptr, nullptr, &store, MetricsCollector::Options{});
    model.connectCollector(&collector);
    Q_EMIT collector.breakerChanged(QStringLiteral("order-service"), QStringLiteral("payment"), QStringLiteral("closed"), QStringLiteral("open"));
    model.addConsoleEvent(QStringLiteral("fault"), QStringLiteral("PodChaos/kill-payment"), QStringLiteral("FaultInjected"),
                          QStringLiteral("pod-kill on payment-service for 30s"));
    QCOMPARE(model.rowCount(), 3);  // capped: the oldest (Scheduled) went
    QCOMPARE(text(model, 0, EventModel::ReasonColumn), QStringLiteral("BackOff"));
    QCOMPARE(text(model, 1, EventModel::MessageColumn), QStringLiteral("breaker payment: closed -> open"));
    QCOMPARE(model.data(model.index(1, 0), EventModel::CategoryRole).toString(), QStringLiteral("breaker"));
    QCOMPARE(text(model, 1, EventModel::TypeColumn), QStringLiteral("Warning"));
    QCOMPARE(text(model, 2, EventModel::SourceColumn), QStringLiteral("console"));
    QCOMPARE(model.data(model.index(2, 0), EventModel::TimeRole).toDateTime(), kNow);
  }
};

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
