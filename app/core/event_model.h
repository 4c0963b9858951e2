// EventModel: what happened, newest LAST: Kubernetes Events (core/v1) merged with the
// console's own events (breaker transitions, faults, scaling, notes).
//
// Offers
//   - Columns: time (last seen), type (Normal/Warning), source ("kubernetes" or "console"),
//     object ("Pod/order-service-7d9f"), reason, message, count. DisplayRole text; TimeRole
//     the QDateTime; SourceRole; CategoryRole for console events ("breaker", "fault",
//     "scaling", "note").
//   - Rows are ordered by the time of the event when it first arrives (an event older than
//     the newest row is inserted at its place, so the initial list comes out sorted); a
//     Kubernetes event seen again (count, lastTimestamp) is updated in place (dataChanged).
//   - Capped at `capacity` rows (default 1000): beyond it the oldest row (row 0) is removed.
//   - addConsoleEvent() appends the console's own; connectCollector() turns the collector's
//     breakerChanged into breaker events. upsertKubeEvent is what the informer feeds; a
//     Kubernetes Event the server deletes (its TTL expired) stays in the log: the model is a
//     history, not a mirror.
//
// Thread-safety: one thread (the GUI's). Lifetime: sources must outlive the model.
#pragma once

#include <QAbstractTableModel>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <functional>

namespace mambogo::core {

class Informer;
class MetricsCollector;

class EventModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { TimeColumn, TypeColumn, SourceColumn, ObjectColumn, ReasonColumn, MessageColumn, CountColumn, ColumnCount };
  enum Role { TimeRole = Qt::UserRole + 1, SourceRole, CategoryRole };

  explicit EventModel(int capacity = 1000, QObject* parent = nullptr);

  void setSource(Informer* events);
  void connectCollector(MetricsCollector* collector);
  void setClock(std::function<QDateTime()> clock) { m_clock = std::move(clock); }
  int capacity() const { return m_capacity; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 public Q_SLOTS:
  void upsertKubeEvent(const QJsonObject& event);
  // category: "breaker", "fault", "scaling" or "note"; type "Normal" or "Warning".
  void addConsoleEvent(const QString& category, const QString& object, const QString& reason, const QString& message,
                       const QString& type = QStringLiteral("Normal"));

 private:
  struct Row {
    QString uid;  // Kubernetes events only
    QDateTime time;
    QString type, source, category, object, reason, message;
    int count = 1;
  };
  void insertSorted(const Row& row);
  QDateTime now() const { return m_clock ? m_clock() : QDateTime::currentDateTimeUtc(); }

  const int m_capacity;
  QList<Row> m_rows;
  std::function<QDateTime()> m_clock;
};

}  // namespace mambogo::core
