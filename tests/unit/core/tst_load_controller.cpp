// LoadController: runs real load (the engine, real sockets) against a local HTTP server and
// publishes it as Qt signals on the test's thread.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "control_http_server.h"
#include "core/load_controller.h"

using mambogo::core::LoadController;
using mambogo::core::LoadSettings;
using mambogo::core::LoadSnapshot;
using mambogo::core::LoadSummary;
using mambogo::test::ControlHttpServer;
using mambogo::test::HttpReply;
using mambogo::test::HttpRequest;

class TestLoadController : public QObject {
  Q_OBJECT

 private:
  static HttpReply shopReply(const HttpRequest&) {
    return {200, R"({"content":[{"id":"p-1"}],"orderId":"o-1"})"};
  }

  static LoadSettings shortRun(const ControlHttpServer& server, const QString& plan, double seconds) {
    LoadSettings settings;
    settings.plan = plan;
    settings.target = server.baseUrl();
    settings.authToken = QStringLiteral("token-123");
    settings.rate = 20;
    settings.durationS = seconds;
    return settings;
  }

 private Q_SLOTS:
  void listsBuiltinPlansAndSeedPlanFiles() {
    const auto plans = LoadController::availablePlans(QStringLiteral(MAMBOGO_SCENARIO_DIR));
    QStringList ids, titles;
    for (const auto& p : plans) {
      ids << p.id;
      titles << p.title;
      QVERIFY2(!p.title.isEmpty(), qPrintable(p.id));
    }
    QVERIFY(ids.contains(QStringLiteral("builtin:browse")));
    QVERIFY(ids.contains(QStringLiteral("builtin:orders")));
    QVERIFY(titles.contains(QStringLiteral("artillery-load-test.yml")));
    QVERIFY(titles.contains(QStringLiteral("order-load-test.jmx")));
    QVERIFY(plans.first().builtIn);
    QVERIFY(!plans.last().builtIn);
  }

  void runsBuiltinPlanAndPublishesSnapshots() {
    ControlHttpServer server(shopReply);
    LoadController controller;
    QSignalSpy started(&controller, &LoadController::started);
    QSignalSpy snapshots(&controller, &LoadController::snapshotAvailable);
    QSignalSpy progress(&controller, &LoadController::progress);
    QSignalSpy finished(&controller, &LoadController::finished);
    QSignalSpy failed(&controller, &LoadController::failed);

    QVERIFY(controller.start(shortRun(server, QStringLiteral("builtin:browse"), 3)));
    QVERIFY(controller.isRunning());
    QVERIFY(finished.wait(30'000));
    QCOMPARE(failed.count(), 0);
    QVERIFY(!controller.isRunning());
    QCOMPARE(started.count(), 1);
    QCOMPARE(started.first().at(1).toDouble(), 3.0);
    QVERIFY(snapshots.count() >= 2);
    double peakRps = 0;
    for (const auto& args : snapshots) peakRps = std::max(peakRps, args.at(0).value<LoadSnapshot>().rps);
    QVERIFY2(peakRps > 5, qPrintable(QString::number(peakRps)));
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last().at(0).toInt(), 100);

    const auto summary = finished.first().at(0).value<LoadSummary>();
    QVERIFY2(summary.requests >= 40, qPrintable(QString::number(summary.requests)));  // 20/s x 3 s, 2 requests each
    QCOMPARE(summary.failed, 0);
    QVERIFY(!summary.stoppedEarly);
    QVERIFY(summary.p99Ms > 0);

    // The token reached the server, and the captured product id was used by the second step.
    bool authorized = false, detail = false;
    for (const auto& r : server.requests()) {
      authorized = authorized || r.headers.value("authorization") == "Bearer token-123";
      detail = detail || r.path() == QLatin1String("/api/products/p-1");
    }
    QVERIFY(authorized);
    QVERIFY(detail);
  }

  void countsFailedRequestsInSnapshots() {
    ControlHttpServer server([](const HttpRequest&) { return HttpReply{503, R"({"error":"unavailable"})"}; });
    LoadController controller;
    QSignalSpy snapshots(&controller, &LoadController::snapshotAvailable);
    QSignalSpy finished(&controller, &LoadController::finished);
    QVERIFY(controller.start(shortRun(server, QStringLiteral("builtin:browse"), 2)));
    QVERIFY(finished.wait(30'000));
    double worst = 0;
    for (const auto& args : snapshots) worst = std::max(worst, args.at(0).value<LoadSnapshot>().errorRate);
    QCOMPARE(worst, 1.0);
    const auto summary = finished.first().at(0).value<LoadSummary>();
    QVERIFY(summary.failed > 0);
    QCOMPARE(summary.failed, summary.requests);
  }

  void stopEndsTheRunEarly() {
    ControlHttpServer server(shopReply);
    LoadController controller;
    QSignalSpy snapshots(&controller, &LoadController::snapshotAvailable);
    QSignalSpy finished(&controller, &LoadController::finished);
    QVERIFY(controller.start(shortRun(server, QStringLiteral("builtin:browse"), 60)));
    QVERIFY(snapshots.wait(10'000));
    QVERIFY(!controller.start(shortRun(server, QStringLiteral("builtin:browse"), 1)));  // one run at a time
    controller.stop();
    QVERIFY(finished.wait(15'000));
    const auto summary = finished.first().at(0).value<LoadSummary>();
    QVERIFY(summary.stoppedEarly);
    QVERIFY2(summary.durationS < 30, qPrintable(QString::number(summary.durationS)));
  }

  void unreadablePlanFailsNamingTheFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("broken.yml"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("config:\n  target: [unclosed\n");
    file.close();

    LoadController controller;
    QSignalSpy failed(&controller, &LoadController::failed);
    QSignalSpy finished(&controller, &LoadController::finished);
    LoadSettings settings;
    settings.plan = path;
    QVERIFY(controller.start(settings));
    QVERIFY(failed.wait(10'000));
    QVERIFY2(failed.first().at(0).toString().contains(QLatin1String("broken.yml")),
             qPrintable(failed.first().at(0).toString()));
    QCOMPARE(finished.count(), 0);
    QVERIFY(!controller.isRunning());
  }

  void rejectsNonsenseOverrides() {
    LoadController controller;
    QSignalSpy failed(&controller, &LoadController::failed);
    LoadSettings settings;
    settings.plan = QStringLiteral("builtin:browse");
    settings.rate = -5;
    QVERIFY(controller.start(settings));
    QVERIFY(failed.wait(10'000));
    QVERIFY2(failed.first().at(0).toString().contains(QLatin1String("rate")), qPrintable(failed.first().at(0).toString()));

    settings.rate.reset();
    settings.plan = QStringLiteral("builtin:nonexistent");
    QVERIFY(controller.start(settings));
    QVERIFY(failed.wait(10'000));
    QVERIFY(failed.last().at(0).toString().contains(QLatin1String("nonexistent")));
  }
};

QTEST_GUILESS_MAIN(TestLoadController)
#include "tst_load_controller.moc"
