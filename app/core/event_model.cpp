#include "core/event_model.h"

#include "core/informer.h"
#include "core/metrics_collector.h"

namespace mambogo::core {

namespace {
QString str(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toString(); }
QDateTime timeOf(const QJsonObject& e) {
  for (const char* key : {"lastTimestamp", "eventTime", "firstTimestamp"}) {
    const QDateTime t = QDateTime::fromString(str(e, key), Qt::ISODateWithMs);
    if (t.isValid()) return t;
  }
  return QDateTime::fromString(str(e.value(QLatin1String("metadata")).toObject(), "creationTimestamp"), Qt::ISODate);
}
}  // namespace

EventModel::EventModel(int capacity, QObject* parent) : QAbstractTableModel(parent), m_capacity(std::max(1, capacity)) {}

void EventModel::setSource(Informer* events) {
  if (!events) return;
  connect(events, &Informer::added, this, &EventModel::upsertKubeEvent);
  connect(events, &Informer::modified, this, [this](const QJsonObject& o) { upsertKubeEvent(o); });
  for (const QJsonObject& o : events->objects()) upsertKubeEvent(o);
}

void EventModel::connectCollector(MetricsCollector* collector) {
  connect(collector, &MetricsCollector::breakerChanged, this,
          [this](const QString& app, const QString& breaker, const QString& from, const QString& to) {
            addConsoleEvent(QStringLiteral("breaker"), QStringLiteral("Service/%1").arg(app),
                            QStringLiteral("CircuitBreaker%1").arg(to == QLatin1String("open") ? QStringLiteral("Opened")
                                                                   : to == QLatin1String("closed") ? QStringLiteral("Closed")
                                                                                                   : QStringLiteral("StateChanged")),
                            QStringLiteral("breaker %1: %2 -> %3").arg(breaker, from, to),
                            to == QLatin1String("open") ? QStringLiteral("Warning") : QStringLiteral("Normal"));
          });
}

void EventModel::upsertKubeEvent(const QJsonObject& event) {
  Row row;
  row.uid = uidOf(event);
  row.time = timeOf(event);
  row.type = str(event, "type");
  row.source = QStringLiteral("kubernetes");
  QJsonObject involved = event.value(QLatin1String("involvedObject")).toObject();
  if (involved.isEmpty()) involved = event.value(QLatin1String("regarding")).toObject();  // events.k8s.io
  row.object = str(involved, "kind") + QLatin1Char('/') + str(involved, "name");
  row.reason = str(event, "reason");
  row.message = str(event, "message");
  if (row.message.isEmpty()) row.message = str(event, "note");
  row.count = std::max(1, event.value(QLatin1String("count")).toInt(1));
  for (int i = 0; i < m_rows.size(); ++i) {
    if (m_rows[i].uid != row.uid) continue;
    m_rows[i] = row;  // seen again: same row, new count and time
    Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
    return;
  }
  insertSorted(row);
}

void EventModel::addConsoleEvent(const QString& category, const QString& object, const QString& reason,
                                 const QString& message, const QString& type) {
  Row row;
  row.time = now();
  row.type = type;
  row.source = QStringLiteral("console");
  row.category = category;
  row.object = object;
  row.reason = reason;
  row.message = message;
  insertSorted(row);
}

void EventModel::insertSorted(const Row& row) {
  int at = static_cast<int>(m_rows.size());
  while (at > 0 && row.time.isValid() && m_rows[at - 1].time > row.time) --at;
  if (m_rows.size() >= m_capacity) {
    if (at == 0) return;  // older than everything kept
    beginRemoveRows({}, 0, 0);
    m_rows.removeFirst();
    endRemoveRows();
    --at;
  }
  beginInsertRows({}, at, at);
  m_rows.insert(at, row);
  endInsertRows();
}

int EventModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(m_rows.size()); }
int EventModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant EventModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = m_rows[index.row()];
  switch (role) {
    case TimeRole: return r.time;
    case SourceRole: return r.source;
    case CategoryRole: return r.category;
    case Qt::DisplayRole: break;
    default: return {};
  }
  switch (index.column()) {
    case TimeColumn: return r.time.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    case TypeColumn: return r.type;
    case SourceColumn: return r.source;
    case ObjectColumn: return r.object;
    case ReasonColumn: return r.reason;
    case MessageColumn: return r.message;
    case CountColumn: return r.count;
    default: return {};
  }
}

QVariant EventModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case TimeColumn: return tr("Time");
    case TypeColumn: return tr("Type");
    case SourceColumn: return tr("Source");
    case ObjectColumn: return tr("Object");
    case ReasonColumn: return tr("Reason");
    case MessageColumn: return tr("Message");
    case CountColumn: return tr("Count");
    default: return {};
  }
}

}  // namespace mambogo::core
