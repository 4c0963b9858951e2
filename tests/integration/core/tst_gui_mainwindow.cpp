// The console's main window, offscreen: docks and actions exist, the layout survives a
// restart, the German catalogue is embedded, real load (against a loopback HTTP server)
// reaches the charts, breaker states colour the topology; a screenshot is saved.
#include <QAction>
#include <QCheckBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTranslator>
#include <QTreeView>
#include <QtCharts/QXYSeries>
#include <QtTest>

#include "control_http_server.h"
#include "core/load_controller.h"
#include "gui/chartspanel.h"
#include "gui/clusterpanel.h"
#include "gui/drillspanel.h"
#include "gui/loadpanel.h"
#include "gui/mainwindow.h"
#include "gui/topologyview.h"

using mambogo::gui::ChartsPanel;
using mambogo::gui::MainWindow;
using mambogo::gui::ServiceHealth;
using mambogo::gui::TopologyView;
using mambogo::test::ControlHttpServer;
using mambogo::test::HttpReply;
using mambogo::test::HttpRequest;

namespace {

const QStringList kDocks{QStringLiteral("dockCluster"), QStringLiteral("dockCharts"), QStringLiteral("dockTopology"),
                         QStringLiteral("dockLoad"),    QStringLiteral("dockFaults"), QStringLiteral("dockEvents"),
                         QStringLiteral("dockLogs"),    QStringLiteral("dockDrills")};

QString artifact(const QString& name) {
  QDir().mkpath(QStringLiteral(MAMBOGO_ARTIFACT_DIR));
  return QDir(QStringLiteral(MAMBOGO_ARTIFACT_DIR)).filePath(name);
}

}  // namespace

class TestGuiMainWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings in a test location
    QApplication::setOrganizationName(QStringLiteral("MambogoTest"));
    QApplication::setApplicationName(QStringLiteral("tst_gui_mainwindow"));
    QSettings().clear();
  }

  void buildsWithEveryDockAndAction() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    for (const QString& name : kDocks) {
      auto* dock = window.findChild<QDockWidget*>(name);
      QVERIFY2(dock, qPrintable(name));
      QVERIFY2(dock->isVisibleTo(&window), qPrintable(name));
      QVERIFY2(dock->widget(), qPrintable(name));
    }
    QVERIFY(window.launchAction()->isEnabled());
    QVERIFY(window.connectAction()->isEnabled());
    QVERIFY(!window.stopAction()->isEnabled());  // nothing to stop yet
    QCOMPARE(window.launchAction()->text(), QStringLiteral("Launch local cluster"));
    QVERIFY(!window.launchAction()->icon().isNull());
    QVERIFY(window.session() == nullptr);
    QVERIFY(window.clusterPanel()->tree()->model() == nullptr);  // attached once connected
  }

  void drillsDockListsTheDrillsAndWaitsForACluster() {
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    mambogo::gui::DrillsPanel* drills = window.drillsPanel();
    QVERIFY(drills->drillCount() >= 10);
    QVERIFY(drills->select(QStringLiteral("payment-outage")));
    QVERIFY2(drills->description().contains(QStringLiteral("circuit breaker")), qPrintable(drills->description()));
    QVERIFY(drills->description().contains(QStringLiteral("the payment breaker opens")));  // its expectations
    auto* run = drills->findChild<QPushButton*>(QStringLiteral("runDrill"));
    QVERIFY(run);
    QVERIFY(!run->isEnabled());  // nothing to run against until connected
    QVERIFY(drills->runner() == nullptr);
    QVERIFY(!drills->select(QStringLiteral("no-such-drill")));

    // Predict first: the description lists the questions; the dialog asks one number each.
    QVERIFY(drills->select(QStringLiteral("payment-outage")));
    QVERIFY2(drills->description().contains(QStringLiteral("breaker leave CLOSED")), qPrintable(drills->description()));
    QVERIFY(drills->findChild<QCheckBox*>(QStringLiteral("predictFirst")));
    const mambogo::drill::Drill outage =
        mambogo::drill::loadDrillFile(mambogo::drill::findDrill(QStringLiteral("payment-outage")));
    std::unique_ptr<QDialog> dialog(mambogo::gui::DrillsPanel::predictionDialog(outage, &window));
    auto* opens = dialog->findChild<QDoubleSpinBox*>(QStringLiteral("predict-breaker-opens"));
    QVERIFY(opens);
    QCOMPARE(opens->suffix(), QStringLiteral(" s"));
    opens->setValue(7);
    const QHash<QString, double> predicted = mambogo::gui::DrillsPanel::predictionsFrom(dialog.get());
    QCOMPARE(predicted.size(), outage.predictions.size());
    QCOMPARE(predicted.value(QStringLiteral("breaker-opens")), 7.0);
  }

  void dockLayoutSurvivesARestart() {
    {
      MainWindow window;
      window.show();
      QVERIFY(QTest::qWaitForWindowExposed(&window));
      window.findChild<QDockWidget*>(QStringLiteral("dockTopology"))->hide();
      window.close();
    }
    MainWindow again;
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QVERIFY(!again.findChild<QDockWidget*>(QStringLiteral("dockTopology"))->isVisibleTo(&again));
    QVERIFY(again.findChild<QDockWidget*>(QStringLiteral("dockCharts"))->isVisibleTo(&again));
    QSettings().clear();
  }

  void germanCatalogueIsEmbeddedAndUsed() {
    QTranslator translator;
    QVERIFY(translator.load(QLocale(QLocale::German, QLocale::Germany), QStringLiteral("mambogo"), QStringLiteral("_"),
                            QStringLiteral(":/i18n")));
    QApplication::installTranslator(&translator);
    {
      MainWindow window;
      QCOMPARE(window.launchAction()->text(), QStringLiteral("Lokalen Cluster starten"));
      QCOMPARE(window.findChild<QDockWidget*>(QStringLiteral("dockFaults"))->windowTitle(), QStringLiteral("Störungen"));
      QCOMPARE(window.findChild<QPushButton*>(QStringLiteral("loadStart"))->text(), QStringLiteral("Last starten"));
      window.show();
      QVERIFY(QTest::qWaitForWindowExposed(&window));
      QVERIFY(window.grab().save(artifact(QStringLiteral("gui-mainwindow-de.png"))));
    }
    QApplication::removeTranslator(&translator);
  }

  void loadReachesTheCharts() {
    ControlHttpServer gateway([](const HttpRequest&) {
      return HttpReply{200, R"({"content":[{"id":"p-1"}],"orderId":"o-1"})"};
    });
    MainWindow window;
    window.resize(1440, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.loadPanel()->setTarget(gateway.baseUrl(), QStringLiteral("token"));
    QVERIFY(window.loadPanel()->selectPlan(QStringLiteral("builtin:browse")));
    window.loadPanel()->setRateOverride(30, 4);
    QSignalSpy finished(window.loadController(), &mambogo::core::LoadController::finished);
    QTest::mouseClick(window.findChild<QPushButton*>(QStringLiteral("loadStart")), Qt::LeftButton);
    QVERIFY(window.loadController()->isRunning());
    QVERIFY(finished.wait(30'000));
    QTRY_VERIFY_WITH_TIMEOUT(window.chartsPanel()->pointCount(ChartsPanel::Series::RequestsPerSecond) >= 2, 5'000);
    QVERIFY(window.chartsPanel()->pointCount(ChartsPanel::Series::LatencyP99) >= 2);
    double peak = 0;
    for (const QPointF& p : window.chartsPanel()->series(ChartsPanel::Series::RequestsPerSecond)->points())
      peak = std::max(peak, p.y());
    QVERIFY2(peak > 10, qPrintable(QString::number(peak)));
    QVERIFY(window.grab().save(artifact(QStringLiteral("gui-mainwindow.png"))));
  }

  void pausedChartsHoldStill() {
    ChartsPanel charts;
    const qint64 t0 = 1'700'000'000'000;
    charts.addSample(ChartsPanel::Series::RequestsPerSecond, t0, 5);
    charts.tick(t0);
    QCOMPARE(charts.pointCount(ChartsPanel::Series::RequestsPerSecond), 1);
    charts.findChild<QAbstractButton*>(QStringLiteral("chartPause"))->click();
    QVERIFY(charts.isPaused());
    charts.addSample(ChartsPanel::Series::RequestsPerSecond, t0 + 1000, 6);
    charts.tick(t0 + 1000);
    QCOMPARE(charts.pointCount(ChartsPanel::Series::RequestsPerSecond), 1);  // frozen
    charts.findChild<QAbstractButton*>(QStringLiteral("chartLive"))->click();
    QVERIFY(!charts.isPaused());
    QCOMPARE(charts.pointCount(ChartsPanel::Series::RequestsPerSecond), 2);  // nothing was lost
  }

  void topologyShowsBreakerStatesInHystrixColours() {
    TopologyView topology;
    QHash<QString, ServiceHealth> health;
    for (const char* app : {"gateway", "order-service", "payment-service"}) {
      ServiceHealth& h = health[QString::fromLatin1(app)];
      h.present = true;
      h.ready = h.desired = 1;
      h.rps = 12;
      h.errorRate = 0;
    }
    health[QStringLiteral("order-service")].breakers[QStringLiteral("payment-service")] = QStringLiteral("closed");
    topology.setHealth(health);
    QCOMPARE(topology.breakerColourShown(QStringLiteral("order-service"), QStringLiteral("payment-service")),
             TopologyView::breakerColour(QStringLiteral("closed")));
    QVERIFY(topology.edgeText(QStringLiteral("gateway"), QStringLiteral("order-service")).contains(QLatin1String("12")));

    health[QStringLiteral("order-service")].breakers[QStringLiteral("payment-service")] = QStringLiteral("open");
    health[QStringLiteral("payment-service")].errorRate = 1;
    topology.setHealth(health);
    const QColor open = topology.breakerColourShown(QStringLiteral("order-service"), QStringLiteral("payment-service"));
    QCOMPARE(open, TopologyView::breakerColour(QStringLiteral("open")));
    QVERIFY(open.red() > 150 && open.green() < 100);  // red
    const QColor halfOpen = TopologyView::breakerColour(QStringLiteral("half_open"));
    QVERIFY(halfOpen.red() > 200 && halfOpen.green() > 150 && halfOpen.blue() < 100);  // yellow
    const QColor closed = TopologyView::breakerColour(QStringLiteral("closed"));
    QVERIFY(closed.green() > closed.red() && closed.green() > closed.blue());  // green
    QVERIFY(topology.edgeText(QStringLiteral("order-service"), QStringLiteral("payment-service")).contains(QLatin1String("100.0")));
  }
};

QTEST_MAIN(TestGuiMainWindow)
#include "tst_gui_mainwindow.moc"
