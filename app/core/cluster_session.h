// ClusterSession: everything the console holds for one connected cluster — the Kubernetes
// client, the informers (deployments, statefulsets, pods, HPAs, events), the metrics
// collector and its time-series store, the three models and the fault controller — wired
// together and started. The main window creates one per connection and destroys it on
// "Stop" or a new connection; the panels are given its models.
//
// The same session drives the local cluster and a remote one: it knows only the
// ConnectionSettings (the kubeconfig context) and, for load, the gateway URL and token.
//
// Thread-safety: GUI thread only; nothing in it blocks (all I/O is asynchronous).
// Lifetime: members are created in dependency order and destroyed in reverse (the client last).
#pragma once

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

namespace mambogo::gui {

class ClusterSession : public QObject {
  Q_OBJECT
 public:
  // Creates and starts everything. Throws nothing; connection problems arrive as
  // failed(message) (from the informers) while they keep retrying.
  explicit ClusterSession(core::ConnectionSettings settings, QObject* parent = nullptr);
  ~ClusterSession() override;

  const core::ConnectionSettings& settings() const;
  QString nameSpace() const;

  core::KubeClient* client() const { return m_client.get(); }
  core::Informer* deployments() const { return m_deployments; }
  core::Informer* statefulSets() const { return m_statefulSets; }
  core::Informer* pods() const { return m_pods; }
  core::Informer* hpas() const { return m_hpas; }
  core::MetricsCollector* metrics() const { return m_metrics; }
  core::TimeSeriesStore* store() const { return m_store.get(); }
  core::ClusterModel* clusterModel() const { return m_clusterModel; }
  core::HpaModel* hpaModel() const { return m_hpaModel; }
  core::EventModel* eventModel() const { return m_eventModel; }
  core::FaultController* faults() const { return m_faults; }

  // The API path of a workload or pod ("/apis/apps/v1/namespaces/NS/deployments/NAME").
  QString workloadPath(const QString& kind, const QString& name) const;
  QString podPath(const QString& name) const;

 Q_SIGNALS:
  void failed(const QString& message);

 private:
  core::Informer* makeInformer(const QString& listPath);

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
};

}  // namespace mambogo::gui
