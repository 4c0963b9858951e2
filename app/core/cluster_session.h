// ClusterSession: everything a console (the GUI, the terminal UI, the headless drill runner)
// holds for one connected cluster — the Kubernetes
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

class ClusterSession : public QObject {
  Q_OBJECT
 public:
  // Creates and starts everything. Throws nothing; connection problems arrive as
  // failed(message) (from the informers) while they keep retrying.
  explicit ClusterSession(ConnectionSettings settings, QObject* parent = nullptr);
  ~ClusterSession() override;

  const ConnectionSettings& settings() const;
  QString nameSpace() const;

  KubeClient* client() const { return m_client.get(); }
  Informer* deployments() const { return m_deployments; }
  Informer* statefulSets() const { return m_statefulSets; }
  Informer* pods() const { return m_pods; }
  Informer* hpas() const { return m_hpas; }
  MetricsCollector* metrics() const { return m_metrics; }
  TimeSeriesStore* store() const { return m_store.get(); }
  ClusterModel* clusterModel() const { return m_clusterModel; }
  HpaModel* hpaModel() const { return m_hpaModel; }
  EventModel* eventModel() const { return m_eventModel; }
  FaultController* faults() const { return m_faults; }

  // The API path of a workload or pod ("/apis/apps/v1/namespaces/NS/deployments/NAME").
  QString workloadPath(const QString& kind, const QString& name) const;
  QString podPath(const QString& name) const;

 Q_SIGNALS:
  void failed(const QString& message);  // an informer's error (they keep retrying)

 private:
  Informer* makeInformer(const QString& listPath);

  std::unique_ptr<KubeClient> m_client;
  std::unique_ptr<TimeSeriesStore> m_store;
  // Children of this object, created after the client and destroyed before it.
  Informer* m_deployments = nullptr;
  Informer* m_statefulSets = nullptr;
  Informer* m_pods = nullptr;
  Informer* m_hpas = nullptr;
  Informer* m_events = nullptr;
  MetricsCollector* m_metrics = nullptr;
  ClusterModel* m_clusterModel = nullptr;
  HpaModel* m_hpaModel = nullptr;
  EventModel* m_eventModel = nullptr;
  FaultController* m_faults = nullptr;
};

}  // namespace mambogo::core
