#include "core/cluster_session.h"

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/fault_controller.h"
#include "core/hpa_model.h"
#include "core/informer.h"
#include "core/kube_client.h"
#include "core/metrics_collector.h"
#include "core/time_series.h"

namespace mambogo::core {

ClusterSession::ClusterSession(ConnectionSettings settings, QObject* parent)
    : QObject(parent),
      m_client(std::make_unique<KubeClient>(std::move(settings))),
      m_store(std::make_unique<TimeSeriesStore>()) {
  const QString ns = nameSpace();
  m_deployments = makeInformer(QStringLiteral("/apis/apps/v1/namespaces/%1/deployments").arg(ns));
  m_statefulSets = makeInformer(QStringLiteral("/apis/apps/v1/namespaces/%1/statefulsets").arg(ns));
  m_pods = makeInformer(QStringLiteral("/api/v1/namespaces/%1/pods").arg(ns));
  m_hpas = makeInformer(QStringLiteral("/apis/autoscaling/v2/namespaces/%1/horizontalpodautoscalers").arg(ns));
  m_events = makeInformer(QStringLiteral("/api/v1/namespaces/%1/events").arg(ns));

  MetricsCollector::Options options;
  options.nameSpace = ns;
  m_metrics = new MetricsCollector(m_client.get(), m_pods, m_store.get(), options, this);

  m_clusterModel = new ClusterModel(this);
  m_clusterModel->setSources(m_deployments, m_statefulSets, m_pods, m_metrics);
  m_hpaModel = new HpaModel(this);
  m_hpaModel->setSource(m_hpas);
  m_eventModel = new EventModel(1000, this);
  m_eventModel->setSource(m_events);
  m_eventModel->connectCollector(m_metrics);
  m_faults = new FaultController(m_client.get(), ns, this);

  for (Informer* informer : {m_deployments, m_statefulSets, m_pods, m_hpas, m_events}) informer->start();
  m_metrics->start();
}

ClusterSession::~ClusterSession() {
  // Children talk to the client: they go first, in reverse order of creation.
  delete m_faults;
  delete m_eventModel;
  delete m_hpaModel;
  delete m_clusterModel;
  delete m_metrics;
  for (Informer* informer : {m_events, m_hpas, m_pods, m_statefulSets, m_deployments}) delete informer;
}

const ConnectionSettings& ClusterSession::settings() const { return m_client->settings(); }

QString ClusterSession::nameSpace() const {
  const QString ns = m_client->settings().nameSpace;
  return ns.isEmpty() ? QStringLiteral("default") : ns;
}

Informer* ClusterSession::makeInformer(const QString& listPath) {
  auto* informer = new Informer(m_client.get(), listPath, this);
  connect(informer, &Informer::failed, this, &ClusterSession::failed);
  return informer;
}

QString ClusterSession::workloadPath(const QString& kind, const QString& name) const {
  const QString plural = kind == QLatin1String("StatefulSet") ? QStringLiteral("statefulsets") : QStringLiteral("deployments");
  return QStringLiteral("/apis/apps/v1/namespaces/%1/%2/%3").arg(nameSpace(), plural, name);
}

QString ClusterSession::podPath(const QString& name) const {
  return QStringLiteral("/api/v1/namespaces/%1/pods/%2").arg(nameSpace(), name);
}

}  // namespace mambogo::core
