#include "tui/tui_app.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonObject>
#include <QRegularExpression>
#include <algorithm>
#include <csignal>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/fault_controller.h"
#include "core/kube_client.h"
#include "core/kubeconfig.h"
#include "tui/session.h"
#include "tui/terminal.h"

namespace mambogo::tui {

namespace {

constexpr int kTickMs = 250;
constexpr int kSoonMs = 40;
constexpr int kMessageShownMs = 10'000;
constexpr int kMaxEvents = 50;
constexpr double kLoadDurationS = 60;
constexpr int kStopTimeoutMs = 60'000;

QString launcherStateText(const core::ClusterLauncher& launcher) {
  using State = core::ClusterLauncher::State;
  switch (launcher.state()) {
    case State::Idle: return {};
    case State::Starting: return QStringLiteral("starting (%1)").arg(launcher.profile());
    case State::Ready:
      return QStringLiteral("ready (%1%2)").arg(launcher.profile(), launcher.ownsCluster() ? QString() : QStringLiteral(", was running"));
    case State::Stopping: return QStringLiteral("stopping");
    case State::Failed: return QStringLiteral("failed");
  }
  return {};
}

HeaderState::Connection headerConnection(TuiSession::Connection connection) {
  switch (connection) {
    case TuiSession::Connection::Connecting: return HeaderState::Connection::Connecting;
    case TuiSession::Connection::Connected: return HeaderState::Connection::Connected;
    case TuiSession::Connection::Error: return HeaderState::Connection::Error;
  }
  return HeaderState::Connection::None;
}

QString loadTokenFrom(const QString& path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()).trimmed() : QString();
}

}  // namespace

TuiApp::TuiApp(TuiOptions options, Terminal* terminal, QObject* parent)
    : QObject(parent), m_options(std::move(options)), m_terminal(terminal) {
  connect(m_terminal, &Terminal::keyPressed, this, &TuiApp::onKey);
  connect(m_terminal, &Terminal::resized, this, &TuiApp::redraw);
  connect(m_terminal, &Terminal::interrupted, this, &TuiApp::onInterrupted);

  using core::ClusterLauncher;
  connect(&m_launcher, &ClusterLauncher::podChanged, this, &TuiApp::scheduleRedraw);
  connect(&m_launcher, &ClusterLauncher::stateChanged, this, &TuiApp::scheduleRedraw);
  connect(&m_launcher, &ClusterLauncher::ready, this, [this](const QString& kubeconfigPath, const QString& gateway) {
    try {
      connectTo(core::Kubeconfig::load({kubeconfigPath}).settings());
      say(QStringLiteral("local cluster ready, gateway %1").arg(gateway));
    } catch (const core::KubeconfigError& e) {
      say(e.message(), true);
    }
  });
  connect(&m_launcher, &ClusterLauncher::failed, this, [this](const QString& message) {
    say(QStringLiteral("local cluster: %1").arg(message), true);
    if (m_quitting) finish();
  });
  connect(&m_launcher, &ClusterLauncher::stopped, this, [this] {
    say(QStringLiteral("local cluster stopped"));
    if (m_quitting) finish();
  });

  using core::LoadController;
  connect(&m_load, &LoadController::started, this, [this](const QString& title, double nominalS) {
    m_loadPlan = title;
    m_loadNominalS = nominalS;
    m_loadLast = {};
    say(QStringLiteral("load started: %1").arg(title));
  });
  connect(&m_load, &LoadController::snapshotAvailable, this, [this](const core::LoadSnapshot& snapshot) {
    m_loadLast = snapshot;
    scheduleRedraw();
  });
  connect(&m_load, &LoadController::finished, this, [this](const core::LoadSummary& summary) {
    say(QStringLiteral("load %1: %2 requests, %3 failed, p99 %4 ms")
            .arg(summary.stoppedEarly ? QStringLiteral("stopped") : QStringLiteral("finished"))
            .arg(summary.requests).arg(summary.failed).arg(summary.p99Ms, 0, 'f', 1));
    if (m_quitting) quit();
  });
  connect(&m_load, &LoadController::failed, this, [this](const QString& message) {
    say(message, true);
    if (m_quitting) quit();
  });

  m_tick.setInterval(kTickMs);
  connect(&m_tick, &QTimer::timeout, this, &TuiApp::redraw);
  m_soon.setSingleShot(true);
  m_soon.setInterval(kSoonMs);
  connect(&m_soon, &QTimer::timeout, this, &TuiApp::redraw);
}

TuiApp::~TuiApp() = default;

void TuiApp::start() {
  m_tick.start();
  if (m_options.launchLocal) {
    launch();
  } else {
    const QStringList files = m_options.kubeconfig.isEmpty() ? core::Kubeconfig::defaultFiles() : QStringList{m_options.kubeconfig};
    const bool any = std::any_of(files.begin(), files.end(), [](const QString& f) { return QFile::exists(f); });
    if (any || !m_options.kubeconfig.isEmpty()) {
      try {
        connectTo(core::Kubeconfig::load(files).settings(m_options.context));
      } catch (const core::KubeconfigError& e) {
        say(e.message(), true);
      }
    }
  }
  redraw();
}

void TuiApp::connectTo(const core::ConnectionSettings& settings) {
  m_drill.reset();
  m_session.reset();
  m_session = std::make_unique<TuiSession>(settings);
  drill::DrillRunner::Options drillOptions;  // a remote cluster: the gateway Service's address
  if (m_launcher.state() == core::ClusterLauncher::State::Ready) {
    drillOptions.gatewayUrl = m_launcher.gatewayUrl();
    drillOptions.userToken = loadTokenFrom(m_launcher.userTokenPath());
    drillOptions.adminToken = loadTokenFrom(m_launcher.adminTokenPath());
  }
  m_drill = std::make_unique<drill::DrillRunner>(m_session->session(), drillOptions);
  m_drillMenu.clear();  // read once per connection, not on every key
  for (const QString& file : drill::drillFiles(drill::builtInDrillDir())) {
    try {
      const drill::Drill d = drill::loadDrillFile(file);
      m_drillMenu << qMakePair(d.id, d.title);
    } catch (const drill::DrillError&) {  // `mambogo drill list` shows it with its error
    }
  }
  connect(m_drill.get(), &drill::DrillRunner::progress, this, [this](const QString& line) {
    say(QStringLiteral("drill: %1").arg(line));
    // The time line in the events: steps, decisions and the verdict (not the per-5 s figures).
    static const QRegularExpression notable(QStringLiteral("PASS|FAIL|fault|recover|set |scale|steady state|verdict|rollback"));
    if (notable.match(line).hasMatch())
      m_session->eventModel()->addConsoleEvent(QStringLiteral("drill"), m_drill->result().drill.id, QStringLiteral("Drill"), line,
                                               line.contains(QLatin1String("FAIL")) ? QStringLiteral("Warning") : QStringLiteral("Normal"));
  });
  connect(m_drill.get(), &drill::DrillRunner::finished, this, [this](const drill::DrillResult& r) {
    say(QStringLiteral("drill %1: %2, score %3/100 — %4 (reports: mambogo drill run %1 --report F)")
            .arg(r.drill.id, drill::DrillResult::verdictText(r.verdict))
            .arg(r.score)
            .arg(r.reason),
        r.verdict != drill::DrillResult::Verdict::Passed);
    if (m_quitting) QTimer::singleShot(0, this, &TuiApp::quit);  // the rollback quitting waited for is done
  });
  connect(m_session.get(), &TuiSession::changed, this, &TuiApp::scheduleRedraw);
  using core::FaultController;
  FaultController* faults = m_session->faults();
  core::EventModel* events = m_session->eventModel();
  connect(faults, &FaultController::injected, this, [this, events](const core::ActiveFault& fault) {
    say(QStringLiteral("fault injected: %1").arg(fault.summary));
    events->addConsoleEvent(QStringLiteral("fault"), QStringLiteral("%1/%2").arg(fault.kind, fault.name),
                            QStringLiteral("FaultInjected"), fault.summary, QStringLiteral("Warning"));
  });
  connect(faults, &FaultController::recovered, this, [this, events](int count) {
    say(QStringLiteral("recovered: %1 fault(s) removed").arg(count));
    events->addConsoleEvent(QStringLiteral("fault"), QStringLiteral("faults"), QStringLiteral("Recovered"),
                            QStringLiteral("%1 fault(s) removed").arg(count));
  });
  connect(faults, &FaultController::failed, this, [this](const QString& message) { say(message, true); });
}

void TuiApp::onKey(int key) {
  if (m_quitting) return;
  carryOut(m_keys.press(key, keyContext()));
  redraw();
}

void TuiApp::carryOut(const Action& action) {
  switch (action.type) {
    case Action::Type::None: return;
    case Action::Type::Quit: quit(); return;
    case Action::Type::Launch: launch(); return;
    case Action::Type::Scale: scale(action); return;
    case Action::Type::DeletePod: deletePod(action.name); return;
    case Action::Type::InjectFault:
      if (m_session) m_session->faults()->inject(action.fault);
      say(QStringLiteral("injecting: %1").arg(core::FaultController::describe(action.fault)));
      return;
    case Action::Type::RecoverAll:
      if (m_session) m_session->faults()->recoverAll();
      say(QStringLiteral("recovering all faults…"));
      return;
    case Action::Type::StartLoad: startLoad(action); return;
    case Action::Type::RunDrill: runDrill(action.name); return;
    case Action::Type::AbortDrill:
      if (m_drill) m_drill->abort(QStringLiteral("aborted from the terminal"));
      return;
    case Action::Type::StopLoad:
      m_load.stop();
      say(QStringLiteral("stopping load…"));
      return;
  }
}

void TuiApp::launch() {
  if (core::ClusterLauncher::findProgram().isEmpty()) {
    say(QStringLiteral("mambogo-cluster not found (next to mambogo-tui, in its build tree or on PATH)"), true);
    return;
  }
  core::LaunchOptions options;
  options.stateDir = m_options.stateDir;
  options.profile = m_options.profile;
  options.apiPort = 0;  // a free port: its kubeconfig says which
  options.stopTimeoutMs = kStopTimeoutMs;
  m_launcher.start(options);
  say(QStringLiteral("launching the local cluster…"));
}

void TuiApp::scale(const Action& action) {
  if (!m_session) return;
  const QJsonObject patch{{QStringLiteral("spec"), QJsonObject{{QStringLiteral("replicas"), action.replicas}}}};
  const QString object = QStringLiteral("%1/%2").arg(action.kind, action.name);
  m_session->client()->mergePatch(m_session->workloadPath(action.kind, action.name), patch, this,
                                  [this, object, replicas = action.replicas](const core::KubeResponse& response) {
                                    if (!response.ok()) return say(QStringLiteral("scale %1: %2").arg(object, response.error.toString()), true);
                                    say(QStringLiteral("scaled %1 to %2").arg(object).arg(replicas));
                                    if (m_session)
                                      m_session->eventModel()->addConsoleEvent(
                                          QStringLiteral("scaling"), object, QStringLiteral("Scaled"),
                                          QStringLiteral("scaled to %1 replicas from the terminal").arg(replicas));
                                  });
}

void TuiApp::deletePod(const QString& name) {
  if (!m_session) return;
  m_session->client()->remove(m_session->podPath(name), this, [this, name](const core::KubeResponse& response) {
    if (!response.ok()) return say(QStringLiteral("delete pod %1: %2").arg(name, response.error.toString()), true);
    say(QStringLiteral("deleted pod %1").arg(name));
  });
}

void TuiApp::runDrill(const QString& id) {
  if (!m_drill) return;
  try {
    const QString file = drill::findDrill(id);
    if (file.isEmpty()) throw drill::DrillError(id, 0, QStringLiteral("no such drill"));
    m_drill->start(drill::loadDrillFile(file));
  } catch (const drill::DrillError& e) {
    say(QString::fromUtf8(e.what()), true);
  }
}

void TuiApp::startLoad(const Action& action) {
  core::LoadSettings settings;
  settings.plan = action.plan;
  settings.target = loadTarget();
  settings.authToken = loadToken();
  settings.rate = action.rate;
  settings.durationS = kLoadDurationS;
  if (!m_load.start(settings)) say(QStringLiteral("a load is already running"), true);
  else say(QStringLiteral("starting load at %1 req/s on %2…").arg(action.rate).arg(settings.target));
}

void TuiApp::quit() {
  m_quitting = true;
  m_keys = KeyHandler();
  using State = core::ClusterLauncher::State;
  // A drill on a cluster that outlives us is rolled back first (finished() comes back here).
  if (m_drill && m_drill->isRunning() && !(m_launcher.ownsCluster() && m_launcher.state() == State::Ready)) {
    say(QStringLiteral("rolling back the drill before quitting…"));
    m_drill->abort(QStringLiteral("the console is closing"));
    QTimer::singleShot(30'000, this, [this] {  // an unreachable cluster must not keep us here
      if (!m_drill || !m_drill->isRunning()) return;
      m_drill.reset();
      quit();
    });
    redraw();
    return;
  }
  if (m_load.isRunning()) {
    m_load.stop();  // finished() comes back here
    redraw();
    return;
  }
  const State state = m_launcher.state();
  if (m_launcher.ownsCluster() && (state == State::Starting || state == State::Ready)) {
    m_drill.reset();
    m_session.reset();
    m_launcher.stop();  // stopped() finishes
  } else if (state != State::Stopping) {
    finish();
    return;
  }
  redraw();
}

void TuiApp::finish() {
  m_tick.stop();
  m_soon.stop();
  QCoreApplication::exit(0);
}

void TuiApp::onInterrupted(int signal) {
  if (++m_interrupts > 1) {
    QCoreApplication::exit(128 + signal);
    return;
  }
  say(QStringLiteral("signal %1: quitting").arg(signal));
  quit();
}

void TuiApp::say(const QString& text, bool error) {
  m_message = {text, error};
  m_messageAge.start();
  scheduleRedraw();
}

void TuiApp::scheduleRedraw() {
  if (!m_soon.isActive()) m_soon.start();
}

void TuiApp::redraw() {
  if (m_messageAge.isValid() && m_messageAge.elapsed() > kMessageShownMs) m_message = {};
  const int width = m_terminal->width();
  const int height = m_terminal->height();
  const int cursor = m_keys.cursor();
  const QString selectedUid = cursor < m_shown.rows.size() ? m_shown.rows[cursor].uid : QString();
  m_shown = snapshot(width);
  for (int row = 0; row < m_shown.rows.size() && !selectedUid.isEmpty(); ++row)
    if (m_shown.rows[row].uid == selectedUid) m_keys.setCursor(row);
  m_keys.clampCursor(static_cast<int>(m_shown.rows.size()));
  m_terminal->draw(renderScreen(m_shown, m_keys, m_message, width, height, m_layout));
}

ScreenSnapshot TuiApp::snapshot(int width) const {
  ScreenSnapshot s;
  HeaderState& header = s.header;
  if (m_session) {
    header.context = m_session->settings().contextName;
    header.server = m_session->settings().server.toString();
    header.connection = headerConnection(m_session->connection());
    header.connectionDetail = m_session->lastError();
    SnapshotSources sources;
    sources.cluster = m_session->clusterModel();
    sources.hpas = m_session->hpaModel();
    sources.events = m_session->eventModel();
    sources.metrics = m_session->metrics();
    sources.store = m_session->store();
    // The last complete second: the current one may not have been scraped yet.
    takeSnapshot(sources, QDateTime::currentMSecsSinceEpoch() - 1000, sparklineSeconds(width), kMaxEvents, s);
    for (const core::ActiveFault& fault : m_session->faults()->activeFaults())
      s.faults << FaultLine{QStringLiteral("%1 (%2)").arg(fault.summary, fault.name), fault.remainingS};
  }
  header.cluster = launcherStateText(m_launcher);
  header.loadRunning = m_load.isRunning();
  header.load = !header.loadRunning ? QStringLiteral("idle")
                : m_loadPlan.isEmpty() ? QStringLiteral("starting…")
                                       : QStringLiteral("%1 · %2 rps · %3/%4 s · p99 %5 ms · err %6%")
                                             .arg(m_loadPlan)
                                             .arg(m_loadLast.rps, 0, 'f', 1)
                                             .arg(m_loadLast.elapsedS, 0, 'f', 0)
                                             .arg(m_loadNominalS, 0, 'f', 0)
                                             .arg(m_loadLast.p99Ms, 0, 'f', 1)
                                             .arg(m_loadLast.errorRate * 100, 0, 'f', 1);
  s.launching = m_launcher.state() == core::ClusterLauncher::State::Starting;
  s.launch = m_launcher.pods();
  if (!m_session) {
    s.notConnectedHint = m_launcher.state() == core::ClusterLauncher::State::Failed
                             ? QStringLiteral("The local cluster failed to start.\nPress L to try again.")
                             : QStringLiteral("Not connected.\nPress L to launch the local cluster (mambogo-cluster),\n"
                                              "or start with --kubeconfig FILE --context NAME.");
  } else if (s.rows.isEmpty()) {
    s.notConnectedHint = QStringLiteral("No deployments or statefulsets in namespace %1.").arg(m_session->nameSpace());
  }
  if (m_quitting && m_launcher.state() == core::ClusterLauncher::State::Stopping)
    s.busy = QStringLiteral("Stopping the local cluster…");
  else if (m_quitting && m_load.isRunning())
    s.busy = QStringLiteral("Stopping the load…");
  return s;
}

KeyContext TuiApp::keyContext() const {
  KeyContext context;
  context.rowCount = static_cast<int>(m_shown.rows.size());
  context.pageRows = std::max(m_layout.tableRows - 1, 1);
  const int cursor = m_keys.cursor();
  if (cursor >= 0 && cursor < m_shown.rows.size()) {
    const ClusterRow& row = m_shown.rows[cursor];
    context.workloadKind = row.workloadKind;
    context.workloadName = row.workloadName;
    context.app = row.app;
    if (row.kind == ClusterRow::Kind::Pod) context.podName = row.name;
    else context.desiredReplicas = row.ready.section(QLatin1Char('/'), 1).toInt();
  }
  context.connected = m_session != nullptr;
  context.launching = m_launcher.state() == core::ClusterLauncher::State::Starting;
  context.loadRunning = m_load.isRunning();
  context.ownsCluster = m_launcher.ownsCluster() && m_launcher.state() != core::ClusterLauncher::State::Idle;
  for (const ClusterRow& row : m_shown.rows)
    if (row.kind == ClusterRow::Kind::Workload && !row.app.isEmpty() && !context.services.contains(row.app))
      context.services << row.app;
  for (const core::LoadPlanChoice& plan : core::LoadController::availablePlans(core::LoadController::defaultScenarioDir()))
    context.plans << qMakePair(plan.id, plan.title);
  context.drills = m_drillMenu;
  context.drillRunning = m_drill && m_drill->isRunning();
  return context;
}

QString TuiApp::loadTarget() const {
  if (!m_launcher.gatewayUrl().isEmpty() && m_launcher.state() == core::ClusterLauncher::State::Ready)
    return m_launcher.gatewayUrl();
  return m_options.gateway.isEmpty() ? QStringLiteral("http://127.0.0.1:8080") : m_options.gateway;
}

QString TuiApp::loadToken() const {
  if (m_launcher.state() == core::ClusterLauncher::State::Ready) {
    const QString token = loadTokenFrom(m_launcher.userTokenPath());
    if (!token.isEmpty()) return token;
  }
  return qEnvironmentVariable("AUTH_TOKEN");
}

}  // namespace mambogo::tui
