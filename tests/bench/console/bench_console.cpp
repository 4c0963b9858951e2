// bench_console: how long the console's GUI thread stalls while its charts hold one hour of
// history and move every second under load.
//
// The real MainWindow (mambogo::gui, offscreen) is shown at 1440x900 with the chart window set
// to "1 hour". The console has one ChartsPanel of 9 series (latency p50/p95/p99, requests/s,
// error rate, replicas current/desired, utilization current/target); the issue asks for 12, so
// the remaining series go to a second ChartsPanel shown as its own window, sized like the
// Charts dock (a second service's charts). Every series first gets one full hour of history
// (3600 points, as after an hour of running), then, for --loaded-s seconds, one new point per
// series per second the way the live feed adds them:
//   - the 5 load series through the real path: LoadController's thread runs the built-in
//     "browse" plan (started from the Load dock, bounded: --rate arrivals/s for the phase's
//     duration, then stopped) against a loopback HTTP server in a child process (this
//     program with --serve: the console's memory stays the console's), and MainWindow turns
//     each one-second LoadSnapshot into samples;
//   - the 4 replica/utilization series as MainWindow::feedReplicaChart does (addSample with
//     the current time), and the second panel's series likewise, then its tick();
//   - MainWindow's own 1 s tick draws its panel (one replace() per series, axes moved).
// Meanwhile a 16 ms precise QTimer on the GUI thread records every gap between its ticks; the
// stall is the gap minus 16 ms.
//
// Reference, same process, same run, measured first: the same timer with the windows shown,
// the charts empty, no new points and no load. A middle phase (history held, no new points,
// no load: only the time axis moving each second) tells drawing 3600-point lines from the
// rest. A final breakdown times one ChartsPanel::tick() and the full render after it on the
// second panel with all 9 series full, as shipped and with single changes (antialiasing
// off, 1 px pens, a 2-minute window, 900 points per series), to show where the time goes.
//
// Prints gaps and stalls per phase, the ratio loaded/reference, the goal checks (worst stall
// under 16 ms; resident memory, VmHWM, under 250 MB) and the points held. Exits 0 whatever the
// timing; 1 when something broke (no server, no window, load failed, history missing).
//
//   bench_console [--loaded-s 30] [--reference-s 10] [--rate 50] [--series 12]
#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QHostAddress>
#include <QProcess>
#include <QSettings>
#include <QSocketNotifier>
#include <QStandardPaths>
#include <QTimer>
#include <QUrl>
#include <QWindow>
#include <QtCharts/QChartView>
#include <QtCharts/QXYSeries>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "control_http_server.h"
#include "core/load_controller.h"
#include "gui/chartspanel.h"
#include "gui/loadpanel.h"
#include "gui/mainwindow.h"

namespace {

using mambogo::gui::ChartsPanel;
using mambogo::gui::MainWindow;
using Series = ChartsPanel::Series;

constexpr int kProbeIntervalMs = 16;
constexpr int kHistorySeconds = 3600;              // ChartsPanel keeps 1 h at one point per second
constexpr int kPanelSeries = int(Series::Count);   // 9 per panel
constexpr int kLoadSeries = 5;                     // fed by MainWindow::onLoadSnapshot
constexpr double kStallGoalMs = 16;
constexpr double kMemoryGoalMb = 250;
constexpr char kServeFlag[] = "--serve";
constexpr int kDrawRuns = 9;  // per breakdown row

struct Options {
  int loadedS = 30;
  int referenceS = 10;
  double rate = 50;  // arrivals per second of the browse plan (2 requests each)
  int series = 12;
};

[[gnu::format(printf, 1, 2)]] void say(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::fflush(stdout);
}

// ---- the loopback server (child process) -------------------------------------------------

// Child mode: answers every request like the gateway would for the browse plan, on 127.0.0.1,
// until its stdin closes (the parent ended) or `lifetimeS` passed, whichever comes first.
int serve(int argc, char** argv, int lifetimeS) {
  QCoreApplication app(argc, argv);
  mambogo::test::ControlHttpServer server([](const mambogo::test::HttpRequest&) {
    return mambogo::test::HttpReply{200, R"({"content":[{"id":"p-1"}],"orderId":"o-1"})"};
  });
  if (!server.isListening()) {
    std::fprintf(stderr, "bench_console --serve: cannot listen on 127.0.0.1\n");
    return 1;
  }
  std::printf("PORT %d\n", int(server.serverPort()));
  std::fflush(stdout);
  QSocketNotifier input(STDIN_FILENO, QSocketNotifier::Read);
  QObject::connect(&input, &QSocketNotifier::activated, &app, [&app] {
    char buffer[256];
    if (::read(STDIN_FILENO, buffer, sizeof buffer) <= 0) app.quit();
  });
  QTimer::singleShot(lifetimeS * 1000, &app, &QCoreApplication::quit);
  return app.exec();
}

class ServerChild {
 public:
  ~ServerChild() {
    if (m_process.state() == QProcess::NotRunning) return;
    m_process.closeWriteChannel();  // the child quits on EOF
    if (!m_process.waitForFinished(5'000)) {
      m_process.kill();
      m_process.waitForFinished(2'000);
    }
  }

  bool start(int lifetimeS, QString* error) {
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process.start(QCoreApplication::applicationFilePath(),
                    {QString::fromLatin1(kServeFlag), QString::number(lifetimeS)});
    if (!m_process.waitForStarted(10'000)) {
      *error = m_process.errorString();
      return false;
    }
    QElapsedTimer waited;
    waited.start();
    while (waited.elapsed() < 10'000) {
      if (m_process.canReadLine()) {
        const QByteArray line = m_process.readLine().trimmed();
        if (line.startsWith("PORT ")) {
          m_url = QStringLiteral("http://127.0.0.1:%1").arg(line.mid(5).toInt());
          return true;
        }
        continue;
      }
      if (m_process.state() == QProcess::NotRunning) break;
      m_process.waitForReadyRead(500);
    }
    *error = QStringLiteral("the server child did not report its port");
    return false;
  }

  QString url() const { return m_url; }

 private:
  QProcess m_process;
  QString m_url;
};

// ---- event loop, memory, statistics ------------------------------------------------------

// Runs the event loop for `ms`: timers fire, queued signals arrive, windows paint.
void runEventLoopFor(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
  loop.exec();
}

// Runs the event loop until done() or `timeoutMs`; returns done().
template <typename Done>
bool runEventLoopUntil(Done done, int timeoutMs) {
  QElapsedTimer waited;
  waited.start();
  while (!done() && waited.elapsed() < timeoutMs) runEventLoopFor(10);
  return done();
}

struct Memory {
  double rssMb = -1, hwmMb = -1;
};

Memory readMemory() {
  Memory m;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    const auto kb = [&line] { return std::strtod(line.c_str() + line.find(':') + 1, nullptr); };
    if (line.rfind("VmRSS:", 0) == 0) m.rssMb = kb() / 1024;
    if (line.rfind("VmHWM:", 0) == 0) m.hwmMb = kb() / 1024;
  }
  return m;
}

struct Gap {
  double atS = 0;  // since the phase started
  double ms = 0;
};

// A 16 ms precise timer on the GUI thread that records the gap before each of its ticks.
class StallProbe {
 public:
  StallProbe() {
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(kProbeIntervalMs);
    QObject::connect(&m_timer, &QTimer::timeout, &m_timer, [this] { onTimeout(); });
  }

  void start(int seconds) {
    m_gaps.clear();
    m_capacity = std::size_t(seconds) * 1000 / kProbeIntervalMs + 256;  // a stalled loop records fewer
    m_gaps.reserve(m_capacity);
    m_lastNs = 0;
    m_clock.start();
    m_timer.start();
  }
  void stop() { m_timer.stop(); }
  const std::vector<Gap>& gaps() const { return m_gaps; }

 private:
  void onTimeout() {
    const qint64 now = m_clock.nsecsElapsed();
    if (m_gaps.size() < m_capacity) m_gaps.push_back({double(now) / 1e9, double(now - m_lastNs) / 1e6});
    m_lastNs = now;
  }

  QTimer m_timer;
  QElapsedTimer m_clock;
  qint64 m_lastNs = 0;
  std::size_t m_capacity = 0;
  std::vector<Gap> m_gaps;
};

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = std::size_t(std::ceil(q * double(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

struct PhaseStats {
  const char* name = "";
  int seconds = 0;
  std::size_t ticks = 0;
  double p50 = 0, p99 = 0, worst = 0;
  std::size_t framesMissed = 0;  // gaps over two intervals: at least one 16 ms frame lost
  std::vector<Gap> worstGaps;    // the five longest, longest first
  Memory memory;                 // at the end of the phase

  double worstStall() const { return std::max(0.0, worst - kProbeIntervalMs); }
};

PhaseStats summarize(const char* name, int seconds, const std::vector<Gap>& gaps) {
  PhaseStats s;
  s.name = name;
  s.seconds = seconds;
  s.ticks = gaps.size();
  std::vector<double> ms;
  ms.reserve(gaps.size());
  for (const Gap& g : gaps) {
    ms.push_back(g.ms);
    if (g.ms > 2 * kProbeIntervalMs) ++s.framesMissed;
  }
  s.p50 = percentile(ms, 0.50);
  s.p99 = percentile(ms, 0.99);
  s.worst = ms.empty() ? 0 : *std::max_element(ms.begin(), ms.end());
  s.worstGaps = gaps;
  std::sort(s.worstGaps.begin(), s.worstGaps.end(), [](const Gap& a, const Gap& b) { return a.ms > b.ms; });
  s.worstGaps.resize(std::min<std::size_t>(5, s.worstGaps.size()));
  s.memory = readMemory();
  return s;
}

void printPhase(const PhaseStats& s) {
  say("  %-28s %4d s %6zu %8.2f %8.2f %9.2f %10.2f %7zu\n", s.name, s.seconds, s.ticks, s.p50, s.p99, s.worst,
      s.worstStall(), s.framesMissed);
}

void printWorstGaps(const PhaseStats& s) {
  say("  %-28s", s.name);
  for (const Gap& g : s.worstGaps) say(" %.1f ms @%.2f s;", g.ms, g.atS);
  say("\n");
}

// ---- chart data --------------------------------------------------------------------------

// Plausible, jagged values per series (a flat line draws faster than live latency does),
// deterministic for a given seed.
class Signal {
 public:
  explicit Signal(unsigned seed) : m_rng(seed) {}

  double value(Series s, qint64 second) {
    const double wave = std::sin(double(second) / 300.0 + int(s));
    const double noise = m_noise(m_rng);
    switch (s) {
      case Series::LatencyP50: return std::max(0.1, 4 + wave + 0.5 * noise);
      case Series::LatencyP95: return std::max(0.1, 9 + 2 * wave + 1.5 * noise);
      case Series::LatencyP99: return std::max(0.1, 18 + 4 * wave + 4 * noise);
      case Series::RequestsPerSecond: return 100 + 10 * wave + 5 * noise;
      case Series::ErrorRate: return std::max(0.0, 0.5 + 0.5 * wave + 0.3 * noise);
      case Series::ReplicasCurrent: return 3 + std::round(wave);
      case Series::ReplicasDesired: return 3 + std::round(std::sin(double(second + 30) / 300.0 + int(s)));
      case Series::UtilizationCurrent: return 60 + 15 * wave + 5 * noise;
      case Series::UtilizationTarget: return 70;
      case Series::Count: break;
    }
    return 0;
  }

 private:
  std::mt19937 m_rng;
  std::uniform_real_distribution<double> m_noise{-1.0, 1.0};
};

bool setChartWindow(ChartsPanel* panel, int seconds) {
  auto* combo = panel->findChild<QComboBox*>(QStringLiteral("chartWindow"));
  const int index = combo ? combo->findData(seconds) : -1;
  if (index < 0) return false;
  combo->setCurrentIndex(index);
  return true;
}

// `count` points per series of `panel` (the first `series`), `stepS` apart, the last one second
// before `nowMs`, as an hour of running would have left them.
void fillHistory(ChartsPanel* panel, int series, Signal& signal, qint64 nowMs, int count, int stepS) {
  for (int k = 0; k < count; ++k) {
    const qint64 second = qint64(k - count) * stepS;
    for (int s = 0; s < series; ++s) panel->addSample(Series(s), nowMs + second * 1000, signal.value(Series(s), second));
  }
}

bool exposed(QWidget* w) { return w->windowHandle() && w->windowHandle()->isExposed(); }

// ---- breakdown: one tick() and the full render after it, timed synchronously --------------

struct DrawCost {
  double tickMedian = 0, tickMax = 0, paintMedian = 0, paintMax = 0;
};

DrawCost measureDraw(ChartsPanel& panel, Signal& signal, qint64& nowMs, bool newPoints) {
  std::vector<double> ticks, paints;
  for (int r = 0; r < kDrawRuns; ++r) {
    nowMs += 1000;
    if (newPoints)
      for (int s = 0; s < kPanelSeries; ++s) panel.addSample(Series(s), nowMs, signal.value(Series(s), nowMs / 1000));
    QElapsedTimer timer;
    timer.start();
    panel.tick(nowMs);
    ticks.push_back(double(timer.nsecsElapsed()) / 1e6);
    // grab() renders the panel and its four chart views in full, as the update after a tick
    // does (repaint() would not reliably reach the QGraphicsView viewports).
    timer.restart();
    (void)panel.grab();
    paints.push_back(double(timer.nsecsElapsed()) / 1e6);
    runEventLoopFor(150);  // deferred layout and the ordinary update the tick asked for
  }
  return {percentile(ticks, 0.5), *std::max_element(ticks.begin(), ticks.end()), percentile(paints, 0.5),
          *std::max_element(paints.begin(), paints.end())};
}

void setPenWidth(ChartsPanel& panel, qreal width) {
  for (int s = 0; s < kPanelSeries; ++s) {
    QPen pen = panel.series(Series(s))->pen();
    pen.setWidthF(width);
    panel.series(Series(s))->setPen(pen);
  }
}

void printDraw(const char* what, const DrawCost& c) {
  say("  %-58s %7.2f %7.2f %8.2f %8.2f %8.2f\n", what, c.tickMedian, c.tickMax, c.paintMedian, c.paintMax,
      c.tickMedian + c.paintMedian);
}

void setAntialiasing(ChartsPanel& panel, bool on) {
  for (auto* view : panel.findChildren<QChartView*>()) view->setRenderHint(QPainter::Antialiasing, on);
}

// ---- the benchmark -----------------------------------------------------------------------

std::optional<Options> parseOptions(const QStringList& args) {
  Options o;
  for (qsizetype i = 1; i < args.size(); ++i) {
    const QString& a = args[i];
    const bool hasValue = i + 1 < args.size();
    bool ok = hasValue;
    if (a == QLatin1String("--loaded-s") && hasValue) o.loadedS = args[++i].toInt(&ok);
    else if (a == QLatin1String("--reference-s") && hasValue) o.referenceS = args[++i].toInt(&ok);
    else if (a == QLatin1String("--rate") && hasValue) o.rate = args[++i].toDouble(&ok);
    else if (a == QLatin1String("--series") && hasValue) o.series = args[++i].toInt(&ok);
    else ok = false;
    if (!ok) return std::nullopt;
  }
  // Bounded so the whole run stays well inside the test's 300 s timeout.
  if (o.loadedS < 5 || o.loadedS > 120 || o.referenceS < 3 || o.referenceS > 60 || o.rate < 1 || o.rate > 500 ||
      o.series < kPanelSeries || o.series > 2 * kPanelSeries)
    return std::nullopt;
  return o;
}

int runBenchmark(const Options& o) {
  // QSettings in a test location: the window's saved layout is neither read nor written.
  QStandardPaths::setTestModeEnabled(true);
  QApplication::setOrganizationName(QStringLiteral("MambogoBench"));
  QApplication::setApplicationName(QStringLiteral("bench_console"));
  QSettings().clear();

  const int secondSeries = o.series - kPanelSeries;
  say("bench_console: GUI event-loop stall, %d chart series x 1 h of history, 1 new point per series per second, "
      "load running\n",
      o.series);
  std::ifstream loadavg("/proc/loadavg");
  std::string avg;
  std::getline(loadavg, avg);
  say("  Qt %s, platform %s, %u CPUs, loadavg %s\n", qVersion(), qPrintable(QGuiApplication::platformName()),
      std::thread::hardware_concurrency(), avg.c_str());

  ServerChild server;
  QString error;
  const int lifetimeS = 2 * o.referenceS + o.loadedS + 120;
  if (!server.start(lifetimeS, &error)) {
    say("FAILED: loopback server: %s\n", qPrintable(error));
    return 1;
  }
  const QUrl target(server.url());
  if (!QHostAddress(target.host()).isLoopback()) {  // only loopback addresses are load targets
    say("FAILED: load target %s is not a loopback address\n", qPrintable(server.url()));
    return 1;
  }

  MainWindow window;
  window.resize(1440, 900);
  window.show();
  ChartsPanel* charts = window.chartsPanel();
  ChartsPanel second;  // the series beyond the console's nine: a second service's charts
  second.setWindowTitle(QStringLiteral("Charts — second service (bench)"));
  second.show();
  if (!runEventLoopUntil([&] { return exposed(&window) && exposed(&second); }, 10'000)) {
    say("FAILED: the windows were not exposed within 10 s\n");
    return 1;
  }
  second.resize(charts->size());
  if (!setChartWindow(charts, kHistorySeconds) || !setChartWindow(&second, kHistorySeconds)) {
    say("FAILED: no \"1 hour\" entry in the charts' window selector\n");
    return 1;
  }
  runEventLoopFor(2'000);
  const Memory shown = readMemory();
  say("  window: MainWindow %dx%d (Charts dock %dx%d) + second ChartsPanel %dx%d; chart window 1 hour\n",
      window.width(), window.height(), charts->width(), charts->height(), second.width(), second.height());
  say("  series: %d in MainWindow's charts (5 from the load's snapshots, 4 replica/utilization fed like "
      "feedReplicaChart) + %d in the second panel\n",
      kPanelSeries, secondSeries);
  say("  load: built-in \"browse\" plan from the Load dock, %.0f arrivals/s (2 requests each) for %d s, against %s "
      "(child process)\n",
      o.rate, o.loadedS, qPrintable(server.url()));

  // Once a second: the series that no load snapshot feeds get their point (while `feeding`),
  // and the second panel draws, as MainWindow's tick does for its own.
  bool feeding = false;
  Signal mainSignal(1), secondSignal(2);
  QTimer perSecond;
  perSecond.setInterval(1'000);
  QObject::connect(&perSecond, &QTimer::timeout, &perSecond, [&] {
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (feeding) {
      for (int s = kLoadSeries; s < kPanelSeries; ++s) charts->addSample(Series(s), now, mainSignal.value(Series(s), now / 1000));
      for (int s = 0; s < secondSeries; ++s) second.addSample(Series(s), now, secondSignal.value(Series(s), now / 1000));
    }
    second.tick(now);
  });
  perSecond.start();

  StallProbe probe;
  std::vector<PhaseStats> phases;

  // 1. Reference: windows shown, charts empty, no new points, no load.
  probe.start(o.referenceS);
  runEventLoopFor(o.referenceS * 1000);
  probe.stop();
  phases.push_back(summarize("reference (idle, empty)", o.referenceS, probe.gaps()));

  // One hour of history in every series, then one draw (timed: what opening a long-running
  // console's charts costs once).
  QElapsedTimer fillTimer;
  fillTimer.start();
  const qint64 filledAt = QDateTime::currentMSecsSinceEpoch();
  fillHistory(charts, kPanelSeries, mainSignal, filledAt, kHistorySeconds, 1);
  fillHistory(&second, secondSeries, secondSignal, filledAt, kHistorySeconds, 1);
  const double fillMs = double(fillTimer.nsecsElapsed()) / 1e6;
  fillTimer.restart();
  charts->tick(filledAt);
  second.tick(filledAt);
  (void)window.grab();
  (void)second.grab();
  const double firstDrawMs = double(fillTimer.nsecsElapsed()) / 1e6;
  runEventLoopFor(2'000);
  const Memory filled = readMemory();

  // 2. History held, no new points, no load: only the time axes move each second.
  probe.start(o.referenceS);
  runEventLoopFor(o.referenceS * 1000);
  probe.stop();
  phases.push_back(summarize("history held, no updates", o.referenceS, probe.gaps()));

  // 3. Loaded: load runs, every series gets one point per second.
  bool started = false;
  QString loadFailure;
  int snapshots = 0;
  std::optional<mambogo::core::LoadSummary> summary;
  mambogo::core::LoadController* load = window.loadController();
  QObject::connect(load, &mambogo::core::LoadController::started, &perSecond, [&] { started = true; });
  QObject::connect(load, &mambogo::core::LoadController::snapshotAvailable, &perSecond, [&] { ++snapshots; });
  QObject::connect(load, &mambogo::core::LoadController::failed, &perSecond,
                   [&](const QString& message) { loadFailure = message.isEmpty() ? QStringLiteral("?") : message; });
  QObject::connect(load, &mambogo::core::LoadController::finished, &perSecond,
                   [&](const mambogo::core::LoadSummary& s) { summary = s; });
  window.loadPanel()->setTarget(server.url(), QStringLiteral("bench-token"));
  if (!window.loadPanel()->selectPlan(QStringLiteral("builtin:browse"))) {
    say("FAILED: the Load dock does not offer builtin:browse\n");
    return 1;
  }
  // Bounded: rate x duration arrivals, the duration in seconds; stopped when the phase ends.
  window.loadPanel()->setRateOverride(o.rate, o.loadedS + 5);
  window.loadPanel()->start();
  if (!runEventLoopUntil([&] { return started || !loadFailure.isEmpty(); }, 10'000) || !started) {
    say("FAILED: load did not start: %s\n", qPrintable(loadFailure.isEmpty() ? QStringLiteral("no answer in 10 s") : loadFailure));
    return 1;
  }
  feeding = true;
  probe.start(o.loadedS);
  runEventLoopFor(o.loadedS * 1000);
  probe.stop();
  feeding = false;
  phases.push_back(summarize("loaded (new points + load)", o.loadedS, probe.gaps()));
  load->stop();
  runEventLoopUntil([&] { return summary.has_value() || !loadFailure.isEmpty(); }, 10'000);

  // Points held after the last tick: every fed series must still hold its full hour.
  int pointsHeld = 0, pointsShown = 0;
  bool historyComplete = true;
  for (int s = 0; s < kPanelSeries; ++s) {
    pointsHeld += charts->heldCount(Series(s));
    pointsShown += charts->pointCount(Series(s));
    historyComplete = historyComplete && charts->heldCount(Series(s)) == kHistorySeconds;
  }
  for (int s = 0; s < secondSeries; ++s) {
    pointsHeld += second.heldCount(Series(s));
    pointsShown += second.pointCount(Series(s));
    historyComplete = historyComplete && second.heldCount(Series(s)) == kHistorySeconds;
  }

  // 4. Breakdown on the second panel (MainWindow hidden, so its own tick paints nothing).
  perSecond.stop();
  window.hide();
  second.clear();
  qint64 now = QDateTime::currentMSecsSinceEpoch();
  Signal breakdownSignal(3);
  fillHistory(&second, kPanelSeries, breakdownSignal, now, kHistorySeconds, 1);
  second.tick(now);
  runEventLoopFor(500);
  const DrawCost shipped = measureDraw(second, breakdownSignal, now, true);
  const DrawCost axisOnly = measureDraw(second, breakdownSignal, now, false);
  setAntialiasing(second, false);
  const DrawCost noAntialiasing = measureDraw(second, breakdownSignal, now, true);
  setAntialiasing(second, true);
  setPenWidth(second, 1);
  const DrawCost thinPens = measureDraw(second, breakdownSignal, now, true);
  setPenWidth(second, 2);
  setChartWindow(&second, 120);
  const DrawCost twoMinutes = measureDraw(second, breakdownSignal, now, true);
  setChartWindow(&second, kHistorySeconds);
  second.clear();
  fillHistory(&second, kPanelSeries, breakdownSignal, now, kHistorySeconds / 4, 4);
  second.tick(now);
  runEventLoopFor(500);
  const DrawCost decimated = measureDraw(second, breakdownSignal, now, true);

  // ---- report ----
  say("\n  phase                        time  ticks  p50 gap  p99 gap  worst gap worst stall  >32 ms\n");
  say("                                             (ms)     (ms)      (ms)       (ms)   gaps\n");
  for (const PhaseStats& p : phases) printPhase(p);
  say("  five longest gaps (time since the phase started):\n");
  for (const PhaseStats& p : phases) printWorstGaps(p);

  const PhaseStats& ref = phases.front();
  const PhaseStats& held = phases[1];
  const PhaseStats& loaded = phases.back();
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  say("\n  ratio loaded/reference: worst gap %.2fx, p99 gap %.2fx (history held/reference: worst gap %.2fx, p99 gap "
      "%.2fx)\n",
      ratio(loaded.worst, ref.worst), ratio(loaded.p99, ref.p99), ratio(held.worst, ref.worst), ratio(held.p99, ref.p99));
  say("  worst stall %.1f ms %s %.0f ms goal: %s (reference worst stall %.1f ms)\n", loaded.worstStall(),
      loaded.worstStall() < kStallGoalMs ? "<" : ">=", kStallGoalMs, loaded.worstStall() < kStallGoalMs ? "met" : "NOT met",
      ref.worstStall());
  const Memory end = loaded.memory;
  say("  resident memory: VmRSS %.1f MB, VmHWM %.1f MB %s %.0f MB goal: %s\n", end.rssMb, end.hwmMb,
      end.hwmMb < kMemoryGoalMb ? "<" : ">=", kMemoryGoalMb, end.hwmMb < kMemoryGoalMb ? "met" : "NOT met");
  say("    VmRSS after the windows were shown %.1f MB, after the history fill %.1f MB, after the loaded phase %.1f MB\n",
      shown.rssMb, filled.rssMb, end.rssMb);
  say("  points held: %d in %d series (%d per series expected) — %s; drawn: %d (the window, decimated to the plots' width)\n",
      pointsHeld, o.series, kHistorySeconds, historyComplete ? "complete" : "INCOMPLETE", pointsShown);
  say("  history fill: %d points added in %.1f ms, first draw (tick + full render of both windows) %.1f ms\n",
      o.series * kHistorySeconds, fillMs, firstDrawMs);
  if (summary)
    say("  load: %lld requests, %lld failed, p50 %.2f ms, p99 %.2f ms over %.1f s; %d snapshots charted\n",
        static_cast<long long>(summary->requests), static_cast<long long>(summary->failed), summary->p50Ms,
        summary->p99Ms, summary->durationS, snapshots);
  else
    say("  load: no summary within 10 s of stop(); %d snapshots charted\n", snapshots);

  say("\n  breakdown: one ChartsPanel::tick() and the full render after it (grab()), 9 series, panel %dx%d, %d runs\n",
      second.width(), second.height(), kDrawRuns);
  say("  %-58s %7s %7s %8s %8s %8s\n", "", "tick", "tick", "render", "render", "sum");
  say("  %-58s %7s %7s %8s %8s %8s\n", "(ms)", "median", "max", "median", "max", "median");
  printDraw("as shipped: 1 h window, 3600 points held, antialiased 2 px pens", shipped);
  printDraw("no new point (only the time axis moves)", axisOnly);
  printDraw("antialiasing off", noAntialiasing);
  printDraw("1 px pens (antialiased)", thinPens);
  printDraw("2 min window (3600 points held, 120 in view)", twoMinutes);
  printDraw("1 h window, 900 points per series (one per 4 s)", decimated);

  QSettings().clear();
  if (!loadFailure.isEmpty()) {
    say("FAILED: load: %s\n", qPrintable(loadFailure));
    return 1;
  }
  if (snapshots == 0) {
    say("FAILED: no load snapshot reached the charts\n");
    return 1;
  }
  if (!historyComplete) {
    say("FAILED: a series lost part of its hour of history\n");
    return 1;
  }
  return 0;  // timing never fails the benchmark
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == kServeFlag) return serve(argc, argv, std::max(10, std::atoi(argv[2])));
  QApplication app(argc, argv);
  const std::optional<Options> options = parseOptions(QApplication::arguments());
  if (!options) {
    std::fprintf(stderr,
                 "usage: bench_console [--loaded-s 5..120] [--reference-s 3..60] [--rate 1..500] [--series 9..18]\n");
    return 2;
  }
  return runBenchmark(*options);
}
