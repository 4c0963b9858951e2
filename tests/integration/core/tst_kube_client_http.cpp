// KubeClient, KubeWatch and Informer over real sockets: a scripted HTTP/1.1 server on
// 127.0.0.1 answers lists, streams watch events in chunks (split mid-line), ends streams,
// drops connections and sends 410 Expired, as an API server does.
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include "core/informer.h"
#include "core/kube_client.h"
#include "core/metrics_collector.h"

using namespace mambogo::core;

namespace {

struct HttpRequest {
  QByteArray method, path, query;
  QHash<QByteArray, QByteArray> headers;  // lower-case names
  QByteArray body;
  QUrlQuery params() const { return QUrlQuery(QString::fromUtf8(query)); }
};

// One HTTP/1.1 server; `handler` answers each request on its socket (now or later).
class ScriptedServer : public QObject {
 public:
  std::function<void(const HttpRequest&, QTcpSocket*)> handler;
  QList<HttpRequest> requests;

  ScriptedServer() {
    QObject::connect(&m_server, &QTcpServer::newConnection, this, [this] {
      while (QTcpSocket* s = m_server.nextPendingConnection()) {
        QObject::connect(s, &QTcpSocket::readyRead, this, [this, s] { onData(s); });
        QObject::connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
      }
    });
    if (!m_server.listen(QHostAddress::LocalHost, 0)) qFatal("listen failed");
  }
  QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }

  static void respond(QTcpSocket* s, int status, const QByteArray& body, const QByteArray& type = "application/json") {
    s->write("HTTP/1.1 " + QByteArray::number(status) + " X\r\nContent-Type: " + type +
             "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
  }
  static void startChunked(QTcpSocket* s) {
    s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  }
  static void chunk(QTcpSocket* s, const QByteArray& data) {
    s->write(QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
  }
  static void endChunked(QTcpSocket* s) { s->write("0\r\n\r\n"); }

  int count(const QByteArray& method, bool watch) const {
    int n = 0;
    for (const auto& r : requests) n += r.method == method && r.params().hasQueryItem(QStringLiteral("watch")) == watch;
    return n;
  }

 private:
  void onData(QTcpSocket* s) {
    QByteArray& buf = m_buffers[s];
    buf += s->readAll();
    while (true) {
      const int end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      HttpRequest r;
      const QList<QByteArray> lines = buf.left(end).split('\n');
      const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
      r.method = first.value(0);
      const QByteArray target = first.value(1);
      const int question = target.indexOf('?');
      r.path = question < 0 ? target : target.left(question);
      r.query = question < 0 ? QByteArray() : target.mid(question + 1);
      for (int i = 1; i < lines.size(); ++i) {
        const int colon = lines[i].indexOf(':');
        if (colon > 0) r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
      }
      const int length = r.headers.value("content-length", "0").toInt();
      if (buf.size() < end + 4 + length) return;
      r.body = buf.mid(end + 4, length);
      buf.remove(0, end + 4 + length);
      requests.append(r);
      handler(r, s);
    }
  }

  QTcpServer m_server;
  QHash<QTcpSocket*, QByteArray> m_buffers;
};

QByteArray pod(const char* name, const char* rv, const char* phase = "Running") {
  return QStringLiteral(R"({"metadata":{"name":"%1","namespace":"default","uid":"uid-%1","resourceVersion":"%2"},"status":{"phase":"%3"}})")
      .arg(QLatin1String(name), QLatin1String(rv), QLatin1String(phase))
      .toUtf8();
}

QByteArray list(const QList<QByteArray>& items, const char* rv, const char* continueToken = "") {
  QByteArray out = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":")" + QByteArray(rv) + "\"";
  if (*continueToken) out += R"(,"continue":")" + QByteArray(continueToken) + "\"";
  out += R"(},"items":[)";
  for (int i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

QByteArray watchLine(const char* type, const QByteArray& object) {
  return R"({"type":")" + QByteArray(type) + R"(","object":)" + object + "}\n";
}

QByteArray runningPod(const char* name, const char* app) {
  return QStringLiteral(R"({"metadata":{"name":"%1","namespace":"default","uid":"uid-%1","resourceVersion":"3","labels":{"app":"%2"}},)"
                        R"("status":{"phase":"Running"}})")
      .arg(QLatin1String(name), QLatin1String(app))
      .toUtf8();
}

ConnectionSettings settingsFor(const QUrl& server) {
  ConnectionSettings s;
  s.contextName = QStringLiteral("test");
  s.server = server;
  s.bearerToken = QStringLiteral("t0ken");
  return s;
}

QStringList names(const Informer& informer) {
  QStringList out;
  for (const QJsonObject& o : informer.objects()) out.append(mambogo::core::nameOf(o));
  out.sort();
  return out;
}

}  // namespace

class TestKubeClientHttp : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void getSendsTokenAndParsesJson() {
    ScriptedServer server;
    server.handler = [](const HttpRequest&, QTcpSocket* s) { ScriptedServer::respond(s, 200, pod("a", "7")); };
    KubeClient client(settingsFor(server.url()));
    std::optional<KubeResponse> got;
    client.get(QStringLiteral("/api/v1/namespaces/default/pods/a"), {}, this, [&](const KubeResponse& r) { got = r; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10'000);
    QVERIFY(got->ok());
    QCOMPARE(mambogo::core::nameOf(got->json()), QStringLiteral("a"));
    QCOMPARE(server.requests.size(), 1);
    QCOMPARE(server.requests[0].path, QByteArray("/api/v1/namespaces/default/pods/a"));
    QCOMPARE(server.requests[0].headers.value("authorization"), QByteArray("Bearer t0ken"));
    QCOMPARE(server.requests[0].headers.value("accept"), QByteArray("application/json"));
  }

  void statusErrorsAndVerbs() {
    ScriptedServer server;
    server.handler = [](const HttpRequest& r, QTcpSocket* s) {
      if (r.method == "GET")
        ScriptedServer::respond(s, 404, "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\","
                                        "\"reason\":\"NotFound\",\"code\":404}");
      else
        ScriptedServer::respond(s, 200, r.body.isEmpty() ? QByteArray("{}") : r.body);
    };
    KubeClient client(settingsFor(server.url()));
    QList<KubeResponse> got;
    auto keep = [&](const KubeResponse& r) { got.append(r); };
    const QString path = QStringLiteral("/apis/apps/v1/namespaces/default/deployments/order-service");
    client.get(QStringLiteral("/api/v1/namespaces/default/pods/x"), {}, this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), 1, 10'000);
    client.create(QStringLiteral("/api/v1/namespaces/default/pods"), QJsonDocument::fromJson(pod("n", "1")).object(), this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), 2, 10'000);
    client.mergePatch(path, QJsonObject{{QStringLiteral("spec"), QJsonObject{{QStringLiteral("replicas"), 3}}}}, this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), 3, 10'000);
    client.remove(QStringLiteral("/api/v1/namespaces/default/pods/n"), this, keep);
    QTRY_COMPARE_WITH_TIMEOUT(got.size(), 4, 10'000);

    QVERIFY(!got[0].ok());
    QCOMPARE(got[0].error.toString(), QStringLiteral("NotFound (404): pods \"x\" not found"));
    QVERIFY(got[1].ok() && got[2].ok() && got[3].ok());
    QCOMPARE(server.requests[1].method, QByteArray("POST"));
    QCOMPARE(server.requests[1].headers.value("content-type"), QByteArray("application/json"));
    QCOMPARE(mambogo::core::nameOf(QJsonDocument::fromJson(server.requests[1].body).object()), QStringLiteral("n"));
    QCOMPARE(server.requests[2].method, QByteArray("PATCH"));
    QCOMPARE(server.requests[2].headers.value("content-type"), QByteArray("application/merge-patch+json"));
    QCOMPARE(server.requests[2].body, QByteArray(R"({"spec":{"replicas":3}})"));
    QCOMPARE(server.requests[3].method, QByteArray("DELETE"));
  }

  void refusedConnectionIsANetworkError() {
    quint16 port = 0;
    {
      QTcpServer probe;
      QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
      port = probe.serverPort();
    }  // closed: nothing listens there now
    KubeClient client(settingsFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
    std::optional<KubeResponse> got;
    client.get(QStringLiteral("/api"), {}, this, [&](const KubeResponse& r) { got = r; });
    QTRY_VERIFY_WITH_TIMEOUT(got.has_value(), 10'000);
    QCOMPARE(got->error.code, 0);
    QCOMPARE(got->error.reason, QStringLiteral("NetworkError"));
  }

  void callbackIsDroppedWhenContextDies() {
    ScriptedServer server;
    QList<QTcpSocket*> held;
    server.handler = [&](const HttpRequest&, QTcpSocket* s) { held.append(s); };  // answer later
    KubeClient client(settingsFor(server.url()));
    bool called = false;
    auto context = std::make_unique<QObject>();
    client.get(QStringLiteral("/api"), {}, context.get(), [&](const KubeResponse&) { called = true; });
    QTRY_COMPARE_WITH_TIMEOUT(held.size(), 1, 10'000);
    context.reset();
    ScriptedServer::respond(held[0], 200, "{}");
    QTest::qWait(300);
    QVERIFY(!called);
  }

  // List (two pages), then a chunked watch whose events arrive split mid-line; the stream ends
  // and the watch resumes from the last resourceVersion (a BOOKMARK's); an ERROR 410 makes the
  // informer list again and report only the differences.
  void informerListsWatchesResumesAndRelists() {
    ScriptedServer server;
    int listCalls = 0;
    QList<QTcpSocket*> watches;
    server.handler = [&](const HttpRequest& r, QTcpSocket* s) {
      const QUrlQuery q = r.params();
      if (q.hasQueryItem(QStringLiteral("watch"))) {
        ScriptedServer::startChunked(s);
        watches.append(s);
        return;
      }
      ++listCalls;
      if (listCalls == 1) ScriptedServer::respond(s, 200, list({pod("a", "3")}, "", "page2"));
      else if (listCalls == 2) ScriptedServer::respond(s, 200, list({pod("b", "4")}, "10"));
      else ScriptedServer::respond(s, 200, list({pod("c", "11"), pod("d", "40")}, "40"));  // after 410
    };
    KubeClient client(settingsFor(server.url()));
    Informer informer(&client, QStringLiteral("/api/v1/namespaces/default/pods"));
    QSignalSpy added(&informer, &Informer::added), modified(&informer, &Informer::modified),
        deleted(&informer, &Informer::deleted), synced(&informer, &Informer::synced);
    informer.start();

    QTRY_COMPARE_WITH_TIMEOUT(synced.size(), 1, 10'000);
    QCOMPARE(names(informer), (QStringList{QStringLiteral("a"), QStringLiteral("b")}));
    QCOMPARE(server.requests[1].params().queryItemValue(QStringLiteral("continue")), QStringLiteral("page2"));

    QTRY_COMPARE_WITH_TIMEOUT(watches.size(), 1, 10'000);
    const QUrlQuery watchQuery = server.requests.last().params();
    QCOMPARE(watchQuery.queryItemValue(QStringLiteral("resourceVersion")), QStringLiteral("10"));
    QCOMPARE(watchQuery.queryItemValue(QStringLiteral("allowWatchBookmarks")), QStringLiteral("true"));

    const QByteArray stream = watchLine("ADDED", pod("c", "11")) + watchLine("MODIFIED", pod("a", "12", "Failed")) +
                              watchLine("DELETED", pod("b", "13")) +
                              watchLine("BOOKMARK", R"({"kind":"Pod","metadata":{"resourceVersion":"15"}})");
    ScriptedServer::chunk(watches[0], stream.left(25));
    ScriptedServer::chunk(watches[0], stream.mid(25, 150));
    ScriptedServer::chunk(watches[0], stream.mid(175));
    QTRY_COMPARE_WITH_TIMEOUT(deleted.size(), 1, 10'000);
    QCOMPARE(names(informer), (QStringList{QStringLiteral("a"), QStringLiteral("c")}));
    QCOMPARE(modified.size(), 1);
    QCOMPARE(modified[0][0].value<QJsonObject>()[QStringLiteral("status")].toObject()[QStringLiteral("phase")].toString(),
             QStringLiteral("Failed"));

    ScriptedServer::endChunked(watches[0]);  // the server's timeoutSeconds is over
    QTRY_COMPARE_WITH_TIMEOUT(watches.size(), 2, 10'000);
    QCOMPARE(server.requests.last().params().queryItemValue(QStringLiteral("resourceVersion")), QStringLiteral("15"));
    QCOMPARE(listCalls, 2);

    ScriptedServer::chunk(watches[1], watchLine("ERROR", R"j({"kind":"Status","status":"Failure","message":"too old resource version: 15 (30)","reason":"Expired","code":410})j"));
    QTRY_COMPARE_WITH_TIMEOUT(synced.size(), 2, 10'000);
    QCOMPARE(listCalls, 3);
    QCOMPARE(names(informer), (QStringList{QStringLiteral("c"), QStringLiteral("d")}));
    QCOMPARE(added.size(), 4);     // a, b, c (watch), d (relist)
    QCOMPARE(deleted.size(), 2);   // b (watch), a (gone in the relist)
    QCOMPARE(modified.size(), 1);  // c unchanged in the relist: no signal
    QTRY_COMPARE_WITH_TIMEOUT(watches.size(), 3, 10'000);
    QCOMPARE(server.requests.last().params().queryItemValue(QStringLiteral("resourceVersion")), QStringLiteral("40"));
  }

  void watchRetriesWithBackoffAfterTheConnectionDrops() {
    ScriptedServer server;
    QList<QTcpSocket*> watches;
    server.handler = [&](const HttpRequest& r, QTcpSocket* s) {
      if (!r.params().hasQueryItem(QStringLiteral("watch"))) return ScriptedServer::respond(s, 200, list({pod("a", "5")}, "5"));
      ScriptedServer::startChunked(s);
      watches.append(s);
    };
    KubeClient client(settingsFor(server.url()));
    KubeWatch watch(&client, QStringLiteral("/api/v1/namespaces/default/pods"),
                    KubeWatch::Options{.pageSize = 500, .timeoutSeconds = 300, .initialBackoffMs = 200, .maxBackoffMs = 1000});
    QSignalSpy failed(&watch, &KubeWatch::failed), events(&watch, &KubeWatch::watchEvent);
    watch.start();
    QTRY_COMPARE_WITH_TIMEOUT(watches.size(), 1, 10'000);
    ScriptedServer::chunk(watches[0], watchLine("MODIFIED", pod("a", "6")));
    QTRY_COMPARE_WITH_TIMEOUT(events.size(), 1, 10'000);
    watches[0]->abort();  // the connection dies mid-stream
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 10'000);
    const int delay = failed[0][1].toInt();
    QVERIFY2(delay >= 160 && delay <= 240, qPrintable(QString::number(delay)));  // 200 ms +-20 %
    QTRY_COMPARE_WITH_TIMEOUT(watches.size(), 2, 10'000);
    QCOMPARE(server.requests.last().params().queryItemValue(QStringLiteral("resourceVersion")), QStringLiteral("6"));
    watch.stop();
  }

  void watchRelistsWhenTheServerAnswers410() {
    ScriptedServer server;
    int lists = 0, watchCalls = 0;
    server.handler = [&](const HttpRequest& r, QTcpSocket* s) {
      if (!r.params().hasQueryItem(QStringLiteral("watch"))) {
        ++lists;
        return ScriptedServer::respond(s, 200, list({pod("a", "5")}, lists == 1 ? "5" : "50"));
      }
      if (++watchCalls == 1)
        return ScriptedServer::respond(s, 410, R"({"kind":"Status","status":"Failure","message":"too old","reason":"Expired","code":410})");
      ScriptedServer::startChunked(s);
    };
    KubeClient client(settingsFor(server.url()));
    KubeWatch watch(&client, QStringLiteral("/api/v1/pods"));
    QSignalSpy listed(&watch, &KubeWatch::listed);
    watch.start();
    QTRY_COMPARE_WITH_TIMEOUT(watchCalls, 2, 10'000);
    QCOMPARE(lists, 2);
    QCOMPARE(listed.size(), 2);
    QCOMPARE(watch.resourceVersion(), QStringLiteral("50"));
  }

  // The collector scrapes each Running pod's /metrics through the API server's pod proxy and
  // PodMetrics from metrics.k8s.io, every interval; a fake clock makes each round 1 s apart.
  void collectorScrapesThroughThePodProxy() {
    ScriptedServer server;
    QHash<QByteArray, int> scrapes;
    server.handler = [&](const HttpRequest& r, QTcpSocket* s) {
      if (r.path == "/api/v1/namespaces/default/pods") {
        if (r.params().hasQueryItem(QStringLiteral("watch"))) return ScriptedServer::startChunked(s);
        return ScriptedServer::respond(s, 200, list({runningPod("order-a", "order-service"), runningPod("order-b", "order-service"),
                                                     runningPod("lonely", "")}, "5"));
      }
      if (r.path.endsWith(":8080/proxy/metrics")) {
        const int n = scrapes[r.path]++;  // each pod serves 10 more requests per round
        const QByteArray count = QByteArray::number(10 * n);
        return ScriptedServer::respond(s, 200,
                                       "# TYPE http_server_requests_seconds histogram\n"
                                       "http_server_requests_seconds_count{status=\"200\"} " + count + "\n"
                                       "http_server_requests_seconds_bucket{status=\"200\",le=\"0.1\"} " + count + "\n"
                                       "http_server_requests_seconds_bucket{status=\"200\",le=\"+Inf\"} " + count + "\n",
                                       "text/plain; version=0.0.4");
      }
      if (r.path == "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
        return ScriptedServer::respond(s, 200, R"({"items":[{"metadata":{"name":"order-a"},"containers":[{"usage":{"cpu":"150m","memory":"10Mi"}}]}]})");
      ScriptedServer::respond(s, 404, R"({"kind":"Status","reason":"NotFound","code":404,"message":"no route"})");
    };
    KubeClient client(settingsFor(server.url()));
    Informer pods(&client, QStringLiteral("/api/v1/namespaces/default/pods"));
    pods.start();
    QTRY_VERIFY_WITH_TIMEOUT(pods.hasSynced(), 10'000);

    TimeSeriesStore store;
    qint64 fakeNow = 1'700'000'000'000;
    MetricsCollector::Options options;
    options.intervalMs = 100;
    options.clock = [&] { return fakeNow += 1000; };
    MetricsCollector collector(&client, &pods, &store, options);
    QSignalSpy updated(&collector, &MetricsCollector::updated);
    collector.start();
    QTRY_VERIFY_WITH_TIMEOUT(updated.size() >= 3, 10'000);
    collector.stop();

    QCOMPARE(collector.services(), QStringList{QStringLiteral("order-service")});
    QCOMPARE(collector.service(QStringLiteral("order-service")).rps, 20.0);  // 2 pods x 10 per second
    QCOMPARE(collector.pod(QStringLiteral("order-a")).cpuCores, 0.15);
    QCOMPARE(collector.service(QStringLiteral("order-service")).p99, 0.1 * 0.99);
    QVERIFY(!scrapes.contains("/api/v1/namespaces/default/pods/lonely:8080/proxy/metrics"));  // no app label
    QVERIFY(scrapes.value("/api/v1/namespaces/default/pods/order-b:8080/proxy/metrics") >= 3);
    for (const HttpRequest& r : server.requests)
      if (r.path.endsWith("/proxy/metrics")) QVERIFY(r.headers.value("accept").startsWith("text/plain"));
    QVERIFY(store.query(MetricsCollector::seriesName(QStringLiteral("service"), QStringLiteral("order-service"), QStringLiteral("rps")),
                        0, fakeNow).size() >= 2);
  }
};

QTEST_GUILESS_MAIN(TestKubeClientHttp)
#include "tst_kube_client_http.moc"
