// The Kubernetes list + watch protocol, client side.
//
// Offers
//   - WatchLineSplitter: cuts a watch stream (one JSON event per line, arriving in arbitrary
//     chunks) into lines; a line longer than the limit is an error rather than unbounded memory.
//   - KubeWatch: for one collection path ("/api/v1/namespaces/default/pods"):
//       1. LIST, following `continue` pages (limit pageSize), then emits listed(items);
//       2. WATCH ?watch=1&resourceVersion=RV&allowWatchBookmarks=true&timeoutSeconds=N, reading
//          the chunked stream line by line, emitting watchEvent(type, object) for ADDED, MODIFIED and
//          DELETED and keeping RV from every object and BOOKMARK;
//       3. when the server ends the stream (timeoutSeconds), watches again from RV at once;
//          a stream that ends at once with nothing in it counts as an error;
//          on a transport or HTTP error, emits failed() and retries after an exponential
//          backoff (initialBackoffMs doubling to maxBackoffMs, +-20 % jitter; reset once a list
//          or a watch succeeds); on 410 Gone / Expired (HTTP or an ERROR event), lists again and
//          emits listed() with the fresh state.
//     Each KubeWatch has its own QNetworkAccessManager: a watch holds its connection for
//     minutes, and sharing a manager (6 HTTP/1.1 connections per host) with ordinary requests
//     would starve them once six watches are open.
//
// Thread-safety: a KubeWatch lives on its KubeClient's thread; signals are emitted there.
// Lifetime: the KubeClient must outlive the KubeWatch. Destroying a KubeWatch (or stop())
// aborts its stream without further signals.
#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QTimer>
#include <utility>

#include "core/kube_client.h"

class QNetworkReply;

namespace mambogo::core {

class WatchLineSplitter {
 public:
  explicit WatchLineSplitter(qsizetype maxLineBytes = 64 * 1024 * 1024) : m_maxLineBytes(maxLineBytes) {}

  // Appends `chunk` and adds every line it completes to `lines` (without "\n" or "\r\n";
  // blank lines are dropped). Returns false when the unfinished line exceeds the limit; the
  // splitter must then be reset().
  bool feed(const QByteArray& chunk, QList<QByteArray>& lines);
  void reset() { m_partial.clear(); }
  // The unfinished last line (a stream that ended without a final newline), emptied.
  QByteArray takeRest() { return std::exchange(m_partial, {}).trimmed(); }
  qsizetype pendingBytes() const { return m_partial.size(); }

 private:
  qsizetype m_maxLineBytes;
  QByteArray m_partial;
};

class KubeWatch : public QObject {
  Q_OBJECT
 public:
  struct Options {
    int pageSize = 500;
    int timeoutSeconds = 300;  // asked of the server per watch request
    int initialBackoffMs = 500;
    int maxBackoffMs = 30'000;
  };

  KubeWatch(KubeClient* client, QString listPath, Options options, QObject* parent = nullptr);
  KubeWatch(KubeClient* client, QString listPath, QObject* parent = nullptr)
      : KubeWatch(client, std::move(listPath), Options{}, parent) {}
  ~KubeWatch() override;

  void start();
  void stop();
  QString listPath() const { return m_path; }
  QString resourceVersion() const { return m_resourceVersion; }
  bool isStreaming() const { return m_reply != nullptr && m_streaming; }

 Q_SIGNALS:
  void listed(const QList<QJsonObject>& items);
  void watchEvent(const QString& type, const QJsonObject& object);
  void streamStarted();                                 // a watch answered 200
  void failed(const mambogo::core::KubeError& error, int retryInMs);

 private:
  void listPage(const QString& continueToken);
  void startWatch();
  void onStreamData();
  void onStreamFinished();
  bool handleLine(const QByteArray& line);
  void retryLater(const KubeError& error, bool relist);
  void relist();
  void abortStream();

  // Constant after construction.
  KubeClient* const m_client;
  const QString m_path;
  const Options m_options;

  QNetworkAccessManager m_network;
  QNetworkReply* m_reply = nullptr;  // the open watch stream, if any
  bool m_streaming = false;          // m_reply answered 200
  QElapsedTimer m_streamAge;         // since m_reply was sent
  int m_streamLines = 0;             // lines m_reply delivered
  bool m_running = false;
  quint64 m_generation = 0;          // bumps on stop() so stale list callbacks are ignored
  QString m_resourceVersion;
  QList<QJsonObject> m_pending;      // list pages gathered so far
  WatchLineSplitter m_splitter;
  QTimer m_retry;
  int m_backoffMs = 0;
};

}  // namespace mambogo::core

Q_DECLARE_METATYPE(mambogo::core::KubeError)
