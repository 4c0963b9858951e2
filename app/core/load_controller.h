// LoadController: runs the load engine (mambogo::load) on a thread of its own and publishes
// what it measures as Qt signals, for the console's Load panel and charts.
//
// Offers
//   - availablePlans(dir): the plans a user can pick: the built-in ones (constant-rate browse,
//     order placement and a mixed shop, generated in code) and every *.yml, *.yaml and *.jmx
//     file of `dir` (the seed plans in resources/scenarios/). Any other file is started by path.
//   - start(settings): parses the plan (a file: Artillery YAML or JMeter JMX; or a built-in
//     id), applies the overrides (a constant rate or a number of looping virtual users for a
//     duration, rate/time scale), points it at the target and runs it. Parsing happens on the
//     worker thread too, so a large plan never stalls the caller.
//   - stop(): ends the run early; running iterations are cancelled after a short grace.
//   - signals, all emitted on the controller's thread: started(plan title, nominal seconds),
//     snapshotAvailable(LoadSnapshot) once a second, progress(percent, phase), finished(summary)
//     when the run ends (normally or stopped), failed(message) when the plan cannot run (the
//     message names the file and line) — finished() does not follow failed().
//
// Authentication: settings.authToken is offered to the plan as the environment variable and
// the JMeter property AUTH_TOKEN, which the seed plans read; the process environment is the
// fallback for every other name.
//
// Thread-safety: create, call and destroy on one thread with an event loop (the GUI thread);
// the engine's thread only posts results to it. Lifetime: the destructor stops a running load
// and waits for its thread (at most the grace period, 2 s).
#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>

namespace mambogo::core {

struct LoadPlanChoice {
  QString id;     // "builtin:browse", ... or an absolute file path
  QString title;  // translated, for pickers
  QString description;
  bool builtIn = false;
};

struct LoadSettings {
  QString plan;                      // a LoadPlanChoice id: "builtin:..." or a file path
  QString target;                    // "http://127.0.0.1:8080"; empty: the plan's own target
  QString authToken;                 // offered as AUTH_TOKEN (environment and JMeter property)
  std::optional<double> rate;        // constant arrivals per second for `durationS`
  std::optional<int> vus;            // or: constant looping virtual users for `durationS`
  double durationS = 60;             // with rate or vus: how long the constant workload runs
  std::optional<double> maxDurationS;  // hard cap on any plan
  double rateScale = 1;              // scales a file plan's rates (> 0)
  double timeScale = 1;              // scales a file plan's durations (> 0)
  int threads = 1;
};

// One second of a run, as the charts and the Load panel show it. Latencies in milliseconds
// (corrected for coordinated omission).
struct LoadSnapshot {
  double elapsedS = 0;
  QString phase;
  double rps = 0;
  qint64 requests = 0;  // in this second
  qint64 failed = 0;    // in this second
  double errorRate = 0; // failed / requests of this second, 0..1
  double p50Ms = 0, p95Ms = 0, p99Ms = 0, maxMs = 0;
  qint64 inFlight = 0, queued = 0, dropped = 0, totalRequests = 0;
};

struct LoadSummary {
  QString plan;
  double durationS = 0;
  qint64 requests = 0;
  qint64 failed = 0;
  qint64 dropped = 0;
  double p50Ms = 0, p95Ms = 0, p99Ms = 0;
  bool stoppedEarly = false;
};

class LoadController : public QObject {
  Q_OBJECT
 public:
  explicit LoadController(QObject* parent = nullptr);
  ~LoadController() override;

  // The built-in plans, then the plan files of `scenarioDir` sorted by name.
  static QList<LoadPlanChoice> availablePlans(const QString& scenarioDir);
  // Where the seed plans are: $MAMBOGO_DATA_DIR/scenarios, <app>/../share/mambogo/scenarios,
  // else the source tree's resources/scenarios.
  static QString defaultScenarioDir();

  // Returns false (and emits nothing) when a run is already going; otherwise the outcome
  // arrives as started()+finished() or failed().
  bool start(const LoadSettings& settings);
  void stop();
  bool isRunning() const { return m_running; }

 Q_SIGNALS:
  void started(const QString& planTitle, double nominalDurationS);
  void snapshotAvailable(const mambogo::core::LoadSnapshot& snapshot);
  void progress(int percent, const QString& phase);
  void finished(const mambogo::core::LoadSummary& summary);
  void failed(const QString& message);

 private:
  class Run;
  void onRunEnded();

  std::unique_ptr<Run> m_run;  // the current run, touched by its worker thread only inside Run
  bool m_running = false;
};

}  // namespace mambogo::core

Q_DECLARE_METATYPE(mambogo::core::LoadSnapshot)
Q_DECLARE_METATYPE(mambogo::core::LoadSummary)
