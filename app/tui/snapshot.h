// ScreenSnapshot: everything the terminal UI shows, as plain values taken from the core
// models at one instant — so drawing is a pure function of a snapshot (screen.h) and tests
// build snapshots by hand.
//
// Offers
//   - the value types (header state, cluster rows, HPA lines, per-service figures with their
//     sparkline histories and breaker states, events, launch progress, active faults, load);
//   - SnapshotSources + takeSnapshot(): reads the models' DisplayRole texts (the same texts
//     the GUI shows), the collector's per-service values and the last `historySeconds` of the
//     TimeSeriesStore, one value per second.
//
// Thread-safety: takeSnapshot() runs on the models' thread; snapshots are values.
#pragma once

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>
#include <vector>

#include "core/cluster_launcher.h"

namespace mambogo::core {
class ClusterModel;
class EventModel;
class HpaModel;
class MetricsCollector;
class TimeSeriesStore;
}  // namespace mambogo::core

namespace mambogo::tui {

struct HeaderState {
  QString context;      // kubeconfig context, "" when not connected
  QString server;       // API server URL
  enum class Connection { None, Connecting, Connected, Error } connection = Connection::None;
  QString connectionDetail;  // the last error while it retries
  QString cluster;      // local cluster: "", "starting", "ready (embedded)", "stopping", "failed"
  QString load;         // "idle" or "browse · 20 rps · 12/60 s · p99 14 ms"
  bool loadRunning = false;
};

struct ClusterRow {
  enum class Kind { Workload, Pod };
  Kind kind = Kind::Workload;
  QString workloadKind;  // "Deployment" / "StatefulSet" (for pods: their workload's)
  QString workloadName;  // for pods: the workload they belong to
  QString name, status, ready, restarts, age, cpu, memory, rps, p99;
  QString app, uid;
  bool lastChild = false;  // pods: the last of their workload (tree drawing)
};

struct HpaLine {
  QString name, reference, metrics;
  int current = 0, desired = 0, min = 0, max = 0;
};

struct ServiceLine {
  QString app;
  double rps = 0, errorRate = 0, p50 = 0, p99 = 0;  // NaN when unknown
  std::vector<double> rpsHistory, p99History;       // one value per second, oldest first
  QMap<QString, QString> breakers;                  // name -> closed / open / half_open / ...
};

struct EventLine {
  QDateTime time;
  QString type, object, reason, message;
  int count = 1;
};

struct FaultLine {
  QString summary;
  int remainingS = -1;  // -1: no duration
};

struct ScreenSnapshot {
  HeaderState header;
  QList<ClusterRow> rows;
  QList<HpaLine> hpas;
  QList<ServiceLine> services;
  QList<EventLine> events;            // newest last
  QList<FaultLine> faults;
  QList<core::PodLaunchState> launch;  // while the local cluster starts
  bool launching = false;
  QString notConnectedHint;            // shown instead of the table when there is no cluster
  QString busy;                        // a wait the user cannot skip ("stopping the cluster…")
};

struct SnapshotSources {
  const core::ClusterModel* cluster = nullptr;
  const core::HpaModel* hpas = nullptr;
  const core::EventModel* events = nullptr;
  const core::MetricsCollector* metrics = nullptr;
  const core::TimeSeriesStore* store = nullptr;
};

// Fills rows, hpas, services and events of `snapshot` from `sources` (null sources leave
// their part empty). `nowMs` ends the sparkline window of `historySeconds` seconds;
// at most `maxEvents` of the newest events are taken.
void takeSnapshot(const SnapshotSources& sources, qint64 nowMs, int historySeconds, int maxEvents,
                  ScreenSnapshot& snapshot);

// The last `seconds` seconds up to `endMs` of a series, one value per second (NaN where the
// store has no sample), oldest first.
std::vector<double> perSecondHistory(const core::TimeSeriesStore& store, const QString& series, qint64 endMs,
                                     int seconds);

}  // namespace mambogo::tui
