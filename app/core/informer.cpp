#include "core/informer.h"

#include <QSet>

namespace mambogo::core {

namespace {
QJsonObject metadata(const QJsonObject& o) { return o.value(QLatin1String("metadata")).toObject(); }
}  // namespace

QString uidOf(const QJsonObject& o) {
  const QJsonObject m = metadata(o);
  const QString uid = m.value(QLatin1String("uid")).toString();
  // Objects without a uid (some fakes, some proxies) are keyed by namespace/name.
  return uid.isEmpty() ? m.value(QLatin1String("namespace")).toString() + QLatin1Char('/') + m.value(QLatin1String("name")).toString()
                       : uid;
}
QString nameOf(const QJsonObject& o) { return metadata(o).value(QLatin1String("name")).toString(); }
QString namespaceOf(const QJsonObject& o) { return metadata(o).value(QLatin1String("namespace")).toString(); }
QString resourceVersionOf(const QJsonObject& o) { return metadata(o).value(QLatin1String("resourceVersion")).toString(); }

Informer::Informer(KubeClient* client, const QString& listPath, QObject* parent)
    : QObject(parent), m_listPath(listPath) {
  if (!client) return;
  m_watch = new KubeWatch(client, listPath, this);
  connect(m_watch, &KubeWatch::listed, this, &Informer::replaceAll);
  connect(m_watch, &KubeWatch::watchEvent, this, &Informer::apply);
  connect(m_watch, &KubeWatch::failed, this, [this](const KubeError& e, int retryInMs) {
    Q_EMIT failed(QStringLiteral("%1: %2 (retrying in %3 ms)").arg(m_listPath, e.toString()).arg(retryInMs));
  });
}

void Informer::start() {
  if (m_watch) m_watch->start();
}

void Informer::stop() {
  if (m_watch) m_watch->stop();
}

std::optional<QJsonObject> Informer::object(const QString& uid) const {
  const auto it = m_cache.constFind(uid);
  if (it == m_cache.cend()) return std::nullopt;
  return *it;
}

void Informer::replaceAll(const QList<QJsonObject>& items) {
  QSet<QString> present;
  for (const QJsonObject& item : items) {
    present.insert(uidOf(item));
    upsert(item);
  }
  const QList<QString> uids = m_cache.keys();
  for (const QString& uid : uids) {
    if (present.contains(uid)) continue;
    const QJsonObject gone = m_cache.take(uid);
    Q_EMIT deleted(gone);
  }
  m_synced = true;
  Q_EMIT synced();
}

void Informer::apply(const QString& type, const QJsonObject& object) {
  if (type == QLatin1String("ADDED") || type == QLatin1String("MODIFIED")) {
    upsert(object);
  } else if (type == QLatin1String("DELETED")) {
    const auto it = m_cache.find(uidOf(object));
    if (it == m_cache.end()) return;
    m_cache.erase(it);
    Q_EMIT deleted(object);
  }
}

void Informer::upsert(const QJsonObject& object) {
  const QString uid = uidOf(object);
  const auto it = m_cache.find(uid);
  if (it == m_cache.end()) {
    m_cache.insert(uid, object);
    Q_EMIT added(object);
    return;
  }
  const QString rv = resourceVersionOf(object);
  if (!rv.isEmpty() && rv == resourceVersionOf(*it)) return;  // relist of an unchanged object
  const QJsonObject previous = std::exchange(*it, object);
  Q_EMIT modified(object, previous);
}

}  // namespace mambogo::core
