// Informer: a live, local copy of one Kubernetes collection, fed by a KubeWatch.
//
// Offers
//   - a cache uid -> object (QJsonObject value snapshots, implicitly shared: cheap to copy);
//   - added(object), modified(object, previous), deleted(object) for every change, and
//     synced() after each full list (the first one and every relist after 410 Expired); a relist
//     is diffed against the cache, so consumers see only the real changes (objects gone while
//     the watch was down arrive as deleted, changed ones as modified, by resourceVersion);
//   - the public slots replaceAll() and apply() are what the KubeWatch feeds: tests and offline
//     tools feed synthetic objects through them with no client at all.
//   - failed(message) relays the watch's errors (the informer keeps retrying by itself).
//
// Thread-safety: lives on its client's thread; all members from that thread only.
// Lifetime: the KubeClient (if any) must outlive the Informer.
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <optional>

#include "core/watch_stream.h"

namespace mambogo::core {

class Informer : public QObject {
  Q_OBJECT
 public:
  // `client` may be null: the informer is then fed only through its slots.
  Informer(KubeClient* client, const QString& listPath, QObject* parent = nullptr);

  void start();
  void stop();

  bool hasSynced() const { return m_synced; }
  int size() const { return static_cast<int>(m_cache.size()); }
  QList<QJsonObject> objects() const { return m_cache.values(); }
  std::optional<QJsonObject> object(const QString& uid) const;
  QString listPath() const { return m_listPath; }

 public Q_SLOTS:
  // A full list: diffs it against the cache, emits the changes, then synced().
  void replaceAll(const QList<QJsonObject>& items);
  // One watch event: type ADDED, MODIFIED or DELETED (others are ignored).
  void apply(const QString& type, const QJsonObject& object);

 Q_SIGNALS:
  void added(const QJsonObject& object);
  void modified(const QJsonObject& object, const QJsonObject& previous);
  void deleted(const QJsonObject& object);
  void synced();
  void failed(const QString& message);

 private:
  void upsert(const QJsonObject& object);

  const QString m_listPath;
  KubeWatch* m_watch = nullptr;  // child; null without a client
  QHash<QString, QJsonObject> m_cache;
  bool m_synced = false;
};

// uid, name, namespace, resourceVersion of an object ("" when absent).
QString uidOf(const QJsonObject& object);
QString nameOf(const QJsonObject& object);
QString namespaceOf(const QJsonObject& object);
QString resourceVersionOf(const QJsonObject& object);

}  // namespace mambogo::core
