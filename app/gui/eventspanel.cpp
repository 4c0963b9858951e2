#include "gui/eventspanel.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include "core/event_model.h"

namespace mambogo::gui {

EventsPanel::EventsPanel(QWidget* parent) : QWidget(parent) {
  m_filter = new QLineEdit;
  m_filter->setObjectName(QStringLiteral("eventFilter"));
  m_filter->setPlaceholderText(tr("Filter events (object, reason, message…)"));
  m_filter->setClearButtonEnabled(true);
  m_warningsOnly = new QCheckBox(tr("Warnings only"));
  m_byText = new QSortFilterProxyModel(this);
  m_byText->setFilterKeyColumn(-1);
  m_byText->setFilterCaseSensitivity(Qt::CaseInsensitive);
  m_byType = new QSortFilterProxyModel(this);
  m_byType->setSourceModel(m_byText);
  m_byType->setFilterKeyColumn(core::EventModel::TypeColumn);
  m_view = new QTableView;
  m_view->setObjectName(QStringLiteral("eventTable"));
  m_view->setModel(m_byType);
  m_view->verticalHeader()->hide();
  m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_view->setAlternatingRowColors(true);
  m_view->setWordWrap(false);
  m_view->horizontalHeader()->setStretchLastSection(true);
  m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);

  auto* filters = new QHBoxLayout;
  filters->addWidget(m_filter, 1);
  filters->addWidget(m_warningsOnly);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(filters);
  layout->addWidget(m_view, 1);

  connect(m_filter, &QLineEdit::textChanged, this, &EventsPanel::applyFilter);
  connect(m_warningsOnly, &QCheckBox::toggled, this, &EventsPanel::applyFilter);
  // Follow new events while the user is at the bottom.
  connect(m_byType, &QAbstractItemModel::rowsInserted, this, [this] {
    QScrollBar* bar = m_view->verticalScrollBar();
    if (bar->value() >= bar->maximum() - 2) m_view->scrollToBottom();
  });
}

void EventsPanel::setModel(QAbstractItemModel* events) {
  m_byText->setSourceModel(events);
  if (!events) return;
  m_view->setColumnWidth(core::EventModel::TimeColumn, 70);
  m_view->setColumnWidth(core::EventModel::TypeColumn, 64);
  m_view->setColumnWidth(core::EventModel::SourceColumn, 86);
  m_view->setColumnWidth(core::EventModel::ObjectColumn, 190);
  m_view->setColumnWidth(core::EventModel::ReasonColumn, 130);
  m_view->horizontalHeader()->moveSection(core::EventModel::CountColumn, core::EventModel::ReasonColumn + 1);
  m_view->scrollToBottom();
}

void EventsPanel::applyFilter() {
  m_byText->setFilterFixedString(m_filter->text());
  m_byType->setFilterFixedString(m_warningsOnly->isChecked() ? QStringLiteral("Warning") : QString());
}

}  // namespace mambogo::gui
