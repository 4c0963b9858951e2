// EventsPanel: the Events dock — the session's EventModel (Kubernetes events and the
// console's own: breaker transitions, faults, scaling) in a table, newest at the bottom and
// followed while the view is scrolled to the end, filterable by text (any column) and by
// "warnings only".
//
// Thread-safety: GUI thread only. Lifetime: the model given to setModel() must outlive its use.
#pragma once

#include <QWidget>

class QAbstractItemModel;
class QCheckBox;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace mambogo::gui {

class EventsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit EventsPanel(QWidget* parent = nullptr);
  void setModel(QAbstractItemModel* events);  // null detaches
  QTableView* view() const { return m_view; }

 private:
  void applyFilter();

  QLineEdit* m_filter = nullptr;
  QCheckBox* m_warningsOnly = nullptr;
  QSortFilterProxyModel* m_byText = nullptr;
  QSortFilterProxyModel* m_byType = nullptr;
  QTableView* m_view = nullptr;
};

}  // namespace mambogo::gui
