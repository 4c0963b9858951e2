#include "core/fault_controller.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QUrlQuery>
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "core/kube_client.h"

namespace mambogo::core {
namespace {

using Kind = FaultSpec::Kind;

const QString kFaultLabel = QStringLiteral("mambogo.io/fault");
const QStringList kKinds{QStringLiteral("PodChaos"), QStringLiteral("NetworkChaos"), QStringLiteral("HTTPChaos"),
                         QStringLiteral("StressChaos")};


[[noreturn]] void invalid(const QString& message) { throw std::invalid_argument(message.toStdString()); }

QString action(Kind kind) {
  switch (kind) {
    case Kind::PodKill: return QStringLiteral("pod-kill");
    case Kind::PodFailure: return QStringLiteral("pod-failure");
    case Kind::NetworkDelay: return QStringLiteral("delay");
    case Kind::NetworkLoss: return QStringLiteral("loss");
    case Kind::NetworkPartition: return QStringLiteral("partition");
    case Kind::HttpAbort: return QStringLiteral("abort");
    case Kind::HttpDelay: return QStringLiteral("http-delay");
    case Kind::HttpReplaceCode: return QStringLiteral("replace-code");
    case Kind::CpuStress: return QStringLiteral("cpu-stress");
  }
  return {};
}

bool isNetwork(Kind kind) {
  return kind == Kind::NetworkDelay || kind == Kind::NetworkLoss || kind == Kind::NetworkPartition;
}

QJsonObject selectorFor(const QString& service, const QString& nameSpace) {
  return QJsonObject{{QStringLiteral("namespaces"), QJsonArray{nameSpace}},
                     {QStringLiteral("labelSelectors"), QJsonObject{{QStringLiteral("app"), service}}}};
}

QString goDuration(int ms) {
  return ms % 1000 == 0 ? QString::number(ms / 1000) + QLatin1Char('s') : QString::number(ms) + QStringLiteral("ms");
}

void validate(const FaultSpec& spec) {
  static const QRegularExpression dnsLabel(QStringLiteral("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
  if (spec.service.isEmpty()) invalid(QStringLiteral("service: no service chosen"));
  if (!dnsLabel.match(spec.service).hasMatch()) invalid(QStringLiteral("service: \"%1\" is no service name").arg(spec.service));
  if (spec.durationS <= 0) invalid(QStringLiteral("duration: must be at least 1 s, got %1").arg(spec.durationS));
  if (isNetwork(spec.kind)) {
    if (spec.targetService.isEmpty()) invalid(QStringLiteral("target: a network fault needs a target service"));
    if (!dnsLabel.match(spec.targetService).hasMatch())
      invalid(QStringLiteral("target: \"%1\" is no service name").arg(spec.targetService));
  }
  if (spec.kind == Kind::NetworkDelay && (spec.latencyMs <= 0 || spec.jitterMs < 0))
    invalid(QStringLiteral("latency: must be > 0 ms (jitter >= 0), got %1 ms").arg(spec.latencyMs));
  if (spec.kind == Kind::NetworkLoss && (spec.lossPercent <= 0 || spec.lossPercent > 100))
    invalid(QStringLiteral("loss: must be in (0, 100] %, got %1").arg(spec.lossPercent));
  if (spec.kind == Kind::HttpDelay && spec.httpDelayMs <= 0)
    invalid(QStringLiteral("delay: must be > 0 ms, got %1").arg(spec.httpDelayMs));
  if (spec.kind == Kind::HttpReplaceCode && (spec.replaceCode < 100 || spec.replaceCode > 599))
    invalid(QStringLiteral("code: %1 is no HTTP status").arg(spec.replaceCode));
  if (spec.kind == Kind::CpuStress && (spec.cpuWorkers < 1 || spec.cpuLoadPercent < 1 || spec.cpuLoadPercent > 100))
    invalid(QStringLiteral("stress: workers must be >= 1 and load in 1..100 %"));
}

QJsonObject podChaosSpec(const FaultSpec& spec, const QJsonObject& selector) {
  return {{QStringLiteral("action"), action(spec.kind)},
          {QStringLiteral("mode"), spec.allPods ? QStringLiteral("all") : QStringLiteral("one")},
          {QStringLiteral("selector"), selector}};
}

QJsonObject networkChaosSpec(const FaultSpec& spec, const QJsonObject& selector, const QString& nameSpace) {
  QJsonObject out{{QStringLiteral("action"), action(spec.kind)},
                  {QStringLiteral("mode"), QStringLiteral("all")},
                  {QStringLiteral("selector"), selector},
                  {QStringLiteral("direction"), QStringLiteral("to")},
                  {QStringLiteral("target"),
                   QJsonObject{{QStringLiteral("mode"), QStringLiteral("all")},
                               {QStringLiteral("selector"), selectorFor(spec.targetService, nameSpace)}}}};
  if (spec.kind == Kind::NetworkDelay)
    out[QStringLiteral("delay")] = QJsonObject{{QStringLiteral("latency"), goDuration(spec.latencyMs)},
                                               {QStringLiteral("jitter"), goDuration(spec.jitterMs)},
                                               {QStringLiteral("correlation"), QStringLiteral("0")}};
  if (spec.kind == Kind::NetworkLoss)
    out[QStringLiteral("loss")] = QJsonObject{{QStringLiteral("loss"), QString::number(spec.lossPercent)},
                                              {QStringLiteral("correlation"), QStringLiteral("0")}};
  return out;
}

QJsonObject httpChaosSpec(const FaultSpec& spec, const QJsonObject& selector) {
  QJsonObject out{{QStringLiteral("mode"), QStringLiteral("all")},
                  {QStringLiteral("selector"), selector},
                  {QStringLiteral("port"), 8080},
                  {QStringLiteral("path"), spec.httpPath.isEmpty() ? QStringLiteral("*") : spec.httpPath}};
  if (spec.kind == Kind::HttpAbort) {
    out[QStringLiteral("target")] = QStringLiteral("Request");
    out[QStringLiteral("abort")] = true;
  } else if (spec.kind == Kind::HttpDelay) {
    out[QStringLiteral("target")] = QStringLiteral("Request");
    out[QStringLiteral("delay")] = goDuration(spec.httpDelayMs);
  } else {
    out[QStringLiteral("target")] = QStringLiteral("Response");
    out[QStringLiteral("replace")] = QJsonObject{{QStringLiteral("code"), spec.replaceCode}};
  }
  return out;
}

QJsonObject stressChaosSpec(const FaultSpec& spec, const QJsonObject& selector) {
  return {{QStringLiteral("mode"), spec.allPods ? QStringLiteral("all") : QStringLiteral("one")},
          {QStringLiteral("selector"), selector},
          {QStringLiteral("stressors"),
           QJsonObject{{QStringLiteral("cpu"), QJsonObject{{QStringLiteral("workers"), spec.cpuWorkers},
                                                           {QStringLiteral("load"), spec.cpuLoadPercent}}}}}};
}

// Go's time.ParseDuration for the units Chaos Mesh users write; -1 when unreadable.
int parseDurationS(const QString& text) {
  static const QRegularExpression part(QStringLiteral(R"((\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))"));
  if (text.isEmpty()) return -1;
  double seconds = 0;
  qsizetype consumed = 0;
  for (auto it = part.globalMatch(text); it.hasNext();) {
    const auto m = it.next();
    if (m.capturedStart() != consumed) return -1;
    consumed = m.capturedEnd();
    const double v = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    if (unit == QLatin1String("h")) seconds += v * 3600;
    else if (unit == QLatin1String("m")) seconds += v * 60;
    else if (unit == QLatin1String("s")) seconds += v;
    else if (unit == QLatin1String("ms")) seconds += v / 1e3;
    else if (unit == QLatin1String("us") || unit == QStringLiteral("µs")) seconds += v / 1e6;
    else seconds += v / 1e9;
  }
  return consumed == text.size() ? int(seconds + 0.999) : -1;
}

QString appOf(const QJsonObject& selector) {
  const QJsonObject labels = selector.value(QStringLiteral("labelSelectors")).toObject();
  const QString app = labels.value(QStringLiteral("app")).toString();
  if (!app.isEmpty()) return app;
  const QJsonObject pods = selector.value(QStringLiteral("pods")).toObject();
  QStringList names;
  for (auto it = pods.begin(); it != pods.end(); ++it)
    for (const auto& n : it.value().toArray()) names << n.toString();
  return names.isEmpty() ? QStringLiteral("?") : names.join(QStringLiteral(", "));
}

QString summaryOf(const QString& kind, const QJsonObject& spec) {
  const QString app = appOf(spec.value(QStringLiteral("selector")).toObject());
  if (kind == QLatin1String("PodChaos"))
    return QCoreApplication::translate("FaultController", "%1 on %2").arg(spec.value(QStringLiteral("action")).toString(), app);
  if (kind == QLatin1String("NetworkChaos")) {
    const QString act = spec.value(QStringLiteral("action")).toString();
    const QString target =
        appOf(spec.value(QStringLiteral("target")).toObject().value(QStringLiteral("selector")).toObject());
    QString detail = act;
    if (act == QLatin1String("delay"))
      detail += QLatin1Char(' ') + spec.value(QStringLiteral("delay")).toObject().value(QStringLiteral("latency")).toString();
    if (act == QLatin1String("loss"))
      detail += QLatin1Char(' ') + spec.value(QStringLiteral("loss")).toObject().value(QStringLiteral("loss")).toString() +
                QLatin1Char('%');
    return QCoreApplication::translate("FaultController", "%1 %2 → %3").arg(detail, app, target);
  }
  if (kind == QLatin1String("HTTPChaos")) {
    QString what;
    if (spec.value(QStringLiteral("abort")).toBool()) what = QCoreApplication::translate("FaultController", "HTTP abort");
    else if (spec.contains(QStringLiteral("replace")))
      what = QCoreApplication::translate("FaultController", "HTTP %1").arg(spec.value(QStringLiteral("replace")).toObject().value(QStringLiteral("code")).toInt());
    else what = QCoreApplication::translate("FaultController", "HTTP delay %1").arg(spec.value(QStringLiteral("delay")).toString());
    return QCoreApplication::translate("FaultController", "%1 on %2").arg(what, app);
  }
  const QJsonObject cpu = spec.value(QStringLiteral("stressors")).toObject().value(QStringLiteral("cpu")).toObject();
  return QCoreApplication::translate("FaultController", "CPU stress %1×%2% on %3")
      .arg(cpu.value(QStringLiteral("workers")).toInt())
      .arg(cpu.value(QStringLiteral("load")).toInt(100))
      .arg(app);
}

QList<QJsonObject> itemsOf(const KubeResponse& response) {
  QList<QJsonObject> items;
  for (const auto& item : response.json().value(QStringLiteral("items")).toArray()) items << item.toObject();
  return items;
}

}  // namespace

FaultController::FaultController(KubeClient* client, QString nameSpace, QObject* parent)
    : QObject(parent), m_client(client), m_namespace(std::move(nameSpace)) {
  qRegisterMetaType<ActiveFault>();
  m_poll.setInterval(2'000);
  connect(&m_poll, &QTimer::timeout, this, &FaultController::refresh);
  m_poll.start();
  m_tick.setInterval(1'000);
  connect(&m_tick, &QTimer::timeout, this, &FaultController::tick);
  m_tick.start();
  refresh();
}

QString FaultController::kindOf(FaultSpec::Kind kind) {
  switch (kind) {
    case Kind::PodKill:
    case Kind::PodFailure: return QStringLiteral("PodChaos");
    case Kind::NetworkDelay:
    case Kind::NetworkLoss:
    case Kind::NetworkPartition: return QStringLiteral("NetworkChaos");
    case Kind::HttpAbort:
    case Kind::HttpDelay:
    case Kind::HttpReplaceCode: return QStringLiteral("HTTPChaos");
    case Kind::CpuStress: return QStringLiteral("StressChaos");
  }
  return {};
}

QString FaultController::collectionPath(const QString& kind, const QString& nameSpace) {
  return QStringLiteral("/apis/chaos-mesh.org/v1alpha1/namespaces/%1/%2").arg(nameSpace, kind.toLower());
}

QString FaultController::makeName(const FaultSpec& spec) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  QString suffix;
  for (int i = 0; i < 5; ++i) suffix += QLatin1Char(alphabet[QRandomGenerator::global()->bounded(36)]);
  const QString head = QStringLiteral("mambogo-") + action(spec.kind) + QLatin1Char('-');
  const QString service = spec.service.left(63 - head.size() - 1 - suffix.size());
  return head + service + QLatin1Char('-') + suffix;
}

QJsonObject FaultController::buildResource(const FaultSpec& spec, const QString& name, const QString& nameSpace) {
  validate(spec);
  const QJsonObject selector = selectorFor(spec.service, nameSpace);
  QJsonObject body;
  switch (spec.kind) {
    case Kind::PodKill:
    case Kind::PodFailure: body = podChaosSpec(spec, selector); break;
    case Kind::NetworkDelay:
    case Kind::NetworkLoss:
    case Kind::NetworkPartition: body = networkChaosSpec(spec, selector, nameSpace); break;
    case Kind::HttpAbort:
    case Kind::HttpDelay:
    case Kind::HttpReplaceCode: body = httpChaosSpec(spec, selector); break;
    case Kind::CpuStress: body = stressChaosSpec(spec, selector); break;
  }
  body[QStringLiteral("duration")] = QString::number(spec.durationS) + QLatin1Char('s');
  return {{QStringLiteral("apiVersion"), QStringLiteral("chaos-mesh.org/v1alpha1")},
          {QStringLiteral("kind"), kindOf(spec.kind)},
          {QStringLiteral("metadata"),
           QJsonObject{{QStringLiteral("name"), name},
                       {QStringLiteral("namespace"), nameSpace},
                       {QStringLiteral("labels"), QJsonObject{{kFaultLabel, QStringLiteral("true")}}}}},
          {QStringLiteral("spec"), body}};
}

QString FaultController::describe(const FaultSpec& spec) {
  const QJsonObject object = buildResource(spec, QStringLiteral("x"), QStringLiteral("default"));
  return summaryOf(kindOf(spec.kind), object.value(QStringLiteral("spec")).toObject());
}

ActiveFault FaultController::describe(const QString& kind, const QJsonObject& object, const QDateTime& now) {
  const QJsonObject metadata = object.value(QStringLiteral("metadata")).toObject();
  const QJsonObject spec = object.value(QStringLiteral("spec")).toObject();
  ActiveFault fault;
  fault.kind = kind;
  fault.name = metadata.value(QStringLiteral("name")).toString();
  fault.nameSpace = metadata.value(QStringLiteral("namespace")).toString();
  fault.summary = summaryOf(kind, spec);
  fault.created = QDateTime::fromString(metadata.value(QStringLiteral("creationTimestamp")).toString(), Qt::ISODate);
  fault.managed = metadata.value(QStringLiteral("labels")).toObject().value(kFaultLabel).toString() == QLatin1String("true");
  fault.durationS = parseDurationS(spec.value(QStringLiteral("duration")).toString());
  if (fault.durationS >= 0) {
    const qint64 elapsed = fault.created.isValid() ? fault.created.secsTo(now) : 0;
    fault.remainingS = int(std::clamp<qint64>(fault.durationS - elapsed, 0, fault.durationS));
  }
  return fault;
}

void FaultController::inject(const FaultSpec& spec) {
  QJsonObject object;
  try {
    object = buildResource(spec, makeName(spec), m_namespace);
  } catch (const std::invalid_argument& e) {
    Q_EMIT failed(QCoreApplication::translate("FaultController", "Fault not injected: %1").arg(QString::fromStdString(e.what())));
    return;
  }
  const QString kind = kindOf(spec.kind);
  m_client->create(collectionPath(kind, m_namespace), object, this, [this, kind](const KubeResponse& response) {
    if (!response.ok()) {
      Q_EMIT failed(QCoreApplication::translate("FaultController", "Fault not injected: %1").arg(response.error.toString()));
      return;
    }
    Q_EMIT injected(describe(kind, response.json(), QDateTime::currentDateTimeUtc()));
    refresh();
  });
}

void FaultController::remove(const ActiveFault& fault) {
  const QString path = collectionPath(fault.kind, fault.nameSpace.isEmpty() ? m_namespace : fault.nameSpace) +
                       QLatin1Char('/') + fault.name;
  m_client->remove(path, this, [this, name = fault.name](const KubeResponse& response) {
    if (!response.ok() && response.error.code != 404) {
      Q_EMIT failed(QCoreApplication::translate("FaultController", "Could not remove %1: %2").arg(name, response.error.toString()));
      return;
    }
    Q_EMIT removed(name);
    refresh();
  });
}

void FaultController::recoverAll() {
  // Shared by the callbacks of one recovery: lists outstanding, deletions outstanding, count.
  struct Recovery {
    int lists = 0, deletes = 0, removed = 0;
    QStringList errors;
  };
  auto recovery = std::make_shared<Recovery>();
  recovery->lists = int(kKinds.size());
  auto finishIfDone = [this, recovery] {
    if (recovery->lists > 0 || recovery->deletes > 0) return;
    if (!recovery->errors.isEmpty())
      Q_EMIT failed(QCoreApplication::translate("FaultController", "Recovery incomplete: %1").arg(recovery->errors.join(QStringLiteral("; "))));
    Q_EMIT recovered(recovery->removed);
    refresh();
  };
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("labelSelector"), kFaultLabel + QStringLiteral("=true"));
  for (const QString& kind : kKinds) {
    const QString collection = collectionPath(kind, m_namespace);
    m_client->get(collection, query, this, [this, recovery, collection, finishIfDone](const KubeResponse& response) {
      --recovery->lists;
      if (!response.ok() && response.error.code != 404) recovery->errors << response.error.toString();
      for (const QJsonObject& item : itemsOf(response)) {
        const QString name = item.value(QStringLiteral("metadata")).toObject().value(QStringLiteral("name")).toString();
        ++recovery->deletes;
        m_client->remove(collection + QLatin1Char('/') + name, this, [recovery, finishIfDone](const KubeResponse& r) {
          --recovery->deletes;
          if (r.ok() || r.error.code == 404) ++recovery->removed;
          else recovery->errors << r.error.toString();
          finishIfDone();
        });
      }
      finishIfDone();
    });
  }
}

void FaultController::refresh() {
  if (m_pendingLists > 0) return;  // a listing is under way; its answers are fresh enough
  m_pendingLists = int(kKinds.size());
  for (const QString& kind : kKinds) {
    m_client->get(collectionPath(kind, m_namespace), {}, this, [this, kind](const KubeResponse& response) {
      --m_pendingLists;
      // A real cluster without Chaos Mesh answers 404: no faults of that kind.
      if (response.ok() || response.error.code == 404) onListed(kind, itemsOf(response));
    });
  }
}

void FaultController::onListed(const QString& kind, const QList<QJsonObject>& items) {
  m_listed[kind] = items;
  tick();
}

void FaultController::tick() {
  const QDateTime now = QDateTime::currentDateTimeUtc();
  QList<ActiveFault> faults;
  for (const QString& kind : kKinds)
    for (const QJsonObject& object : m_listed.value(kind)) faults << describe(kind, object, now);
  std::sort(faults.begin(), faults.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
  const bool changed = faults.size() != m_faults.size() ||
                       !std::equal(faults.begin(), faults.end(), m_faults.begin(), [](const auto& a, const auto& b) {
                         return a.name == b.name && a.remainingS == b.remainingS && a.summary == b.summary;
                       });
  m_faults = faults;
  if (changed) Q_EMIT faultsChanged();
}

}  // namespace mambogo::core
