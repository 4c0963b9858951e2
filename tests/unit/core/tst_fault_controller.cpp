// FaultController: the Chaos Mesh objects it writes, the time left it computes, and what it
// asks an API server (a local HTTP server keeping chaos objects in memory) to create, list
// and delete.
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QtTest>

#include "control_http_server.h"
#include "core/fault_controller.h"
#include "core/kube_client.h"

using mambogo::core::ActiveFault;
using mambogo::core::ConnectionSettings;
using mambogo::core::FaultController;
using mambogo::core::FaultSpec;
using mambogo::core::KubeClient;
using mambogo::test::ControlHttpServer;
using mambogo::test::HttpReply;
using mambogo::test::HttpRequest;
using Kind = FaultSpec::Kind;

namespace {

QJsonValue at(const QJsonObject& object, const QString& dottedPath) {
  QJsonValue v = object;
  for (const QString& key : dottedPath.split(QLatin1Char('.'))) v = v.toObject().value(key);
  return v;
}

// An API server's chaos-mesh.org collections: POST stores (stamping creationTimestamp), GET
// lists (honouring labelSelector k=v), DELETE removes.
class ChaosApi {
 public:
  ChaosApi() : server([this](const HttpRequest& r) { return handle(r); }) {}

  void preload(const QString& kind, const QString& name, bool labelled, int ageS, const QString& duration,
               const QJsonObject& spec) {
    QJsonObject metadata{{QStringLiteral("name"), name},
                         {QStringLiteral("namespace"), QStringLiteral("default")},
                         {QStringLiteral("creationTimestamp"),
                          QDateTime::currentDateTimeUtc().addSecs(-ageS).toString(Qt::ISODate)}};
    if (labelled) metadata[QStringLiteral("labels")] = QJsonObject{{QStringLiteral("mambogo.io/fault"), QStringLiteral("true")}};
    QJsonObject s = spec;
    s[QStringLiteral("duration")] = duration;
    objects[FaultController::collectionPath(kind, QStringLiteral("default"))][name] =
        QJsonObject{{QStringLiteral("kind"), kind}, {QStringLiteral("metadata"), metadata}, {QStringLiteral("spec"), s}};
  }

  QHash<QString, QMap<QString, QJsonObject>> objects;  // collection path -> name -> object
  ControlHttpServer server;

 private:
  HttpReply handle(const HttpRequest& r) {
    const QString path = r.path();
    if (r.method == "POST") {
      QJsonObject object = QJsonDocument::fromJson(r.body).object();
      QJsonObject metadata = object.value(QStringLiteral("metadata")).toObject();
      metadata[QStringLiteral("creationTimestamp")] = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
      object[QStringLiteral("metadata")] = metadata;
      objects[path][metadata.value(QStringLiteral("name")).toString()] = object;
      return {201, QJsonDocument(object).toJson(QJsonDocument::Compact)};
    }
    if (r.method == "DELETE") {
      const QString collection = path.section(QLatin1Char('/'), 0, -2);
      const bool existed = objects[collection].remove(path.section(QLatin1Char('/'), -1)) > 0;
      return existed ? HttpReply{200, "{}"} : HttpReply{404, R"({"kind":"Status","reason":"NotFound","code":404})"};
    }
    QJsonArray items;
    const QString selector = QUrlQuery(r.query()).queryItemValue(QStringLiteral("labelSelector"));
    for (const QJsonObject& object : objects.value(path)) {
      if (!selector.isEmpty()) {
        const QString key = selector.section(QLatin1Char('='), 0, 0), value = selector.section(QLatin1Char('='), 1);
        if (at(object, QStringLiteral("metadata.labels")).toObject().value(key).toString() != value) continue;
      }
      items.append(object);
    }
    return {200, QJsonDocument(QJsonObject{{QStringLiteral("items"), items}}).toJson(QJsonDocument::Compact)};
  }
};

ConnectionSettings settingsFor(const ControlHttpServer& server) {
  ConnectionSettings settings;
  settings.contextName = QStringLiteral("test");
  settings.server = QUrl(server.baseUrl());
  return settings;
}

FaultSpec spec(Kind kind, const QString& service, const QString& target = {}) {
  FaultSpec s;
  s.kind = kind;
  s.service = service;
  s.targetService = target;
  return s;
}

}  // namespace

class TestFaultController : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void buildsChaosMeshObjects_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("chaosKind");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");
    QTest::newRow("pod kill") << int(Kind::PodKill) << "PodChaos" << "spec.action" << "pod-kill";
    QTest::newRow("pod failure") << int(Kind::PodFailure) << "PodChaos" << "spec.action" << "pod-failure";
    QTest::newRow("pod failure picks one pod") << int(Kind::PodFailure) << "PodChaos" << "spec.mode" << "one";
    QTest::newRow("delay") << int(Kind::NetworkDelay) << "NetworkChaos" << "spec.delay.latency" << "200ms";
    QTest::newRow("delay target") << int(Kind::NetworkDelay) << "NetworkChaos"
                                  << "spec.target.selector.labelSelectors.app" << "payment-service";
    QTest::newRow("delay direction") << int(Kind::NetworkDelay) << "NetworkChaos" << "spec.direction" << "to";
    QTest::newRow("loss") << int(Kind::NetworkLoss) << "NetworkChaos" << "spec.loss.loss" << "50";
    QTest::newRow("partition") << int(Kind::NetworkPartition) << "NetworkChaos" << "spec.action" << "partition";
    QTest::newRow("http abort") << int(Kind::HttpAbort) << "HTTPChaos" << "spec.target" << "Request";
    QTest::newRow("http delay") << int(Kind::HttpDelay) << "HTTPChaos" << "spec.delay" << "1s";
    QTest::newRow("http 503 on responses") << int(Kind::HttpReplaceCode) << "HTTPChaos" << "spec.target" << "Response";
    QTest::newRow("http path") << int(Kind::HttpReplaceCode) << "HTTPChaos" << "spec.path" << "*";
    QTest::newRow("cpu") << int(Kind::CpuStress) << "StressChaos" << "spec.mode" << "one";
  }

  void buildsChaosMeshObjects() {
    QFETCH(int, kind);
    QFETCH(QString, chaosKind);
    QFETCH(QString, field);
    QFETCH(QString, expected);
    const QJsonObject object = FaultController::buildResource(
        spec(Kind(kind), QStringLiteral("order-service"), QStringLiteral("payment-service")), QStringLiteral("f1"),
        QStringLiteral("shop"));
    QCOMPARE(object.value(QStringLiteral("apiVersion")).toString(), QStringLiteral("chaos-mesh.org/v1alpha1"));
    QCOMPARE(object.value(QStringLiteral("kind")).toString(), chaosKind);
    QCOMPARE(at(object, QStringLiteral("metadata.namespace")).toString(), QStringLiteral("shop"));
    QCOMPARE(at(object, QStringLiteral("metadata.labels")).toObject().value(QStringLiteral("mambogo.io/fault")).toString(),
             QStringLiteral("true"));
    QCOMPARE(at(object, QStringLiteral("spec.duration")).toString(), QStringLiteral("30s"));
    QCOMPARE(at(object, QStringLiteral("spec.selector.labelSelectors.app")).toString(), QStringLiteral("order-service"));
    QCOMPARE(at(object, QStringLiteral("spec.selector.namespaces")).toArray().first().toString(), QStringLiteral("shop"));
    QCOMPARE(at(object, field).toVariant().toString(), expected);
  }

  void replaceCodeAndStressCarryTheirValues() {
    FaultSpec outage = spec(Kind::HttpReplaceCode, QStringLiteral("payment-service"));
    outage.replaceCode = 502;
    const QJsonObject http = FaultController::buildResource(outage, QStringLiteral("x"), QStringLiteral("default"));
    QCOMPARE(at(http, QStringLiteral("spec.replace.code")).toInt(), 502);
    QCOMPARE(at(http, QStringLiteral("spec.port")).toInt(), 8080);

    FaultSpec stress = spec(Kind::CpuStress, QStringLiteral("product-service"));
    stress.cpuWorkers = 2;
    stress.cpuLoadPercent = 80;
    stress.allPods = true;
    stress.durationS = 90;
    const QJsonObject cpu = FaultController::buildResource(stress, QStringLiteral("x"), QStringLiteral("default"));
    QCOMPARE(at(cpu, QStringLiteral("spec.stressors.cpu.workers")).toInt(), 2);
    QCOMPARE(at(cpu, QStringLiteral("spec.stressors.cpu.load")).toInt(), 80);
    QCOMPARE(at(cpu, QStringLiteral("spec.mode")).toString(), QStringLiteral("all"));
    QCOMPARE(at(cpu, QStringLiteral("spec.duration")).toString(), QStringLiteral("90s"));
  }

  void refusesSpecsThatMakeNoSense_data() {
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("service");
    QTest::addColumn<QString>("target");
    QTest::addColumn<int>("durationS");
    QTest::addColumn<QString>("field");
    QTest::newRow("no service") << int(Kind::PodKill) << "" << "" << 30 << "service";
    QTest::newRow("bad service name") << int(Kind::PodKill) << "Payment Service" << "" << 30 << "service";
    QTest::newRow("network without target") << int(Kind::NetworkDelay) << "order-service" << "" << 30 << "target";
    QTest::newRow("zero duration") << int(Kind::HttpAbort) << "payment-service" << "" << 0 << "duration";
  }

  void refusesSpecsThatMakeNoSense() {
    QFETCH(int, kind);
    QFETCH(QString, service);
    QFETCH(QString, target);
    QFETCH(int, durationS);
    QFETCH(QString, field);
    FaultSpec s = spec(Kind(kind), service, target);
    s.durationS = durationS;
    try {
      FaultController::buildResource(s, QStringLiteral("x"), QStringLiteral("default"));
      QFAIL("no error");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString::fromUtf8(e.what()).startsWith(field + QLatin1Char(':')), e.what());
    }
  }

  void namesAreUniqueDnsLabels() {
    const FaultSpec s = spec(Kind::PodFailure, QStringLiteral("payment-service"));
    const QString a = FaultController::makeName(s), b = FaultController::makeName(s);
    QVERIFY(a != b);
    QVERIFY(a.startsWith(QLatin1String("mambogo-pod-failure-payment-service-")));
    QVERIFY(QRegularExpression(QStringLiteral("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")).match(a).hasMatch());
    const QString longName = FaultController::makeName(spec(Kind::PodKill, QString(80, QLatin1Char('a'))));
    QVERIFY(longName.size() <= 63);
  }

  void computesTimeLeftFromCreationAndDuration() {
    const QDateTime now = QDateTime::currentDateTimeUtc();
    auto object = [&](int ageS, const QString& duration) {
      return QJsonObject{
          {QStringLiteral("metadata"),
           QJsonObject{{QStringLiteral("name"), QStringLiteral("f")},
                       {QStringLiteral("creationTimestamp"), now.addSecs(-ageS).toString(Qt::ISODate)}}},
          {QStringLiteral("spec"),
           QJsonObject{{QStringLiteral("action"), QStringLiteral("pod-failure")},
                       {QStringLiteral("duration"), duration},
                       {QStringLiteral("selector"),
                        QJsonObject{{QStringLiteral("labelSelectors"),
                                     QJsonObject{{QStringLiteral("app"), QStringLiteral("payment-service")}}}}}}}};
    };
    const ActiveFault running = FaultController::describe(QStringLiteral("PodChaos"), object(10, QStringLiteral("30s")), now);
    QCOMPARE(running.durationS, 30);
    QCOMPARE(running.remainingS, 20);
    QVERIFY(!running.expired());
    QVERIFY(running.summary.contains(QLatin1String("payment-service")));
    QVERIFY(running.summary.contains(QLatin1String("pod-failure")));

    const ActiveFault minutes = FaultController::describe(QStringLiteral("PodChaos"), object(60, QStringLiteral("1m30s")), now);
    QCOMPARE(minutes.remainingS, 30);
    // Go's duration syntax as Chaos Mesh writes it, micro sign included (it was read as ns once).
    QCOMPARE(FaultController::describe(QStringLiteral("PodChaos"), object(0, QStringLiteral("45000000µs")), now).durationS, 45);
    QCOMPARE(FaultController::describe(QStringLiteral("PodChaos"), object(0, QStringLiteral("45000000us")), now).durationS, 45);
    const ActiveFault over = FaultController::describe(QStringLiteral("PodChaos"), object(10, QStringLiteral("5s")), now);
    QCOMPARE(over.remainingS, 0);
    QVERIFY(over.expired());
    const ActiveFault endless = FaultController::describe(QStringLiteral("PodChaos"), object(10, QString()), now);
    QCOMPARE(endless.remainingS, -1);
    QVERIFY(!endless.expired());
  }

  void injectCreatesTheObjectAndListsIt() {
    ChaosApi api;
    KubeClient client(settingsFor(api.server));
    FaultController faults(&client, QStringLiteral("default"));
    QSignalSpy injected(&faults, &FaultController::injected);
    QSignalSpy failed(&faults, &FaultController::failed);

    FaultSpec outage = spec(Kind::HttpReplaceCode, QStringLiteral("payment-service"));
    outage.durationS = 45;
    faults.inject(outage);
    QVERIFY(injected.wait(10'000));
    QCOMPARE(failed.count(), 0);
    const auto fault = injected.first().at(0).value<ActiveFault>();
    QCOMPARE(fault.kind, QStringLiteral("HTTPChaos"));
    QVERIFY(fault.managed);
    QVERIFY(fault.summary.contains(QLatin1String("503")));

    const QString collection = QStringLiteral("/apis/chaos-mesh.org/v1alpha1/namespaces/default/httpchaos");
    QCOMPARE(api.objects.value(collection).size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(faults.activeFaults().size(), 1, 10'000);
    const ActiveFault listed = faults.activeFaults().first();
    QCOMPARE(listed.name, fault.name);
    QVERIFY2(listed.remainingS > 35 && listed.remainingS <= 45, qPrintable(QString::number(listed.remainingS)));
  }

  void invalidSpecFailsWithoutARequest() {
    ChaosApi api;
    KubeClient client(settingsFor(api.server));
    FaultController faults(&client, QStringLiteral("default"));
    QSignalSpy failed(&faults, &FaultController::failed);
    faults.inject(spec(Kind::NetworkLoss, QStringLiteral("order-service")));  // no target
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.first().at(0).toString().contains(QLatin1String("target")));
    QTest::qWait(200);
    for (const auto& r : api.server.requests()) QVERIFY(r.method != "POST");
  }

  void recoverAllDeletesEveryLabelledFaultAndNothingElse() {
    ChaosApi api;
    const QJsonObject selector{{QStringLiteral("selector"),
                                QJsonObject{{QStringLiteral("labelSelectors"),
                                             QJsonObject{{QStringLiteral("app"), QStringLiteral("payment-service")}}}}}};
    api.preload(QStringLiteral("PodChaos"), QStringLiteral("ours"), true, 5, QStringLiteral("60s"), selector);
    api.preload(QStringLiteral("NetworkChaos"), QStringLiteral("from-the-tui"), true, 5, QStringLiteral("60s"), selector);
    api.preload(QStringLiteral("StressChaos"), QStringLiteral("hand-made"), false, 5, QStringLiteral("60s"), selector);
    KubeClient client(settingsFor(api.server));
    FaultController faults(&client, QStringLiteral("default"));
    QTRY_COMPARE_WITH_TIMEOUT(faults.activeFaults().size(), 3, 10'000);

    QSignalSpy recovered(&faults, &FaultController::recovered);
    faults.recoverAll();
    QVERIFY(recovered.wait(10'000));
    QCOMPARE(recovered.first().at(0).toInt(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(faults.activeFaults().size(), 1, 10'000);
    QCOMPARE(faults.activeFaults().first().name, QStringLiteral("hand-made"));
    QVERIFY(!faults.activeFaults().first().managed);
  }

  void removeDeletesOneFault() {
    ChaosApi api;
    api.preload(QStringLiteral("PodChaos"), QStringLiteral("one"), true, 1, QStringLiteral("60s"), {});
    api.preload(QStringLiteral("PodChaos"), QStringLiteral("two"), true, 1, QStringLiteral("60s"), {});
    KubeClient client(settingsFor(api.server));
    FaultController faults(&client, QStringLiteral("default"));
    QTRY_COMPARE_WITH_TIMEOUT(faults.activeFaults().size(), 2, 10'000);
    QSignalSpy removed(&faults, &FaultController::removed);
    ActiveFault one;
    for (const auto& f : faults.activeFaults())
      if (f.name == QLatin1String("one")) one = f;
    faults.remove(one);
    QVERIFY(removed.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(faults.activeFaults().size(), 1, 10'000);
    QCOMPARE(faults.activeFaults().first().name, QStringLiteral("two"));
  }
};

QTEST_GUILESS_MAIN(TestFaultController)
#include "tst_fault_controller.moc"
