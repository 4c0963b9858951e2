#include "core/hpa_model.h"

#include <QJsonArray>

#include "core/informer.h"
#include "core/kube_objects.h"

namespace mambogo::core {

namespace {

QJsonObject sub(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toObject(); }
QString str(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toString(); }

// "45%", "250m", "<unknown>" from a MetricTarget or MetricValueStatus.
QString valueText(const QJsonObject& v) {
  if (v.isEmpty()) return QStringLiteral("<unknown>");
  if (v.contains(QLatin1String("averageUtilization")))
    return QStringLiteral("%1%").arg(v.value(QLatin1String("averageUtilization")).toInt());
  if (v.contains(QLatin1String("averageValue"))) return v.value(QLatin1String("averageValue")).toVariant().toString();
  if (v.contains(QLatin1String("value"))) return v.value(QLatin1String("value")).toVariant().toString();
  return QStringLiteral("<unknown>");
}

// The part of a metric spec or status entry named by its type ("resource", "pods", ...).
QJsonObject sourceOf(const QJsonObject& entry) {
  const QString type = str(entry, "type");
  if (type.isEmpty()) return {};
  return entry.value(type.left(1).toLower() + type.mid(1)).toObject();
}

QString metricName(const QJsonObject& entry) {
  const QString type = str(entry, "type");
  const QJsonObject source = sourceOf(entry);
  if (type == QLatin1String("Resource") || type == QLatin1String("ContainerResource")) return str(source, "name");
  return str(sub(source, "metric"), "name");
}

}  // namespace

HpaModel::HpaModel(QObject* parent) : QAbstractTableModel(parent) {}

void HpaModel::setSource(Informer* hpas) {
  if (!hpas) return;
  connect(hpas, &Informer::added, this, &HpaModel::upsert);
  connect(hpas, &Informer::modified, this, [this](const QJsonObject& o) { upsert(o); });
  connect(hpas, &Informer::deleted, this, &HpaModel::remove);
  for (const QJsonObject& o : hpas->objects()) upsert(o);
}

QString HpaModel::metricsText(const QJsonObject& hpa) {
  const QJsonArray specMetrics = sub(hpa, "spec").value(QLatin1String("metrics")).toArray();
  const QJsonArray current = sub(hpa, "status").value(QLatin1String("currentMetrics")).toArray();
  QStringList parts;
  for (const QJsonValue& m : specMetrics) {
    const QJsonObject entry = m.toObject();
    const QString name = metricName(entry);
    QJsonObject now;
    for (const QJsonValue& c : current) {
      const QJsonObject status = c.toObject();
      if (str(status, "type") == str(entry, "type") && metricName(status) == name) now = sub(sourceOf(status), "current");
    }
    parts.append(QStringLiteral("%1: %2/%3").arg(name, valueText(now), valueText(sub(sourceOf(entry), "target"))));
  }
  return parts.join(QStringLiteral(", "));
}

QString HpaModel::conditionsText(const QJsonObject& hpa) {
  QStringList parts;
  for (const QJsonValue& c : sub(hpa, "status").value(QLatin1String("conditions")).toArray()) {
    const QJsonObject condition = c.toObject();
    QString text = str(condition, "type") + QLatin1Char('=') + str(condition, "status");
    if (!str(condition, "reason").isEmpty()) text += QStringLiteral(" (%1)").arg(str(condition, "reason"));
    parts.append(text);
  }
  return parts.join(QStringLiteral("; "));
}

HpaModel::Row HpaModel::toRow(const QJsonObject& hpa) {
  const QJsonObject spec = sub(hpa, "spec"), status = sub(hpa, "status"), target = sub(spec, "scaleTargetRef");
  Row r;
  r.uid = uidOf(hpa);
  r.name = nameOf(hpa);
  r.nameSpace = namespaceOf(hpa);
  r.reference = str(target, "kind") + QLatin1Char('/') + str(target, "name");
  r.current = status.value(QLatin1String("currentReplicas")).toInt();
  r.desired = status.value(QLatin1String("desiredReplicas")).toInt();
  r.min = spec.value(QLatin1String("minReplicas")).toInt(1);
  r.max = spec.value(QLatin1String("maxReplicas")).toInt();
  r.metrics = metricsText(hpa);
  r.conditions = conditionsText(hpa);
  return r;
}

int HpaModel::rowOf(const QString& uid) const {
  for (int i = 0; i < m_rows.size(); ++i)
    if (m_rows[i].uid == uid) return i;
  return -1;
}

void HpaModel::upsert(const QJsonObject& hpa) {
  const Row row = toRow(hpa);
  const int at = rowOf(row.uid);
  if (at >= 0) {
    m_rows[at] = row;
    Q_EMIT dataChanged(index(at, 0), index(at, ColumnCount - 1));
    return;
  }
  const int end = static_cast<int>(m_rows.size());
  beginInsertRows({}, end, end);
  m_rows.append(row);
  endInsertRows();
}

void HpaModel::remove(const QJsonObject& hpa) {
  const int at = rowOf(uidOf(hpa));
  if (at < 0) return;
  beginRemoveRows({}, at, at);
  m_rows.removeAt(at);
  endRemoveRows();
}

int HpaModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int HpaModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant HpaModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = m_rows[index.row()];
  if (role == UidRole) return r.uid;
  if (role == NamespaceRole) return r.nameSpace;
  if (role != Qt::DisplayRole && role != ValueRole) return {};
  switch (index.column()) {
    case NameColumn: return r.name;
    case ReferenceColumn: return r.reference;
    case CurrentColumn: return r.current;
    case DesiredColumn: return r.desired;
    case MinColumn: return r.min;
    case MaxColumn: return r.max;
    case MetricsColumn: return r.metrics;
    case ConditionsColumn: return r.conditions;
    default: return {};
  }
}

QVariant HpaModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn: return tr("Name");
    case ReferenceColumn: return tr("Reference");
    case CurrentColumn: return tr("Current");
    case DesiredColumn: return tr("Desired");
    case MinColumn: return tr("Min");
    case MaxColumn: return tr("Max");
    case MetricsColumn: return tr("Metrics (current/target)");
    case ConditionsColumn: return tr("Conditions");
    default: return {};
  }
}

}  // namespace mambogo::core
