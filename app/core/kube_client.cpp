#include "core/kube_client.h"

#include <QJsonDocument>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace mambogo::core {

QString KubeError::toString() const {
  if (!isError()) return {};
  if (code == 0) return QStringLiteral("%1: %2").arg(reason, message);
  return QStringLiteral("%1 (%2): %3").arg(reason.isEmpty() ? QStringLiteral("Error") : reason).arg(code).arg(message);
}

KubeError KubeError::fromBody(int httpStatus, const QByteArray& body) {
  KubeError e;
  e.code = httpStatus;
  const QJsonObject status = QJsonDocument::fromJson(body).object();
  if (status.value(QLatin1String("kind")).toString() == QLatin1String("Status")) {
    e.message = status.value(QLatin1String("message")).toString();
    e.reason = status.value(QLatin1String("reason")).toString();
    if (const int c = status.value(QLatin1String("code")).toInt(); c > 0) e.code = c;
  } else {
    // Not a Status (a proxy's or a load balancer's page): its first line is the best we have.
    e.message = QString::fromUtf8(body.left(300)).section(QLatin1Char('\n'), 0, 0).trimmed();
  }
  if (e.reason.isEmpty()) {
    switch (e.code) {
      case 400: e.reason = QStringLiteral("BadRequest"); break;
      case 401: e.reason = QStringLiteral("Unauthorized"); break;
      case 403: e.reason = QStringLiteral("Forbidden"); break;
      case 404: e.reason = QStringLiteral("NotFound"); break;
      case 409: e.reason = QStringLiteral("Conflict"); break;
      case 410: e.reason = QStringLiteral("Expired"); break;
      case 422: e.reason = QStringLiteral("Invalid"); break;
      case 429: e.reason = QStringLiteral("TooManyRequests"); break;
      case 503: e.reason = QStringLiteral("ServiceUnavailable"); break;
      default: e.reason = httpStatus >= 500 ? QStringLiteral("InternalError") : QStringLiteral("Unknown"); break;
    }
  }
  if (e.message.isEmpty()) e.message = QStringLiteral("HTTP %1").arg(e.code);
  return e;
}

QJsonObject KubeResponse::json() const { return QJsonDocument::fromJson(body).object(); }

KubeClient::KubeClient(ConnectionSettings settings, QObject* parent)
    : QObject(parent), m_settings(std::move(settings)) {
  if (m_settings.server.scheme() == QLatin1String("https")) m_ssl = m_settings.sslConfiguration();
}

KubeClient::~KubeClient() {
  // Abort without running callbacks: their contexts may already be half destroyed.
  const auto replies = m_network.findChildren<QNetworkReply*>();
  for (QNetworkReply* reply : replies) {
    reply->disconnect();
    reply->abort();
  }
}

QNetworkRequest KubeClient::makeRequest(const QString& path, const QUrlQuery& query, const QByteArray& accept) const {
  QUrl url = m_settings.server;
  url.setPath(url.path() + path);
  url.setQuery(query);
  QNetworkRequest request(url);
  if (url.scheme() == QLatin1String("https")) request.setSslConfiguration(m_ssl);
  request.setRawHeader("Accept", accept);
  request.setRawHeader("User-Agent", "mambogo-console");
  if (!m_settings.bearerToken.isEmpty())
    request.setRawHeader("Authorization", "Bearer " + m_settings.bearerToken.toUtf8());
  request.setTransferTimeout(m_timeoutMs);
  return request;
}

void KubeClient::track(QNetworkReply* reply, QObject* context, Callback done) {
  connect(reply, &QNetworkReply::finished, reply, &QObject::deleteLater);
  connect(reply, &QNetworkReply::finished, context ? context : this, [reply, done = std::move(done)] {
    KubeResponse r;
    r.httpStatus = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = reply->readAll();
    if (r.httpStatus >= 400) {
      r.error = KubeError::fromBody(r.httpStatus, r.body);
    } else if (r.httpStatus == 0 || reply->error() != QNetworkReply::NoError) {
      const bool timeout = reply->error() == QNetworkReply::OperationCanceledError ||
                           reply->error() == QNetworkReply::TimeoutError;
      r.error = {0, timeout ? QStringLiteral("Timeout") : QStringLiteral("NetworkError"), reply->errorString()};
    }
    done(r);
  });
}

void KubeClient::get(const QString& path, const QUrlQuery& query, QObject* context, Callback done) {
  track(m_network.get(makeRequest(path, query, "application/json")), context, std::move(done));
}

void KubeClient::getText(const QString& path, QObject* context, Callback done) {
  track(m_network.get(makeRequest(path, {}, "text/plain;version=0.0.4;q=0.9,*/*;q=0.1")), context, std::move(done));
}

void KubeClient::create(const QString& path, const QJsonObject& object, QObject* context, Callback done) {
  QNetworkRequest request = makeRequest(path, {}, "application/json");
  request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
  track(m_network.post(request, QJsonDocument(object).toJson(QJsonDocument::Compact)), context, std::move(done));
}

void KubeClient::mergePatch(const QString& path, const QJsonObject& patch, QObject* context, Callback done) {
  QNetworkRequest request = makeRequest(path, {}, "application/json");
  request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/merge-patch+json"));
  track(m_network.sendCustomRequest(request, "PATCH", QJsonDocument(patch).toJson(QJsonDocument::Compact)), context,
        std::move(done));
}

void KubeClient::remove(const QString& path, QObject* context, Callback done) {
  track(m_network.deleteResource(makeRequest(path, {}, "application/json")), context, std::move(done));
}

}  // namespace mambogo::core
