// KubeClient: the console's Kubernetes API client over QNetworkAccessManager. It speaks the
// plain JSON API (no Table format), so the same code drives mambogo-cluster and a real
// kube-apiserver.
//
// Offers
//   - get / create (POST) / mergePatch (PATCH, application/merge-patch+json) / remove (DELETE)
//     of any resource path ("/api/v1/namespaces/default/pods/x"), JSON in and out, and
//     getText for non-JSON resources (a pod's /metrics through the pod proxy).
//   - Every call is asynchronous: the callback runs later on the client's thread with a
//     KubeResponse, unless `context` was destroyed first (as with QObject::connect). A
//     Kubernetes Status body on failure becomes a KubeError (message, HTTP code, reason); a
//     network or TLS failure becomes one with code 0 and reason "NetworkError"/"Timeout".
//   - TLS with the kubeconfig's CA (or insecure-skip-tls-verify), a client certificate, and the
//     bearer token on every request.
//   - Watches are KubeWatch objects (watch_stream.h) created on a client.
//
// Requests time out after requestTimeoutMs (default 30 s) without a byte transferred.
//
// Thread-safety: a KubeClient and its callbacks live on the thread that created it; call it
// only from there. It never blocks. Lifetime: replies in flight when it is destroyed are
// aborted and their callbacks are not run.
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrlQuery>
#include <functional>

#include "core/kubeconfig.h"

class QNetworkReply;

namespace mambogo::core {

struct KubeError {
  int code = 0;      // HTTP status; 0 for transport failures
  QString reason;    // Status.reason ("NotFound", "Expired", ...), or "NetworkError", "Timeout"
  QString message;   // Status.message or the transport's error text

  bool isError() const { return code != 0 || !reason.isEmpty(); }
  // "NotFound (404): pods \"x\" not found"
  QString toString() const;

  // The error a Kubernetes Status object (or any error body) describes.
  static KubeError fromBody(int httpStatus, const QByteArray& body);
};

struct KubeResponse {
  int httpStatus = 0;
  QByteArray body;
  KubeError error;  // isError() when the request failed

  bool ok() const { return !error.isError(); }
  QJsonObject json() const;  // the body as an object; empty when it is not one
};

class KubeClient : public QObject {
  Q_OBJECT
 public:
  using Callback = std::function<void(const KubeResponse&)>;

  explicit KubeClient(ConnectionSettings settings, QObject* parent = nullptr);
  ~KubeClient() override;

  const ConnectionSettings& settings() const { return m_settings; }
  void setRequestTimeoutMs(int ms) { m_timeoutMs = ms; }

  void get(const QString& path, const QUrlQuery& query, QObject* context, Callback done);
  void getText(const QString& path, QObject* context, Callback done);
  void create(const QString& path, const QJsonObject& object, QObject* context, Callback done);
  void mergePatch(const QString& path, const QJsonObject& patch, QObject* context, Callback done);
  void remove(const QString& path, QObject* context, Callback done);

  // The request a call to `path` sends (URL, TLS, headers): used by KubeWatch for its streams.
  QNetworkRequest makeRequest(const QString& path, const QUrlQuery& query, const QByteArray& accept) const;

 private:
  void track(QNetworkReply* reply, QObject* context, Callback done);

  const ConnectionSettings m_settings;
  QSslConfiguration m_ssl;
  QNetworkAccessManager m_network;
  int m_timeoutMs = 30'000;
};

}  // namespace mambogo::core
