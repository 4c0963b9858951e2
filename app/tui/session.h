// TuiSession: the terminal UI's view of one connected cluster — a core::ClusterSession (client,
// informers, metrics collector, models, fault controller; shared with the GUI and the drill
// runner) plus what only a terminal needs: one changed() signal for "redraw", and a connection
// state for the status line.
//
// Connection state: connecting until the pods list has arrived, then connected; an informer
// error makes it Error (with the message) for 10 s after the last one (the informers keep
// retrying by themselves, and a watch that comes back says nothing).
//
// Thread-safety: the thread with the event loop only; nothing blocks.
// Lifetime: owns its ClusterSession.
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include "core/cluster_session.h"
#include "core/kubeconfig.h"

namespace mambogo::tui {

class TuiSession : public QObject {
  Q_OBJECT
 public:
  enum class Connection { Connecting, Connected, Error };

  explicit TuiSession(core::ConnectionSettings settings, QObject* parent = nullptr);
  ~TuiSession() override;

  const core::ConnectionSettings& settings() const { return m_session->settings(); }
  QString nameSpace() const { return m_session->nameSpace(); }
  Connection connection() const;
  QString lastError() const { return m_lastError; }

  core::ClusterSession* session() const { return m_session; }
  core::KubeClient* client() const { return m_session->client(); }
  core::MetricsCollector* metrics() const { return m_session->metrics(); }
  core::TimeSeriesStore* store() const { return m_session->store(); }
  core::ClusterModel* clusterModel() const { return m_session->clusterModel(); }
  core::HpaModel* hpaModel() const { return m_session->hpaModel(); }
  core::EventModel* eventModel() const { return m_session->eventModel(); }
  core::FaultController* faults() const { return m_session->faults(); }

  QString workloadPath(const QString& kind, const QString& name) const { return m_session->workloadPath(kind, name); }
  QString podPath(const QString& name) const { return m_session->podPath(name); }

 Q_SIGNALS:
  void changed();  // anything shown may have changed (models, metrics, connection)

 private:
  void onFailure(const QString& message);

  core::ClusterSession* const m_session;  // child
  QString m_lastError;
  QElapsedTimer m_sinceFailure;  // invalid until the first failure
};

}  // namespace mambogo::tui
