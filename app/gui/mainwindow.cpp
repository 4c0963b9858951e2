#include "gui/mainwindow.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <cmath>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/informer.h"
#include "core/kube_client.h"
#include "core/kubeconfig.h"
#include "core/metrics_collector.h"
#include "gui/chartspanel.h"
#include "gui/clusterpanel.h"
#include "core/cluster_session.h"
#include "gui/connectdialog.h"
#include "gui/eventspanel.h"
#include "gui/drillspanel.h"
#include "gui/faultspanel.h"
#include "gui/loadpanel.h"
#include "gui/podlogview.h"
#include "gui/topologyview.h"

// The icon resources live in the static library mambogo_gui: register them once.
static void registerIconResources() { Q_INIT_RESOURCE(mambogo); }

namespace mambogo::gui {
namespace {

using Series = ChartsPanel::Series;

const QStringList kTopologyApps{QStringLiteral("gateway"),         QStringLiteral("product-service"),
                                QStringLiteral("cart-service"),    QStringLiteral("order-service"),
                                QStringLiteral("payment-service"), QStringLiteral("redis"),
                                QStringLiteral("postgres"),        QStringLiteral("postgres-replica")};

QString appOf(const QJsonObject& workload) {
  const QString app = core::labelOf(workload, QStringLiteral("app"));
  return app.isEmpty() ? core::nameOf(workload) : app;
}

int intAt(const QJsonObject& object, const char* section, const char* field) {
  return object.value(QLatin1String(section)).toObject().value(QLatin1String(field)).toInt();
}

// The first Resource metric of an HPA (spec target and status current utilization), in %.
std::pair<double, double> cpuUtilization(const QJsonObject& hpa) {
  double target = NAN, current = NAN;
  for (const auto& m : hpa.value(QStringLiteral("spec")).toObject().value(QStringLiteral("metrics")).toArray()) {
    const QJsonObject t = m.toObject().value(QStringLiteral("resource")).toObject().value(QStringLiteral("target")).toObject();
    if (t.contains(QStringLiteral("averageUtilization"))) {
      target = t.value(QStringLiteral("averageUtilization")).toDouble();
      break;
    }
  }
  for (const auto& m : hpa.value(QStringLiteral("status")).toObject().value(QStringLiteral("currentMetrics")).toArray()) {
    const QJsonObject c = m.toObject().value(QStringLiteral("resource")).toObject().value(QStringLiteral("current")).toObject();
    if (c.contains(QStringLiteral("averageUtilization"))) {
      current = c.value(QStringLiteral("averageUtilization")).toDouble();
      break;
    }
  }
  return {current, target};
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  registerIconResources();
  setObjectName(QStringLiteral("MainWindow"));
  setWindowIcon(QIcon(QStringLiteral(":/icons/mambogo.svg")));
  setDockNestingEnabled(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowNestedDocks | QMainWindow::AllowTabbedDocks);
  createActions();
  createDocks();
  m_connectionStatus = new QLabel;
  statusBar()->addPermanentWidget(m_connectionStatus);
  restoreLayout();

  connect(&m_launcher, &core::ClusterLauncher::podChanged, m_clusterPanel, &ClusterPanel::launchPodChanged);
  connect(&m_launcher, &core::ClusterLauncher::outputLine, m_clusterPanel, &ClusterPanel::launchOutput);
  connect(&m_launcher, &core::ClusterLauncher::ready, this, &MainWindow::onLaunchReady);
  connect(&m_launcher, &core::ClusterLauncher::stateChanged, this, &MainWindow::updateTitleAndActions);
  connect(&m_launcher, &core::ClusterLauncher::failed, this, [this](const QString& message) {
    showStatus(tr("Local cluster failed: %1").arg(message.section(QLatin1Char('\n'), 0, 0)));
    m_clusterPanel->launchOutput(tr("FAILED: %1").arg(message));
    note(QStringLiteral("note"), QStringLiteral("ClusterFailed"), message, true);
  });
  connect(&m_launcher, &core::ClusterLauncher::stopped, this, [this] {
    showStatus(tr("Local cluster stopped"));
    if (!m_session) m_clusterPanel->showIdle();
    if (m_quitAfterStop) close();
  });

  connect(&m_load, &core::LoadController::snapshotAvailable, this, &MainWindow::onLoadSnapshot);
  connect(&m_load, &core::LoadController::started, this, [this](const QString& plan) {
    note(QStringLiteral("note"), QStringLiteral("LoadStarted"), tr("Load plan \"%1\" started").arg(plan));
    updateTitleAndActions();
  });
  connect(&m_load, &core::LoadController::finished, this, [this](const core::LoadSummary& s) {
    note(QStringLiteral("note"), QStringLiteral("LoadFinished"),
         tr("Load plan \"%1\": %2 requests, %3 failed, p99 %4 ms")
             .arg(s.plan)
             .arg(s.requests)
             .arg(s.failed)
             .arg(QString::number(s.p99Ms, 'f', 1)));
    updateTitleAndActions();
  });
  connect(&m_load, &core::LoadController::failed, this, [this](const QString& message) {
    showStatus(tr("Load could not start: %1").arg(message));
    updateTitleAndActions();
  });

  m_tick.setInterval(1'000);
  connect(&m_tick, &QTimer::timeout, this, &MainWindow::tick);
  m_tick.start();
  updateTitleAndActions();
}

MainWindow::~MainWindow() {
  // Panels hold pointers into the session: detach them before it goes.
  endSession();
}

void MainWindow::createActions() {
  QToolBar* bar = addToolBar(tr("Cluster"));
  bar->setObjectName(QStringLiteral("mainToolBar"));
  bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  bar->setIconSize(QSize(22, 22));
  m_launchAction = bar->addAction(QIcon(QStringLiteral(":/icons/launch.svg")), tr("Launch local cluster"), this,
                                  &MainWindow::launchLocal);
  m_launchAction->setObjectName(QStringLiteral("actionLaunch"));
  m_launchAction->setToolTip(tr("Start the bundled shop cluster on this machine and connect to it"));
  m_connectAction =
      bar->addAction(QIcon(QStringLiteral(":/icons/connect.svg")), tr("Connect…"), this, &MainWindow::showConnectDialog);
  m_connectAction->setObjectName(QStringLiteral("actionConnect"));
  m_connectAction->setToolTip(tr("Connect to a Kubernetes cluster from a kubeconfig context"));
  m_stopAction = bar->addAction(QIcon(QStringLiteral(":/icons/stop.svg")), tr("Stop"), this, &MainWindow::stopAll);
  m_stopAction->setObjectName(QStringLiteral("actionStop"));
  m_stopAction->setToolTip(tr("Stop the load, stop the local cluster and disconnect"));
}

QDockWidget* MainWindow::addDock(const QString& objectName, const QString& title, QWidget* widget,
                                 Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(objectName);
  dock->setWidget(widget);
  dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable | QDockWidget::DockWidgetClosable);
  addDockWidget(area, dock);
  return dock;
}

void MainWindow::createDocks() {
  m_clusterPanel = new ClusterPanel(m_launchAction, m_connectAction);
  m_charts = new ChartsPanel;
  m_topology = new TopologyView;
  m_loadPanel = new LoadPanel(&m_load);
  m_faultsPanel = new FaultsPanel;
  m_drillsPanel = new DrillsPanel;
  m_eventsPanel = new EventsPanel;
  m_podLogs = new PodLogView;

  QDockWidget* cluster = addDock(QStringLiteral("dockCluster"), tr("Cluster"), m_clusterPanel, Qt::LeftDockWidgetArea);
  QDockWidget* load = addDock(QStringLiteral("dockLoad"), tr("Load"), m_loadPanel, Qt::LeftDockWidgetArea);
  QDockWidget* faults = addDock(QStringLiteral("dockFaults"), tr("Faults"), m_faultsPanel, Qt::LeftDockWidgetArea);
  QDockWidget* drills = addDock(QStringLiteral("dockDrills"), tr("Drills"), m_drillsPanel, Qt::LeftDockWidgetArea);
  QDockWidget* charts = addDock(QStringLiteral("dockCharts"), tr("Charts"), m_charts, Qt::RightDockWidgetArea);
  QDockWidget* topology = addDock(QStringLiteral("dockTopology"), tr("Topology"), m_topology, Qt::RightDockWidgetArea);
  QDockWidget* events = addDock(QStringLiteral("dockEvents"), tr("Events"), m_eventsPanel, Qt::RightDockWidgetArea);
  m_logsDock = addDock(QStringLiteral("dockLogs"), tr("Pod logs"), m_podLogs, Qt::RightDockWidgetArea);

  splitDockWidget(cluster, load, Qt::Vertical);
  tabifyDockWidget(load, faults);
  tabifyDockWidget(faults, drills);
  load->raise();
  load->raise();
  splitDockWidget(charts, topology, Qt::Vertical);
  splitDockWidget(topology, events, Qt::Horizontal);
  tabifyDockWidget(events, m_logsDock);
  events->raise();
  resizeDocks({cluster, charts}, {470, 900}, Qt::Horizontal);
  resizeDocks({cluster, load}, {520, 330}, Qt::Vertical);
  resizeDocks({charts, topology}, {540, 310}, Qt::Vertical);
  resizeDocks({topology, events}, {520, 380}, Qt::Horizontal);

  connect(m_clusterPanel, &ClusterPanel::logsRequested, this, [this](const QString& pod) {
    m_podLogs->showPod(pod);
    m_logsDock->show();
    m_logsDock->raise();
  });
  connect(m_clusterPanel, &ClusterPanel::message, this, &MainWindow::showStatus);
  connect(m_faultsPanel, &FaultsPanel::message, this, &MainWindow::showStatus);
  connect(m_drillsPanel, &DrillsPanel::message, this, &MainWindow::showStatus);
  connect(m_charts, &ChartsPanel::hpaChanged, this, [this] { feedReplicaChart(QDateTime::currentMSecsSinceEpoch()); });
}

void MainWindow::restoreLayout() {
  QSettings settings;
  resize(1440, 900);
  restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

void MainWindow::launchLocal() {
  if (m_launcher.state() != core::ClusterLauncher::State::Idle && m_launcher.state() != core::ClusterLauncher::State::Failed)
    return;
  endSession();
  const QString profile = m_launchOptions.profile.isEmpty() ? core::ClusterLauncher::autoProfile() : m_launchOptions.profile;
  m_clusterPanel->showLaunch(profile);
  showStatus(profile == QLatin1String("embedded")
                 ? tr("Starting the local cluster (embedded profile: SQLite and in-process caches — install Redis and "
                      "PostgreSQL for the full profile)…")
                 : tr("Starting the local cluster (full profile: Redis, PostgreSQL primary and replica)…"));
  m_launcher.start(m_launchOptions);
}

void MainWindow::onLaunchReady(const QString& kubeconfig, const QString& gatewayUrl) {
  QString token;
  QFile tokenFile(m_launcher.userTokenPath());
  if (tokenFile.open(QIODevice::ReadOnly)) token = QString::fromUtf8(tokenFile.readAll()).trimmed();
  m_loadPanel->setTarget(gatewayUrl, token);
  try {
    const core::Kubeconfig config = core::Kubeconfig::load({kubeconfig});
    startSession(config.settings(), tr("local cluster, %1 profile").arg(m_launcher.profile()));
    showStatus(tr("Local cluster ready; gateway at %1").arg(gatewayUrl));
  } catch (const core::KubeconfigError& e) {
    showStatus(tr("The local cluster's kubeconfig is unusable: %1").arg(e.message()));
  }
}

void MainWindow::showConnectDialog() {
  QSettings settings;
  auto* dialog = new ConnectDialog(settings.value(QStringLiteral("connect/files")).toString(),
                                   settings.value(QStringLiteral("connect/context")).toString(), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &QDialog::accepted, this, [this, dialog] {
    QSettings s;
    s.setValue(QStringLiteral("connect/files"), dialog->files());
    s.setValue(QStringLiteral("connect/context"), dialog->context());
    startSession(dialog->settings(), dialog->context());
  });
  dialog->open();
}

void MainWindow::connectTo(const QString& kubeconfigFiles, const QString& context) {
  try {
    const QStringList files = kubeconfigFiles.isEmpty() ? core::Kubeconfig::defaultFiles()
                                                        : kubeconfigFiles.split(QLatin1Char(':'), Qt::SkipEmptyParts);
    const core::Kubeconfig config = core::Kubeconfig::load(files);
    const core::ConnectionSettings settings = config.settings(context);
    startSession(settings, settings.contextName);
  } catch (const core::KubeconfigError& e) {
    showStatus(tr("Cannot connect: %1").arg(e.message()));
  }
}

void MainWindow::startSession(const core::ConnectionSettings& settings, const QString& origin) {
  endSession();
  m_session = std::make_unique<ClusterSession>(settings);
  m_connectionLabel = settings.contextName.isEmpty() || settings.contextName == origin
                          ? origin
                          : settings.contextName + QStringLiteral(" — ") + origin;
  connect(m_session.get(), &ClusterSession::failed, this, [this](const QString& message) { showStatus(message); });
  m_clusterPanel->setSession(m_session.get());
  m_eventsPanel->setModel(m_session->eventModel());
  m_faultsPanel->setController(m_session->faults());
  drill::DrillRunner::Options drillOptions;  // a remote cluster: the gateway Service's address, no tokens
  if (m_launcher.state() == core::ClusterLauncher::State::Ready) {
    auto read = [](const QString& path) {
      QFile f(path);
      return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
    };
    drillOptions.gatewayUrl = m_launcher.gatewayUrl();
    drillOptions.userToken = read(m_launcher.userTokenPath());
    drillOptions.adminToken = read(m_launcher.adminTokenPath());
  }
  m_drillsPanel->setSession(m_session.get(), drillOptions);
  m_podLogs->setClient(m_session->client(), m_session->nameSpace());
  connect(m_session->faults(), &core::FaultController::injected, this, [this](const core::ActiveFault& f) {
    note(QStringLiteral("fault"), QStringLiteral("FaultInjected"), tr("%1 for %2 s (%3)").arg(f.summary).arg(f.durationS).arg(f.name),
         true);
  });
  connect(m_session->faults(), &core::FaultController::recovered, this, [this](int count) {
    note(QStringLiteral("fault"), QStringLiteral("FaultsRecovered"), tr("Recover all: %n fault(s) removed", nullptr, count));
  });
  note(QStringLiteral("note"), QStringLiteral("Connected"), tr("Connected to %1 (%2)").arg(settings.server.toString(), origin));
  updateTitleAndActions();
}

void MainWindow::endSession() {
  if (!m_session) return;
  m_faultsPanel->setController(nullptr);
  m_drillsPanel->setSession(nullptr, {});
  m_eventsPanel->setModel(nullptr);
  m_podLogs->setClient(nullptr, {});
  m_clusterPanel->setSession(nullptr);
  m_session.reset();
  m_connectionLabel.clear();
  updateTitleAndActions();
}

void MainWindow::stopAll() {
  m_load.stop();
  endSession();
  const auto state = m_launcher.state();
  if (state == core::ClusterLauncher::State::Starting || state == core::ClusterLauncher::State::Ready) {
    showStatus(tr("Stopping the local cluster…"));
    m_launcher.stop();
  } else {
    m_clusterPanel->showIdle();
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  const auto state = m_launcher.state();
  const bool clusterRuns = state == core::ClusterLauncher::State::Starting || state == core::ClusterLauncher::State::Ready ||
                           state == core::ClusterLauncher::State::Stopping;
  // A drill on a cluster that outlives the console must not leave its faults and switches
  // behind: abort it, let its rollbacks run, then close (a cluster we stop needs none).
  drill::DrillRunner* runner = m_drillsPanel->runner();
  if (runner && runner->isRunning() && !m_rollbackGaveUp && (!clusterRuns || !m_launcher.ownsCluster())) {
    if (!m_quitAfterRollback &&
        QMessageBox::question(this, tr("Quit Mambogo"),
                              tr("A drill is running. Abort it, roll back what it changed in the cluster, and quit?")) !=
            QMessageBox::Yes) {
      event->ignore();
      return;
    }
    if (!m_quitAfterRollback) {
      m_quitAfterRollback = true;
      connect(runner, &drill::DrillRunner::finished, this, &QWidget::close, Qt::QueuedConnection);
      showStatus(tr("Rolling back the drill before quitting…"));
      runner->abort(tr("the console is closing"));
      QTimer::singleShot(30'000, this, [this] {  // an unreachable cluster must not keep the window open
        m_rollbackGaveUp = true;
        close();
      });
    }
    event->ignore();  // closes once the rollback has finished
    return;
  }
  if (!clusterRuns || !m_launcher.ownsCluster()) {
    m_load.stop();
    event->accept();
    return;
  }
  if (m_load.isRunning() && !m_quitAfterStop &&
      QMessageBox::question(this, tr("Quit Mambogo"),
                            tr("Load is running against the local cluster. Stop the load and the cluster, and quit?")) !=
          QMessageBox::Yes) {
    event->ignore();
    return;
  }
  m_quitAfterStop = true;
  if (state != core::ClusterLauncher::State::Stopping) stopAll();
  event->ignore();  // closes once the launcher reports stopped()
}

void MainWindow::onLoadSnapshot(const core::LoadSnapshot& s) {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  m_charts->addSample(Series::LatencyP50, now, s.p50Ms);
  m_charts->addSample(Series::LatencyP95, now, s.p95Ms);
  m_charts->addSample(Series::LatencyP99, now, s.p99Ms);
  m_charts->addSample(Series::RequestsPerSecond, now, s.rps);
  m_charts->addSample(Series::ErrorRate, now, s.errorRate * 100);
}

void MainWindow::tick() {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (m_session) {
    if (!m_load.isRunning()) feedChartsFromMetrics(now);  // while load runs, its own view is charted
    updateHpaChoices();
    feedReplicaChart(now);
    updateTopology();
  }
  m_charts->tick(now);
  updateTitleAndActions();
}

void MainWindow::feedChartsFromMetrics(qint64 nowMs) {
  const core::MetricsCollector::Values gateway = m_session->metrics()->service(QStringLiteral("gateway"));
  m_charts->addSample(Series::LatencyP50, nowMs, gateway.p50 * 1000);
  m_charts->addSample(Series::LatencyP95, nowMs, gateway.p95 * 1000);
  m_charts->addSample(Series::LatencyP99, nowMs, gateway.p99 * 1000);
  m_charts->addSample(Series::RequestsPerSecond, nowMs, gateway.rps);
  m_charts->addSample(Series::ErrorRate, nowMs, gateway.errorRate * 100);
}

void MainWindow::updateHpaChoices() {
  QStringList names;
  for (const QJsonObject& hpa : m_session->hpas()->objects()) names << core::nameOf(hpa);
  names.sort();
  m_charts->setHpaNames(names);
}

void MainWindow::feedReplicaChart(qint64 nowMs) {
  if (!m_session) return;
  const QString chosen = m_charts->currentHpa();
  for (const QJsonObject& hpa : m_session->hpas()->objects()) {
    if (core::nameOf(hpa) != chosen) continue;
    const auto [current, target] = cpuUtilization(hpa);
    m_charts->addSample(Series::ReplicasCurrent, nowMs, intAt(hpa, "status", "currentReplicas"));
    m_charts->addSample(Series::ReplicasDesired, nowMs, intAt(hpa, "status", "desiredReplicas"));
    m_charts->addSample(Series::UtilizationCurrent, nowMs, current);
    m_charts->addSample(Series::UtilizationTarget, nowMs, target);
  }
}

void MainWindow::updateTopology() {
  QHash<QString, ServiceHealth> health;
  for (core::Informer* workloads : {m_session->deployments(), m_session->statefulSets()}) {
    for (const QJsonObject& w : workloads->objects()) {
      ServiceHealth& h = health[appOf(w)];
      h.present = true;
      h.desired += w.value(QStringLiteral("spec")).toObject().value(QStringLiteral("replicas")).toInt(1);
      h.ready += intAt(w, "status", "readyReplicas");
    }
  }
  for (const QString& app : kTopologyApps) {
    if (!health.contains(app)) continue;
    const core::MetricsCollector::Values v = m_session->metrics()->service(app);
    ServiceHealth& h = health[app];
    h.rps = v.rps;
    h.errorRate = v.errorRate;
    h.breakers = v.breakers;
  }
  m_topology->setHealth(health);
}

void MainWindow::note(const QString& category, const QString& reason, const QString& message, bool warning) {
  if (m_session)
    m_session->eventModel()->addConsoleEvent(category, QStringLiteral("Console/mambogo"), reason, message,
                                             warning ? QStringLiteral("Warning") : QStringLiteral("Normal"));
}

void MainWindow::showStatus(const QString& text) { statusBar()->showMessage(text, 15'000); }

void MainWindow::updateTitleAndActions() {
  const auto state = m_launcher.state();
  const bool launching = state == core::ClusterLauncher::State::Starting || state == core::ClusterLauncher::State::Stopping;
  const bool localRuns = state == core::ClusterLauncher::State::Ready || launching;
  m_launchAction->setEnabled(!localRuns);
  m_connectAction->setEnabled(!launching);
  m_stopAction->setEnabled(localRuns || m_session || m_load.isRunning());
  QString connection = tr("not connected");
  if (state == core::ClusterLauncher::State::Starting) connection = tr("starting local cluster…");
  else if (state == core::ClusterLauncher::State::Stopping) connection = tr("stopping local cluster…");
  else if (m_session) connection = m_connectionLabel;
  if (m_load.isRunning()) connection += tr(" · load running");
  m_connectionStatus->setText(connection);
  setWindowTitle(m_session ? tr("Mambogo — %1").arg(m_connectionLabel) : tr("Mambogo"));
}

}  // namespace mambogo::gui
