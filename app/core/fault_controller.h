// FaultController: the console's fault injection, as Chaos Mesh resources
// (chaos-mesh.org/v1alpha1) created and deleted through the Kubernetes API — so it drives the
// local cluster and a real cluster with Chaos Mesh installed alike.
//
// Offers
//   - buildResource(spec, name, namespace): the Chaos Mesh object for a FaultSpec (pure):
//       PodKill, PodFailure          → PodChaos (action pod-kill / pod-failure, mode one / all)
//       NetworkDelay/Loss/Partition  → NetworkChaos from one service's pods to another's
//                                      (selector + target, direction to)
//       HttpAbort/Delay/ReplaceCode  → HTTPChaos on a service's port 8080 (Request target for
//                                      abort and delay, Response for replace.code)
//       CpuStress                    → StressChaos (stressors.cpu workers/load)
//     Every object carries the label mambogo.io/fault=true and spec.duration. Services are
//     selected by their `app` label, as in the manifests. Throws std::invalid_argument naming
//     the field for a spec that makes no sense (no service, a network fault without a target,
//     a duration <= 0, a loss outside 0..100, ...).
//   - inject(spec): creates it; injected(fault) or failed(message) follow.
//   - remove(fault): deletes one; recoverAll(): deletes every chaos object of the four kinds
//     labelled mambogo.io/fault=true in the namespace, whoever created it (this console, the
//     terminal UI, kubectl); recovered(count) or failed(message) follow.
//   - activeFaults(): the chaos objects of the namespace as last listed (every
//     pollIntervalMs, default 2 s, and after each change), with the time left of each computed
//     from creationTimestamp + spec.duration against the local clock; faultsChanged() when the
//     list or a remaining time changes (once a second while faults run).
//
// Thread-safety: lives on the KubeClient's thread; call only from there. Never blocks.
// Lifetime: the KubeClient must outlive the controller.
#pragma once

#include <QDateTime>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

namespace mambogo::core {

class KubeClient;

struct FaultSpec {
  enum class Kind {
    PodKill,
    PodFailure,
    NetworkDelay,
    NetworkLoss,
    NetworkPartition,
    HttpAbort,
    HttpDelay,
    HttpReplaceCode,
    CpuStress,
  };
  Kind kind = Kind::PodKill;
  QString service;        // the `app` label of the pods the fault acts on
  QString targetService;  // network faults: the pods on the other side
  int durationS = 30;
  bool allPods = false;   // pod faults and stress: every pod of the service instead of one
  int latencyMs = 200;    // NetworkDelay
  int jitterMs = 0;       // NetworkDelay
  double lossPercent = 50;  // NetworkLoss, 0..100
  int httpDelayMs = 1'000;  // HttpDelay
  int replaceCode = 503;    // HttpReplaceCode
  QString httpPath = QStringLiteral("*");  // HTTP faults: Chaos Mesh path glob
  int cpuWorkers = 1;       // CpuStress
  int cpuLoadPercent = 100; // CpuStress, 1..100
};

struct ActiveFault {
  QString kind;       // "PodChaos", "NetworkChaos", "HTTPChaos", "StressChaos"
  QString name;
  QString nameSpace;
  QString summary;    // "pod-failure on payment-service", "delay 200ms order-service → payment-service"
  QDateTime created;  // UTC
  int durationS = -1;     // -1: no duration (runs until deleted)
  int remainingS = -1;    // -1: no duration; 0: expired
  bool managed = false;   // labelled mambogo.io/fault=true (recoverAll deletes it)

  bool expired() const { return durationS >= 0 && remainingS == 0; }
};

class FaultController : public QObject {
  Q_OBJECT
 public:
  FaultController(KubeClient* client, QString nameSpace, QObject* parent = nullptr);

  static QJsonObject buildResource(const FaultSpec& spec, const QString& name, const QString& nameSpace);
  // Unique names such as "mambogo-pod-failure-payment-service-x7k2q" (DNS-1123, <= 63 chars).
  static QString makeName(const FaultSpec& spec);
  // The Chaos Mesh kind and its collection path in `nameSpace`.
  static QString kindOf(FaultSpec::Kind kind);
  static QString collectionPath(const QString& kind, const QString& nameSpace);
  // Reads a listed chaos object (`kind` as listed) at `now`.
  static ActiveFault describe(const QString& kind, const QJsonObject& object, const QDateTime& now);
  static QString describe(const FaultSpec& spec);  // human summary, translated

  void inject(const FaultSpec& spec);
  void remove(const ActiveFault& fault);
  void recoverAll();
  void refresh();

  QList<ActiveFault> activeFaults() const { return m_faults; }
  QString nameSpace() const { return m_namespace; }
  void setPollIntervalMs(int ms) { m_poll.setInterval(ms); }

 Q_SIGNALS:
  void injected(const mambogo::core::ActiveFault& fault);
  void removed(const QString& name);
  void recovered(int count);
  void faultsChanged();
  void failed(const QString& message);

 private:
  void onListed(const QString& kind, const QList<QJsonObject>& items);
  void tick();

  KubeClient* const m_client;
  const QString m_namespace;
  QTimer m_poll;
  QTimer m_tick;
  QHash<QString, QList<QJsonObject>> m_listed;  // kind -> objects as last listed
  QList<ActiveFault> m_faults;
  int m_pendingLists = 0;
};

}  // namespace mambogo::core

Q_DECLARE_METATYPE(mambogo::core::ActiveFault)
