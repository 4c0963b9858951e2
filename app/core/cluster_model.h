// ClusterModel: the cluster as a tree for the console's Cluster view: top-level rows are the
// Deployments and StatefulSets, their children the pods their selector picks.
//
// Offers
//   - Columns (Column): name, status, ready, restarts, age, CPU, memory, requests/s, p99.
//     Qt::DisplayRole gives the text a view shows; ValueRole the raw number (cores, bytes,
//     requests/s, seconds, restart count, age in seconds) for sorting and charts; KindRole
//     ("Deployment", "StatefulSet", "Pod"), NamespaceRole, UidRole, AppRole (label app).
//   - Workload rows: status Available / Progressing / ScaledToZero, ready "ready/desired",
//     restarts and CPU/memory summed over their pods, requests/s and p99 of the service (the
//     MetricsCollector's values for the app label). Pod rows: kubectl's STATUS, "ready/total"
//     containers, restarts, and the collector's per-pod values.
//   - Live: informer changes insert, update (dataChanged of the changed row, and its parent's
//     aggregate columns) or remove single rows; every collector update() emits one dataChanged
//     per parent over the age and metric columns. The model never resets after setSources().
//   - A pod that no workload selects is not shown; it appears under a workload whose selector
//     comes to match it.
//   - The slots upsertWorkload/removeWorkload/upsertPod/removePod are what the informers feed;
//     tests feed synthetic objects through them.
//
// Thread-safety: GUI-thread (or the informers' thread) only. Lifetime: informers and collector
// given to setSources() must outlive the model (or be destroyed with it).
#pragma once

#include <QAbstractItemModel>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <functional>

#include "core/kube_objects.h"

namespace mambogo::core {

class Informer;
class MetricsCollector;

class ClusterModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, StatusColumn, ReadyColumn, RestartsColumn, AgeColumn, CpuColumn, MemoryColumn, RpsColumn, P99Column, ColumnCount };
  enum Role { ValueRole = Qt::UserRole + 1, KindRole, NamespaceRole, UidRole, AppRole };

  explicit ClusterModel(QObject* parent = nullptr);

  // Connects the informers' signals and the collector's updated(); any may be null.
  void setSources(Informer* deployments, Informer* statefulSets, Informer* pods, MetricsCollector* metrics);
  // The clock for the age column (default: the system clock).
  void setClock(std::function<QDateTime()> clock) { m_clock = std::move(clock); }

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
  QHash<int, QByteArray> roleNames() const override;

 public Q_SLOTS:
  void upsertWorkload(const QString& kind, const QJsonObject& object);
  void removeWorkload(const QJsonObject& object);
  void upsertPod(const QJsonObject& object);
  void removePod(const QJsonObject& object);
  void refreshMetrics();  // age and metric columns of every row changed

 private:
  struct PodRow {
    QString uid, name, nameSpace;
    QJsonObject labels;
    PodStatusSummary summary;
    QDateTime created;
  };
  struct WorkloadRow {
    quintptr id = 0;  // stable; the internal id of its children's indexes
    QString uid, kind, name, nameSpace, app;
    QJsonObject selector;
    int desired = 0, readyReplicas = 0;
    QDateTime created;
    QList<PodRow> pods;
  };

  int workloadRow(const QString& uid) const;
  int workloadRowById(quintptr id) const;
  int targetWorkload(const PodRow& pod) const;
  void placePod(const PodRow& pod);
  void unplacePod(const QString& uid);
  void emitRowChanged(const QModelIndex& parent, int row);
  QVariant workloadData(const WorkloadRow& w, int column, int role) const;
  QVariant podData(const PodRow& p, int column, int role) const;

  QList<WorkloadRow> m_workloads;
  QHash<QString, PodRow> m_allPods;  // every pod seen, placed or not, by uid
  quintptr m_nextId = 1;
  MetricsCollector* m_metrics = nullptr;
  std::function<QDateTime()> m_clock;
};

// Display helpers shared by the models and the views: "250m", "128Mi", "12.5", "4.25 ms",
// "45.5 ms", "120 ms";
// "" for NaN.
QString formatCores(double cores);
QString formatBytes(double bytes);
QString formatRate(double perSecond);
QString formatSeconds(double seconds);

}  // namespace mambogo::core
