#include "tui/session.h"

#include <QAbstractItemModel>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/fault_controller.h"
#include "core/hpa_model.h"
#include "core/informer.h"
#include "core/metrics_collector.h"

namespace mambogo::tui {

TuiSession::TuiSession(core::ConnectionSettings settings, QObject* parent)
    : QObject(parent), m_session(new core::ClusterSession(std::move(settings), this)) {
  connect(m_session, &core::ClusterSession::failed, this, &TuiSession::onFailure);
  connect(m_session->pods(), &core::Informer::synced, this, &TuiSession::changed);
  connect(m_session->metrics(), &core::MetricsCollector::updated, this, &TuiSession::changed);
  connect(m_session->faults(), &core::FaultController::faultsChanged, this, &TuiSession::changed);
  for (QAbstractItemModel* model : std::initializer_list<QAbstractItemModel*>{
           m_session->clusterModel(), m_session->hpaModel(), m_session->eventModel()}) {
    connect(model, &QAbstractItemModel::dataChanged, this, &TuiSession::changed);
    connect(model, &QAbstractItemModel::rowsInserted, this, &TuiSession::changed);
    connect(model, &QAbstractItemModel::rowsRemoved, this, &TuiSession::changed);
    connect(model, &QAbstractItemModel::modelReset, this, &TuiSession::changed);
  }
}

TuiSession::~TuiSession() = default;

void TuiSession::onFailure(const QString& message) {
  m_lastError = message;
  m_sinceFailure.start();
  Q_EMIT changed();
}

TuiSession::Connection TuiSession::connection() const {
  constexpr qint64 kErrorShownMs = 10'000;
  if (m_sinceFailure.isValid() && m_sinceFailure.elapsed() < kErrorShownMs) return Connection::Error;
  return m_session->pods()->hasSynced() ? Connection::Connected : Connection::Connecting;
}

}  // namespace mambogo::tui
