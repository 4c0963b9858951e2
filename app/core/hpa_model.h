// HpaModel: the HorizontalPodAutoscalers (autoscaling/v2) as a table.
//
// Offers
//   - Columns: name, reference ("Deployment/order-service"), current / desired / min / max
//     replicas, metrics as kubectl shows them ("cpu: 45%/70%", "<unknown>/70%" before the
//     first reading; Pods/Object/External metrics by name with value or average value), and
//     the conditions ("AbleToScale=True (ReadyForNewScale); ScalingActive=True (...); ...").
//     DisplayRole is the text; ValueRole the number for the replica columns; UidRole.
//   - Rows are value snapshots, appended in arrival order; updates are in place (dataChanged
//     of the row), deletions remove the row; never a reset.
//   - upsert()/remove() are what the informer feeds; tests feed synthetic objects.
//
// Thread-safety: one thread (the GUI's). Lifetime: the informer given to setSource() must
// outlive the model.
#pragma once

#include <QAbstractTableModel>
#include <QJsonObject>
#include <QList>

namespace mambogo::core {

class Informer;

class HpaModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, ReferenceColumn, CurrentColumn, DesiredColumn, MinColumn, MaxColumn, MetricsColumn, ConditionsColumn, ColumnCount };
  enum Role { ValueRole = Qt::UserRole + 1, UidRole, NamespaceRole };

  explicit HpaModel(QObject* parent = nullptr);
  void setSource(Informer* hpas);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

  // The metrics text of one HPA object, as the Metrics column shows it.
  static QString metricsText(const QJsonObject& hpa);
  static QString conditionsText(const QJsonObject& hpa);

 public Q_SLOTS:
  void upsert(const QJsonObject& hpa);
  void remove(const QJsonObject& hpa);

 private:
  struct Row {
    QString uid, name, nameSpace, reference, metrics, conditions;
    int current = 0, desired = 0, min = 1, max = 0;
  };
  static Row toRow(const QJsonObject& hpa);
  int rowOf(const QString& uid) const;

  QList<Row> m_rows;
};

}  // namespace mambogo::core
