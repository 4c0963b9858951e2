// The whole drill through the main window, against a real local cluster (mambogo-cluster,
// embedded profile, a temporary state directory): click "Launch local cluster", wait until
// every pod is Ready in the Cluster tree, start load, see the charts receive points, inject a
// payment outage (HTTPChaos replace.code 503 on payment-service), see order-service's
// payment breaker open — as an event and in red on the topology — recover, stop the cluster.
// Skipped when mambogo-cluster has not been built. Screenshot: <build>/test-artifacts/.
#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/fault_controller.h"
#include "core/metrics_collector.h"
#include "gui/chartspanel.h"
#include "gui/clusterpanel.h"
#include "core/cluster_session.h"
#include "gui/faultspanel.h"
#include "gui/loadpanel.h"
#include "gui/mainwindow.h"
#include "gui/topologyview.h"

using mambogo::core::ClusterLauncher;
using mambogo::core::ClusterModel;
using mambogo::core::EventModel;
using mambogo::core::FaultController;
using mambogo::core::FaultSpec;
using mambogo::gui::ChartsPanel;
using mambogo::gui::MainWindow;
using mambogo::gui::TopologyView;

namespace {

QString clusterProgram() {
  return qEnvironmentVariable("MAMBOGO_BUILD_DIR") + QStringLiteral("/simulator/cluster/mambogo-cluster");
}

// Every pod row under every workload: "Running" and all containers ready. Returns a
// description of the first one that is not (empty when all are), or "no pods".
QString firstPodNotReady(const QAbstractItemModel* model) {
  int pods = 0;
  for (int w = 0; w < model->rowCount(); ++w) {
    const QModelIndex workload = model->index(w, 0);
    for (int p = 0; p < model->rowCount(workload); ++p) {
      ++pods;
      const QString status = model->index(p, ClusterModel::StatusColumn, workload).data().toString();
      const QString ready = model->index(p, ClusterModel::ReadyColumn, workload).data().toString();
      const QStringList parts = ready.split(QLatin1Char('/'));
      if (status != QLatin1String("Running") || parts.size() != 2 || parts[0] != parts[1])
        return model->index(p, 0, workload).data().toString() + QLatin1Char(' ') + status + QLatin1Char(' ') + ready;
    }
  }
  return pods == 0 ? QStringLiteral("no pods") : QString();
}

bool hasBreakerEvent(const QAbstractItemModel* events, const QString& needle) {
  for (int r = 0; r < events->rowCount(); ++r) {
    const QModelIndex row = events->index(r, 0);
    if (row.data(EventModel::CategoryRole).toString() != QLatin1String("breaker")) continue;
    const QString text = events->index(r, EventModel::MessageColumn).data().toString() + QLatin1Char(' ') +
                         events->index(r, EventModel::ReasonColumn).data().toString();
    if (text.contains(needle, Qt::CaseInsensitive)) return true;
  }
  return false;
}

}  // namespace

class TestGuiLocalCluster : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_state;

 private Q_SLOTS:
  void initTestCase() {
    if (!QFileInfo(clusterProgram()).isExecutable())
      QSKIP(qPrintable(QStringLiteral("mambogo-cluster is not built (%1)").arg(clusterProgram())));
    // Own addresses (127.251.x.x), so that other clusters of a parallel test run cannot collide.
    qputenv("MAMBOGO_IP_PREFIX", "127.251");
    QStandardPaths::setTestModeEnabled(true);
    QApplication::setOrganizationName(QStringLiteral("MambogoTest"));
    QApplication::setApplicationName(QStringLiteral("tst_gui_local_cluster"));
    QVERIFY(m_state.isValid());
  }

  void paymentOutageDrill() {
    MainWindow window;
    window.resize(1440, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    mambogo::core::LaunchOptions options;
    options.program = clusterProgram();
    options.stateDir = m_state.filePath(QStringLiteral("cluster"));
    options.profile = QStringLiteral("embedded");
    options.apiPort = 0;
    options.readyTimeoutS = 240;
    window.setLaunchOptions(options);
    QSignalSpy ready(window.launcher(), &ClusterLauncher::ready);
    QSignalSpy failed(window.launcher(), &ClusterLauncher::failed);
    QSignalSpy stopped(window.launcher(), &ClusterLauncher::stopped);
    // Whatever happens below, the cluster goes down with the test.
    auto stopCluster = qScopeGuard([&] {
      if (window.launcher()->state() == ClusterLauncher::State::Ready ||
          window.launcher()->state() == ClusterLauncher::State::Starting) {
        window.stopAll();
        stopped.wait(120'000);
      }
    });

    // 1. One click.
    window.launchAction()->trigger();
    QCOMPARE(window.launcher()->state(), ClusterLauncher::State::Starting);
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 300'000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().at(0).toString()));
    QVERIFY(window.session());

    // 2. Every pod Ready in the tree.
    const QAbstractItemModel* tree = window.clusterPanel()->tree()->model();
    QVERIFY(tree == window.session()->clusterModel());
    QTRY_VERIFY_WITH_TIMEOUT(tree->rowCount() >= 5 && firstPodNotReady(tree).isEmpty(), 120'000);

    // 3. Load: orders through gateway → order → payment, charted.
    QVERIFY(window.loadPanel()->selectPlan(QStringLiteral("builtin:orders")));
    window.loadPanel()->setRateOverride(20, 400);  // stopped at the end
    window.loadPanel()->start();
    QVERIFY(window.loadController()->isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(window.chartsPanel()->pointCount(ChartsPanel::Series::RequestsPerSecond) >= 3, 30'000);
    QVERIFY(window.chartsPanel()->pointCount(ChartsPanel::Series::LatencyP99) >= 3);

    // The payment breaker is known (from order-service's /metrics) and closed.
    auto breakerState = [&]() -> QString {
      return window.session()->metrics()->service(QStringLiteral("order-service")).breakers.value(QStringLiteral("payment-service"));
    };
    QTRY_COMPARE_WITH_TIMEOUT(breakerState(), QStringLiteral("closed"), 60'000);
    QTRY_COMPARE_WITH_TIMEOUT(window.topology()->breakerColourShown(QStringLiteral("order-service"), QStringLiteral("payment-service")),
                              TopologyView::breakerColour(QStringLiteral("closed")), 10'000);

    // 4. Payment outage: every payment-service response becomes a 503.
    FaultSpec outage;
    outage.kind = FaultSpec::Kind::HttpReplaceCode;
    outage.service = QStringLiteral("payment-service");
    outage.replaceCode = 503;
    outage.durationS = 120;
    window.faultsPanel()->setSpec(outage);
    QSignalSpy injected(window.session()->faults(), &FaultController::injected);
    window.faultsPanel()->inject();
    QVERIFY(injected.wait(15'000));
    QTRY_COMPARE_WITH_TIMEOUT(window.session()->faults()->activeFaults().size(), 1, 10'000);

    // The breaker opens: an event in the log, red on the topology.
    QTRY_VERIFY_WITH_TIMEOUT(breakerState() == QLatin1String("open") || breakerState() == QLatin1String("half_open"), 120'000);
    QTRY_VERIFY_WITH_TIMEOUT(hasBreakerEvent(window.session()->eventModel(), QStringLiteral("open")), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(
        window.topology()->breakerColourShown(QStringLiteral("order-service"), QStringLiteral("payment-service")) !=
            TopologyView::breakerColour(QStringLiteral("closed")),
        10'000);
    QDir().mkpath(QStringLiteral(MAMBOGO_ARTIFACT_DIR));
    QVERIFY(window.grab().save(QDir(QStringLiteral(MAMBOGO_ARTIFACT_DIR)).filePath(QStringLiteral("gui-drill-outage.png"))));

    // 5. Recover: the fault is gone and the breaker closes again (through half-open).
    QSignalSpy recovered(window.session()->faults(), &FaultController::recovered);
    window.faultsPanel()->recoverAll();
    QVERIFY(recovered.wait(15'000));
    QCOMPARE(recovered.first().at(0).toInt(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(window.session()->faults()->activeFaults().size(), 0, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(breakerState(), QStringLiteral("closed"), 150'000);
    QDir().mkpath(QStringLiteral(MAMBOGO_ARTIFACT_DIR));
    QVERIFY(window.grab().save(QDir(QStringLiteral(MAMBOGO_ARTIFACT_DIR)).filePath(QStringLiteral("gui-drill.png"))));

    // 6. Stop: load, session, cluster.
    window.stopAction()->trigger();
    QVERIFY(!window.session());
    QVERIFY(stopped.wait(120'000));
    QCOMPARE(window.launcher()->state(), ClusterLauncher::State::Idle);
  }
};

QTEST_MAIN(TestGuiLocalCluster)
#include "tst_gui_local_cluster.moc"
