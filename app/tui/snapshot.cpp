#include "tui/snapshot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/hpa_model.h"
#include "core/metrics_collector.h"
#include "core/time_series.h"

namespace mambogo::tui {

namespace {

using core::ClusterModel;

ClusterRow clusterRow(const ClusterModel& model, const QModelIndex& parent, int row) {
  auto text = [&](int column) { return model.index(row, column, parent).data(Qt::DisplayRole).toString(); };
  const QModelIndex first = model.index(row, 0, parent);
  ClusterRow out;
  out.kind = parent.isValid() ? ClusterRow::Kind::Pod : ClusterRow::Kind::Workload;
  out.workloadKind = (parent.isValid() ? parent : first).data(ClusterModel::KindRole).toString();
  out.workloadName = parent.isValid() ? parent.data(Qt::DisplayRole).toString() : text(ClusterModel::NameColumn);
  out.name = text(ClusterModel::NameColumn);
  out.status = text(ClusterModel::StatusColumn);
  out.ready = text(ClusterModel::ReadyColumn);
  out.restarts = text(ClusterModel::RestartsColumn);
  out.age = text(ClusterModel::AgeColumn);
  out.cpu = text(ClusterModel::CpuColumn);
  out.memory = text(ClusterModel::MemoryColumn);
  out.rps = text(ClusterModel::RpsColumn);
  out.p99 = text(ClusterModel::P99Column);
  out.app = first.data(ClusterModel::AppRole).toString();
  out.uid = first.data(ClusterModel::UidRole).toString();
  return out;
}

void takeClusterRows(const ClusterModel& model, QList<ClusterRow>& rows) {
  for (int w = 0; w < model.rowCount(); ++w) {
    rows << clusterRow(model, {}, w);
    const QModelIndex parent = model.index(w, 0);
    const int pods = model.rowCount(parent);
    for (int p = 0; p < pods; ++p) {
      rows << clusterRow(model, parent, p);
      rows.back().lastChild = p == pods - 1;
    }
  }
}

void takeHpas(const core::HpaModel& model, QList<HpaLine>& hpas) {
  using core::HpaModel;
  for (int row = 0; row < model.rowCount(); ++row) {
    auto cell = [&](int column, int role) { return model.index(row, column).data(role); };
    HpaLine line;
    line.name = cell(HpaModel::NameColumn, Qt::DisplayRole).toString();
    line.reference = cell(HpaModel::ReferenceColumn, Qt::DisplayRole).toString();
    line.metrics = cell(HpaModel::MetricsColumn, Qt::DisplayRole).toString();
    line.current = cell(HpaModel::CurrentColumn, HpaModel::ValueRole).toInt();
    line.desired = cell(HpaModel::DesiredColumn, HpaModel::ValueRole).toInt();
    line.min = cell(HpaModel::MinColumn, HpaModel::ValueRole).toInt();
    line.max = cell(HpaModel::MaxColumn, HpaModel::ValueRole).toInt();
    hpas << line;
  }
}

void takeEvents(const core::EventModel& model, int maxEvents, QList<EventLine>& events) {
  using core::EventModel;
  for (int row = std::max(0, model.rowCount() - maxEvents); row < model.rowCount(); ++row) {
    auto cell = [&](int column) { return model.index(row, column).data(Qt::DisplayRole).toString(); };
    EventLine line;
    line.time = model.index(row, EventModel::TimeColumn).data(EventModel::TimeRole).toDateTime();
    line.type = cell(EventModel::TypeColumn);
    line.object = cell(EventModel::ObjectColumn);
    line.reason = cell(EventModel::ReasonColumn);
    line.message = cell(EventModel::MessageColumn);
    line.count = cell(EventModel::CountColumn).toInt();
    events << line;
  }
}

void takeServices(const core::MetricsCollector& metrics, const core::TimeSeriesStore* store, qint64 nowMs,
                  int historySeconds, QList<ServiceLine>& services) {
  QStringList apps = metrics.services();
  std::sort(apps.begin(), apps.end());
  for (const QString& app : apps) {
    const core::MetricsCollector::Values values = metrics.service(app);
    ServiceLine line;
    line.app = app;
    line.rps = values.rps;
    line.errorRate = values.errorRate;
    line.p50 = values.p50;
    line.p99 = values.p99;
    line.breakers = values.breakers;
    if (store) {
      using core::MetricsCollector;
      const QString scope = QStringLiteral("service");
      line.rpsHistory = perSecondHistory(*store, MetricsCollector::seriesName(scope, app, QStringLiteral("rps")), nowMs,
                                         historySeconds);
      line.p99History = perSecondHistory(*store, MetricsCollector::seriesName(scope, app, QStringLiteral("p99")), nowMs,
                                         historySeconds);
    }
    services << line;
  }
}

}  // namespace

std::vector<double> perSecondHistory(const core::TimeSeriesStore& store, const QString& series, qint64 endMs,
                                     int seconds) {
  std::vector<double> out(static_cast<std::size_t>(std::max(seconds, 0)), std::numeric_limits<double>::quiet_NaN());
  if (seconds <= 0) return out;
  const qint64 endSecond = endMs / 1000;
  const qint64 firstSecond = endSecond - seconds + 1;
  for (const core::TimePoint& point : store.query(series, firstSecond * 1000, endSecond * 1000 + 999)) {
    const qint64 slot = point.tMs / 1000 - firstSecond;
    if (slot >= 0 && slot < seconds) out[static_cast<std::size_t>(slot)] = point.value;
  }
  return out;
}

void takeSnapshot(const SnapshotSources& sources, qint64 nowMs, int historySeconds, int maxEvents,
                  ScreenSnapshot& snapshot) {
  if (sources.cluster) takeClusterRows(*sources.cluster, snapshot.rows);
  if (sources.hpas) takeHpas(*sources.hpas, snapshot.hpas);
  if (sources.events) takeEvents(*sources.events, maxEvents, snapshot.events);
  if (sources.metrics) takeServices(*sources.metrics, sources.store, nowMs, historySeconds, snapshot.services);
}

}  // namespace mambogo::tui
