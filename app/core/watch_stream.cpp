#include "core/watch_stream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QUrlQuery>

namespace mambogo::core {

bool WatchLineSplitter::feed(const QByteArray& chunk, QList<QByteArray>& lines) {
  qsizetype start = 0;
  while (true) {
    const qsizetype newline = chunk.indexOf('\n', start);
    if (newline < 0) break;
    m_partial.append(chunk.constData() + start, newline - start);
    if (m_partial.endsWith('\r')) m_partial.chop(1);
    if (!m_partial.trimmed().isEmpty()) lines.append(m_partial);
    m_partial.clear();
    start = newline + 1;
  }
  m_partial.append(chunk.constData() + start, chunk.size() - start);
  return m_partial.size() <= m_maxLineBytes;
}

KubeWatch::KubeWatch(KubeClient* client, QString listPath, Options options, QObject* parent)
    : QObject(parent), m_client(client), m_path(std::move(listPath)), m_options(options) {
  qRegisterMetaType<mambogo::core::KubeError>();
  m_retry.setSingleShot(true);
}

KubeWatch::~KubeWatch() { abortStream(); }

void KubeWatch::start() {
  if (m_running) return;
  m_running = true;
  m_backoffMs = 0;
  relist();
}

void KubeWatch::stop() {
  m_running = false;
  ++m_generation;
  m_retry.stop();
  m_retry.disconnect();
  abortStream();
  m_pending.clear();
}

void KubeWatch::abortStream() {
  if (!m_reply) return;
  QNetworkReply* reply = m_reply;
  m_reply = nullptr;
  m_streaming = false;
  reply->disconnect(this);
  reply->abort();
  reply->deleteLater();
  m_splitter.reset();
}

void KubeWatch::relist() {
  abortStream();
  m_resourceVersion.clear();
  m_pending.clear();
  listPage(QString());
}

void KubeWatch::listPage(const QString& continueToken) {
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("limit"), QString::number(m_options.pageSize));
  if (!continueToken.isEmpty()) query.addQueryItem(QStringLiteral("continue"), continueToken);
  const quint64 generation = m_generation;
  m_client->get(m_path, query, this, [this, generation](const KubeResponse& r) {
    if (generation != m_generation || !m_running) return;
    if (!r.ok()) return retryLater(r.error, true);
    const QJsonObject list = r.json();
    for (const QJsonValue& item : list.value(QLatin1String("items")).toArray()) m_pending.append(item.toObject());
    const QJsonObject meta = list.value(QLatin1String("metadata")).toObject();
    const QString next = meta.value(QLatin1String("continue")).toString();
    if (!next.isEmpty()) return listPage(next);
    m_resourceVersion = meta.value(QLatin1String("resourceVersion")).toString();
    m_backoffMs = 0;
    const QList<QJsonObject> items = std::exchange(m_pending, {});
    Q_EMIT listed(items);
    if (m_running && generation == m_generation) startWatch();
  });
}

void KubeWatch::startWatch() {
  QUrlQuery query;
  query.addQueryItem(QStringLiteral("watch"), QStringLiteral("1"));
  query.addQueryItem(QStringLiteral("resourceVersion"), m_resourceVersion);
  query.addQueryItem(QStringLiteral("allowWatchBookmarks"), QStringLiteral("true"));
  query.addQueryItem(QStringLiteral("timeoutSeconds"), QString::number(m_options.timeoutSeconds));
  QNetworkRequest request = m_client->makeRequest(m_path, query, "application/json");
  // The server closes the stream after timeoutSeconds; silence well beyond that is a dead link.
  request.setTransferTimeout((m_options.timeoutSeconds + 30) * 1000);
  m_splitter.reset();
  m_streaming = false;
  m_streamLines = 0;
  m_streamAge.start();
  m_reply = m_network.get(request);
  connect(m_reply, &QNetworkReply::readyRead, this, &KubeWatch::onStreamData);
  connect(m_reply, &QNetworkReply::finished, this, &KubeWatch::onStreamFinished);
}

void KubeWatch::onStreamData() {
  const int status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (status != 200) return;  // an error body: read whole in onStreamFinished
  if (!m_streaming) {
    m_streaming = true;
    Q_EMIT streamStarted();
  }
  QList<QByteArray> lines;
  if (!m_splitter.feed(m_reply->readAll(), lines)) {
    abortStream();
    return retryLater({0, QStringLiteral("ProtocolError"), QStringLiteral("watch event line too long")}, false);
  }
  for (const QByteArray& line : lines) {
    if (!handleLine(line)) return;  // the stream was replaced
  }
}

// Returns false when the line ended this stream (ERROR event, bad JSON).
bool KubeWatch::handleLine(const QByteArray& line) {
  QJsonParseError parseError;
  const QJsonObject message = QJsonDocument::fromJson(line, &parseError).object();
  const QString type = message.value(QLatin1String("type")).toString();
  const QJsonObject object = message.value(QLatin1String("object")).toObject();
  if (parseError.error != QJsonParseError::NoError || type.isEmpty()) {
    abortStream();
    retryLater({0, QStringLiteral("ProtocolError"),
                QStringLiteral("bad watch event: %1").arg(QString::fromUtf8(line.left(120)))},
               false);
    return false;
  }
  if (type == QLatin1String("ERROR")) {
    const KubeError error = KubeError::fromBody(0, QJsonDocument(object).toJson());
    abortStream();
    retryLater(error, error.code == 410 || error.reason == QLatin1String("Expired") ||
                          error.reason == QLatin1String("Gone"));
    return false;
  }
  const QString rv = object.value(QLatin1String("metadata")).toObject().value(QLatin1String("resourceVersion")).toString();
  if (!rv.isEmpty()) m_resourceVersion = rv;
  m_backoffMs = 0;
  ++m_streamLines;
  if (type != QLatin1String("BOOKMARK")) Q_EMIT watchEvent(type, object);
  return true;
}

void KubeWatch::onStreamFinished() {
  QNetworkReply* reply = m_reply;
  m_reply = nullptr;
  m_streaming = false;
  reply->deleteLater();
  const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (status == 200 && reply->error() == QNetworkReply::NoError) {
    QList<QByteArray> lines;
    m_splitter.feed(reply->readAll(), lines);
    // A line the server did not end with a newline is still a whole event.
    if (QByteArray rest = m_splitter.takeRest(); !rest.isEmpty()) lines.append(rest);
    for (const QByteArray& line : lines)
      if (!handleLine(line)) return;
    if (m_streamLines == 0 && m_streamAge.elapsed() < 1000)
      return retryLater({0, QStringLiteral("ProtocolError"), QStringLiteral("the watch stream ended at once")}, false);
    startWatch();  // the server's timeoutSeconds ended the stream: carry on from RV
    return;
  }
  if (status >= 400) {
    const KubeError error = KubeError::fromBody(status, reply->readAll());
    return retryLater(error, status == 410);
  }
  retryLater({0, QStringLiteral("NetworkError"), reply->errorString()}, m_resourceVersion.isEmpty());
}

void KubeWatch::retryLater(const KubeError& error, bool relistAfter) {
  if (!m_running) return;
  if (relistAfter && (error.code == 410 || error.reason == QLatin1String("Expired"))) {
    // The watch's resourceVersion is too old: the state must be read again, at once.
    Q_EMIT failed(error, 0);
    relist();
    return;
  }
  m_backoffMs = m_backoffMs == 0 ? m_options.initialBackoffMs : std::min(m_backoffMs * 2, m_options.maxBackoffMs);
  const int jitter = m_backoffMs / 5;
  const int delay = m_backoffMs - jitter + static_cast<int>(QRandomGenerator::global()->bounded(2 * jitter + 1));
  Q_EMIT failed(error, delay);
  m_retry.disconnect();
  connect(&m_retry, &QTimer::timeout, this, [this, relistAfter] {
    if (!m_running) return;
    if (relistAfter || m_resourceVersion.isEmpty()) relist();
    else startWatch();
  });
  m_retry.start(delay);
}

}  // namespace mambogo::core
