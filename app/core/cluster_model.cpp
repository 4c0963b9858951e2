#include "core/cluster_model.h"

#include <QJsonArray>
#include <QSet>
#include <cmath>

#include "core/informer.h"
#include "core/metrics_collector.h"

namespace mambogo::core {

QString formatCores(double cores) {
  if (std::isnan(cores)) return {};
  return QStringLiteral("%1m").arg(std::llround(cores * 1000));
}

QString formatBytes(double bytes) {
  if (std::isnan(bytes)) return {};
  return QStringLiteral("%1Mi").arg(std::llround(bytes / (1024.0 * 1024.0)));
}

QString formatRate(double perSecond) {
  if (std::isnan(perSecond)) return {};
  return QString::number(perSecond, 'f', 1);
}

QString formatSeconds(double seconds) {
  if (std::isnan(seconds)) return {};
  const double ms = seconds * 1000.0;
  if (ms < 10) return QStringLiteral("%1 ms").arg(ms, 0, 'f', 2);
  if (ms < 100) return QStringLiteral("%1 ms").arg(ms, 0, 'f', 1);
  return QStringLiteral("%1 ms").arg(std::llround(ms));
}

namespace {

QJsonObject sub(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toObject(); }

double sumKnown(double a, double b) { return std::isnan(b) ? a : (std::isnan(a) ? b : a + b); }

}  // namespace

ClusterModel::ClusterModel(QObject* parent) : QAbstractItemModel(parent) {}

void ClusterModel::setSources(Informer* deployments, Informer* statefulSets, Informer* pods, MetricsCollector* metrics) {
  auto connectWorkloads = [this](Informer* informer, const QString& kind) {
    if (!informer) return;
    connect(informer, &Informer::added, this, [this, kind](const QJsonObject& o) { upsertWorkload(kind, o); });
    connect(informer, &Informer::modified, this, [this, kind](const QJsonObject& o) { upsertWorkload(kind, o); });
    connect(informer, &Informer::deleted, this, &ClusterModel::removeWorkload);
    for (const QJsonObject& o : informer->objects()) upsertWorkload(kind, o);
  };
  connectWorkloads(deployments, QStringLiteral("Deployment"));
  connectWorkloads(statefulSets, QStringLiteral("StatefulSet"));
  if (pods) {
    connect(pods, &Informer::added, this, &ClusterModel::upsertPod);
    connect(pods, &Informer::modified, this, [this](const QJsonObject& o) { upsertPod(o); });
    connect(pods, &Informer::deleted, this, &ClusterModel::removePod);
    for (const QJsonObject& o : pods->objects()) upsertPod(o);
  }
  m_metrics = metrics;
  if (metrics) connect(metrics, &MetricsCollector::updated, this, &ClusterModel::refreshMetrics);
}

QModelIndex ClusterModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= ColumnCount || row < 0) return {};
  if (!parent.isValid()) return row < m_workloads.size() ? createIndex(row, column, quintptr(0)) : QModelIndex();
  if (parent.internalId() != 0 || parent.column() != 0 || parent.row() >= m_workloads.size()) return {};
  const WorkloadRow& w = m_workloads[parent.row()];
  return row < w.pods.size() ? createIndex(row, column, w.id) : QModelIndex();
}

QModelIndex ClusterModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == 0) return {};
  const int row = workloadRowById(child.internalId());
  return row < 0 ? QModelIndex() : createIndex(row, 0, quintptr(0));
}

int ClusterModel::rowCount(const QModelIndex& parent) const {
  if (!parent.isValid()) return static_cast<int>(m_workloads.size());
  if (parent.internalId() != 0 || parent.column() != 0) return 0;
  return static_cast<int>(m_workloads[parent.row()].pods.size());
}

int ClusterModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant ClusterModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn: return tr("Name");
    case StatusColumn: return tr("Status");
    case ReadyColumn: return tr("Ready");
    case RestartsColumn: return tr("Restarts");
    case AgeColumn: return tr("Age");
    case CpuColumn: return tr("CPU");
    case MemoryColumn: return tr("Memory");
    case RpsColumn: return tr("Requests/s");
    case P99Column: return tr("p99");
    default: return {};
  }
}

QHash<int, QByteArray> ClusterModel::roleNames() const {
  QHash<int, QByteArray> roles = QAbstractItemModel::roleNames();
  roles.insert(ValueRole, "value");
  roles.insert(KindRole, "kind");
  roles.insert(NamespaceRole, "namespace");
  roles.insert(UidRole, "uid");
  roles.insert(AppRole, "app");
  return roles;
}

QVariant ClusterModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
  if (index.internalId() == 0) return workloadData(m_workloads[index.row()], index.column(), role);
  const int parentRow = workloadRowById(index.internalId());
  if (parentRow < 0) return {};
  return podData(m_workloads[parentRow].pods[index.row()], index.column(), role);
}

QVariant ClusterModel::workloadData(const WorkloadRow& w, int column, int role) const {
  switch (role) {
    case KindRole: return w.kind;
    case NamespaceRole: return w.nameSpace;
    case UidRole: return w.uid;
    case AppRole: return w.app;
    case Qt::TextAlignmentRole: return column >= ReadyColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    case Qt::DisplayRole:
    case ValueRole: break;
    default: return {};
  }
  const bool display = role == Qt::DisplayRole;
  const MetricsCollector::Values service = m_metrics ? m_metrics->service(w.app) : MetricsCollector::Values{};
  double cpu = MetricsCollector::Values::kNaN, memory = MetricsCollector::Values::kNaN;
  int restarts = 0;
  for (const PodRow& p : w.pods) {
    restarts += p.summary.restarts;
    if (m_metrics) {
      const auto v = m_metrics->pod(p.name);
      cpu = sumKnown(cpu, v.cpuCores);
      memory = sumKnown(memory, v.memoryBytes);
    }
  }
  const QDateTime now = m_clock ? m_clock() : QDateTime::currentDateTimeUtc();
  switch (column) {
    case NameColumn: return w.name;
    case StatusColumn:
      return w.desired == 0 ? QStringLiteral("ScaledToZero")
                            : (w.readyReplicas >= w.desired ? QStringLiteral("Available") : QStringLiteral("Progressing"));
    case ReadyColumn: return display ? QVariant(QStringLiteral("%1/%2").arg(w.readyReplicas).arg(w.desired)) : QVariant(w.readyReplicas);
    case RestartsColumn: return restarts;
    case AgeColumn: return display ? QVariant(humanAge(w.created, now)) : QVariant(w.created.secsTo(now));
    case CpuColumn: return display ? QVariant(formatCores(cpu)) : QVariant(cpu);
    case MemoryColumn: return display ? QVariant(formatBytes(memory)) : QVariant(memory);
    case RpsColumn: return display ? QVariant(formatRate(service.rps)) : QVariant(service.rps);
    case P99Column: return display ? QVariant(formatSeconds(service.p99)) : QVariant(service.p99);
    default: return {};
  }
}

QVariant ClusterModel::podData(const PodRow& p, int column, int role) const {
  switch (role) {
    case KindRole: return QStringLiteral("Pod");
    case NamespaceRole: return p.nameSpace;
    case UidRole: return p.uid;
    case AppRole: return p.labels.value(QLatin1String("app")).toString();
    case Qt::TextAlignmentRole: return column >= ReadyColumn ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter)) : QVariant();
    case Qt::DisplayRole:
    case ValueRole: break;
    default: return {};
  }
  const bool display = role == Qt::DisplayRole;
  const MetricsCollector::Values v = m_metrics ? m_metrics->pod(p.name) : MetricsCollector::Values{};
  const QDateTime now = m_clock ? m_clock() : QDateTime::currentDateTimeUtc();
  switch (column) {
    case NameColumn: return p.name;
    case StatusColumn: return p.summary.status;
    case ReadyColumn:
      return display ? QVariant(QStringLiteral("%1/%2").arg(p.summary.readyContainers).arg(p.summary.totalContainers))
                     : QVariant(p.summary.readyContainers);
    case RestartsColumn: return p.summary.restarts;
    case AgeColumn: return display ? QVariant(humanAge(p.created, now)) : QVariant(p.created.secsTo(now));
    case CpuColumn: return display ? QVariant(formatCores(v.cpuCores)) : QVariant(v.cpuCores);
    case MemoryColumn: return display ? QVariant(formatBytes(v.memoryBytes)) : QVariant(v.memoryBytes);
    case RpsColumn: return display ? QVariant(formatRate(v.rps)) : QVariant(v.rps);
    case P99Column: return display ? QVariant(formatSeconds(v.p99)) : QVariant(v.p99);
    default: return {};
  }
}

int ClusterModel::workloadRow(const QString& uid) const {
  for (int i = 0; i < m_workloads.size(); ++i)
    if (m_workloads[i].uid == uid) return i;
  return -1;
}

int ClusterModel::workloadRowById(quintptr id) const {
  for (int i = 0; i < m_workloads.size(); ++i)
    if (m_workloads[i].id == id) return i;
  return -1;
}

int ClusterModel::targetWorkload(const PodRow& pod) const {
  for (int i = 0; i < m_workloads.size(); ++i)
    if (m_workloads[i].nameSpace == pod.nameSpace && selectorMatches(m_workloads[i].selector, pod.labels)) return i;
  return -1;
}

void ClusterModel::emitRowChanged(const QModelIndex& parent, int row) {
  Q_EMIT dataChanged(index(row, 0, parent), index(row, ColumnCount - 1, parent));
}

void ClusterModel::placePod(const PodRow& pod) {
  const int target = targetWorkload(pod);
  if (target < 0) return;
  WorkloadRow& w = m_workloads[target];
  const int row = static_cast<int>(w.pods.size());
  beginInsertRows(index(target, 0), row, row);
  w.pods.append(pod);
  endInsertRows();
  emitRowChanged({}, target);  // restarts, CPU, memory
}

void ClusterModel::unplacePod(const QString& uid) {
  for (int wi = 0; wi < m_workloads.size(); ++wi) {
    QList<PodRow>& pods = m_workloads[wi].pods;
    for (int pi = 0; pi < pods.size(); ++pi) {
      if (pods[pi].uid != uid) continue;
      beginRemoveRows(index(wi, 0), pi, pi);
      pods.removeAt(pi);
      endRemoveRows();
      emitRowChanged({}, wi);
      return;
    }
  }
}

void ClusterModel::upsertWorkload(const QString& kind, const QJsonObject& object) {
  const QJsonObject spec = sub(object, "spec");
  WorkloadRow w;
  w.uid = uidOf(object);
  w.kind = kind;
  w.name = nameOf(object);
  w.nameSpace = namespaceOf(object);
  w.selector = sub(spec, "selector");
  w.app = sub(w.selector, "matchLabels").value(QLatin1String("app")).toString();
  if (w.app.isEmpty()) w.app = sub(sub(sub(spec, "template"), "metadata"), "labels").value(QLatin1String("app")).toString();
  w.desired = spec.value(QLatin1String("replicas")).toInt(1);
  w.readyReplicas = sub(object, "status").value(QLatin1String("readyReplicas")).toInt();
  w.created = creationTime(object);

  const int row = workloadRow(w.uid);
  if (row < 0) {
    w.id = m_nextId++;
    const int at = static_cast<int>(m_workloads.size());
    beginInsertRows({}, at, at);
    m_workloads.append(w);
    endInsertRows();
  } else {
    WorkloadRow& existing = m_workloads[row];
    const bool selectorChanged = existing.selector != w.selector;
    w.id = existing.id;
    w.pods = existing.pods;
    existing = w;
    emitRowChanged({}, row);
    if (selectorChanged)
      for (const PodRow& p : QList<PodRow>(existing.pods)) unplacePod(p.uid);
  }
  // Pods nobody showed yet may belong here.
  QSet<QString> placed;
  for (const WorkloadRow& wl : std::as_const(m_workloads))
    for (const PodRow& p : wl.pods) placed.insert(p.uid);
  for (const PodRow& p : std::as_const(m_allPods))
    if (!placed.contains(p.uid)) placePod(p);
}

void ClusterModel::removeWorkload(const QJsonObject& object) {
  const int row = workloadRow(uidOf(object));
  if (row < 0) return;
  beginRemoveRows({}, row, row);
  const WorkloadRow removed = m_workloads.takeAt(row);
  endRemoveRows();
  for (const PodRow& p : removed.pods) placePod(p);  // another workload may select them
}

void ClusterModel::upsertPod(const QJsonObject& object) {
  PodRow pod;
  pod.uid = uidOf(object);
  pod.name = nameOf(object);
  pod.nameSpace = namespaceOf(object);
  pod.labels = sub(sub(object, "metadata"), "labels");
  pod.summary = summarizePod(object);
  pod.created = creationTime(object);
  m_allPods.insert(pod.uid, pod);
  const int target = targetWorkload(pod);
  for (int wi = 0; wi < m_workloads.size(); ++wi) {
    QList<PodRow>& pods = m_workloads[wi].pods;
    for (int pi = 0; pi < pods.size(); ++pi) {
      if (pods[pi].uid != pod.uid) continue;
      if (wi == target) {  // the common case: a status change in place
        pods[pi] = pod;
        emitRowChanged(index(wi, 0), pi);
        emitRowChanged({}, wi);
        return;
      }
      unplacePod(pod.uid);
      placePod(pod);
      return;
    }
  }
  placePod(pod);
}

void ClusterModel::removePod(const QJsonObject& object) {
  const QString uid = uidOf(object);
  m_allPods.remove(uid);
  unplacePod(uid);
}

void ClusterModel::refreshMetrics() {
  if (m_workloads.isEmpty()) return;
  const QList<int> roles = {Qt::DisplayRole, ValueRole};
  Q_EMIT dataChanged(index(0, AgeColumn), index(static_cast<int>(m_workloads.size()) - 1, P99Column), roles);
  for (int wi = 0; wi < m_workloads.size(); ++wi) {
    const int pods = static_cast<int>(m_workloads[wi].pods.size());
    if (pods == 0) continue;
    const QModelIndex parent = index(wi, 0);
    Q_EMIT dataChanged(index(0, AgeColumn, parent), index(pods - 1, P99Column, parent), roles);
  }
}

}  // namespace mambogo::core
