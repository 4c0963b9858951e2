// TuiSession: what the terminal UI holds for one connected cluster — the Kubernetes client,
// the informers (deployments, statefulsets, pods, HPAs, events), the metrics collector and its
// time-series store, the three core models and the fault controller — wired and started.
// (The GUI wires the same pieces in gui/clustersession.h; a shared one belongs in app/core.)
//
// Connection state: connecting until the pods list has arrived, then connected; an informer
// error makes it Error (with the message) for 10 s after the last one (the informers keep
// retrying by themselves, and a watch that comes back says nothing).
//
// Thread-safety: the thread with the event loop only; nothing blocks.
// Lifetime: members are created in dependency order and destroyed in reverse (client last).
#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <memory>

#include "core/kubeconfig.h"

namespace mambogo::core {
class ClusterModel;
class EventModel;
class FaultController;
class HpaModel;
class Informer;
class KubeClient;
class MetricsCollector;
class TimeSeriesStore;
}  // namespace mambogo::core

namespace mambogo::tui {

class TuiSession : public QObject {
  Q_OBJECT
 public:
  enum class Connection { Connecting, Connected, Error };

  explicit TuiSession(core::ConnectionSettings settings, QObject* parent = nullptr);
  ~TuiSession() override;

  const core::ConnectionSettings& settings() const;
  QString nameSpace() const;
  Connection connection() const;
  QString lastError() const { return m_lastError; }

  core::KubeClient* client() const { return m_client.get(); }
  core::MetricsCollector* metrics() const { return m_metrics; }
  core::TimeSeriesStore* store() const { return m_store.get(); }
  core::ClusterModel* clusterModel() const { return m_clusterModel; }
  core::HpaModel* hpaModel() const { return m_hpaModel; }
  core::EventModel* eventModel() const { return m_eventModel; }
  core::FaultController* faults() const { return m_faults; }

  // API paths ("/apis/apps/v1/namespaces/NS/deployments/NAME", ".../pods/NAME").
  QString workloadPath(const QString& kind, const QString& name) const;
  QString podPath(const QString& name) const;

 Q_SIGNALS:
  void changed();  // anything shown may have changed (models, metrics, connection)

 private:
  core::Informer* makeInformer(const QString& listPath);
  void onFailure(const QString& message);

  std::unique_ptr<core::KubeClient> m_client;
  std::unique_ptr<core::TimeSeriesStore> m_store;
  // Children of this object, created after the client and destroyed before it.
  core::Informer* m_deployments = nullptr;
  core::Informer* m_statefulSets = nullptr;
  core::Informer* m_pods = nullptr;
  core::Informer* m_hpas = nullptr;
  core::Informer* m_events = nullptr;
  core::MetricsCollector* m_metrics = nullptr;
  core::ClusterModel* m_clusterModel = nullptr;
  core::HpaModel* m_hpaModel = nullptr;
  core::EventModel* m_eventModel = nullptr;
  core::FaultController* m_faults = nullptr;
  QString m_lastError;
  QElapsedTimer m_sinceFailure;  // invalid until the first failure
};

}  // namespace mambogo::tui
