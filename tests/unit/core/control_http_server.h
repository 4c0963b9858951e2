// A small HTTP/1.1 server on 127.0.0.1 (QTcpServer, port chosen by the OS) for the console
// control tests: keep-alive, Content-Length bodies, one handler answering every request and
// a record of what was asked. It stands in for the gateway (load controller tests) and for an
// API server's chaos-mesh.org collections (fault controller tests).
// Thread-safety: lives on the test's thread; its event loop must run (QSignalSpy::wait,
// QTRY_*), the clients may be on any thread.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>
#include <functional>

namespace mambogo::test {

struct HttpRequest {
  QByteArray method;
  QByteArray target;  // path and query as sent
  QHash<QByteArray, QByteArray> headers;  // names lower-cased
  QByteArray body;

  QString path() const { return QUrl(QString::fromLatin1(target)).path(); }
  QString query() const { return QUrl(QString::fromLatin1(target)).query(QUrl::FullyDecoded); }
};

struct HttpReply {
  int status = 200;  // 0: send nothing and keep the connection (a watch that stays quiet)
  QByteArray body;
  QByteArray contentType = "application/json";
};

class ControlHttpServer : public QTcpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequest&)>;

  explicit ControlHttpServer(Handler handler) : m_handler(std::move(handler)) {
    connect(this, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* socket = nextPendingConnection()) {
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { serve(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
          m_buffers.remove(socket);
          socket->deleteLater();
        });
      }
    });
    listen(QHostAddress::LocalHost, 0);
  }

  QString baseUrl() const { return QStringLiteral("http://127.0.0.1:%1").arg(serverPort()); }
  const QList<HttpRequest>& requests() const { return m_requests; }

 private:
  void serve(QTcpSocket* socket) {
    QByteArray& buffer = m_buffers[socket];
    buffer += socket->readAll();
    for (;;) {
      const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      HttpRequest request;
      const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
      const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
      request.method = first.value(0);
      request.target = first.value(1);
      for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0) request.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
      }
      const qsizetype length = request.headers.value("content-length", "0").toLongLong();
      if (buffer.size() < headEnd + 4 + length) return;
      request.body = buffer.mid(headEnd + 4, length);
      buffer.remove(0, headEnd + 4 + length);
      m_requests.push_back(request);
      const HttpReply reply = m_handler(request);
      if (reply.status == 0) continue;
      QByteArray out = "HTTP/1.1 " + QByteArray::number(reply.status) + " X\r\nContent-Type: " + reply.contentType +
                       "\r\nContent-Length: " + QByteArray::number(reply.body.size()) + "\r\n\r\n" + reply.body;
      socket->write(out);
    }
  }

  Handler m_handler;
  QList<HttpRequest> m_requests;
  QHash<QTcpSocket*, QByteArray> m_buffers;
};

}  // namespace mambogo::test
