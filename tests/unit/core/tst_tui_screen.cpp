// The terminal UI's screen as text: a snapshot (hand-built, or taken from the real core models
// fed synthetic objects and scrapes) drawn at several terminal sizes — what an SRE would read
// on the screen, that nothing spills past the edge, and that the cursor stays visible.
#include <QJsonDocument>
#include <QtTest>
#include <cmath>
#include <limits>

#include "core/cluster_model.h"
#include "core/event_model.h"
#include "core/hpa_model.h"
#include "core/metrics_collector.h"
#include "core/time_series.h"
#include "tui/screen.h"

using namespace mambogo::tui;
using mambogo::core::ClusterModel;
using mambogo::core::EventModel;
using mambogo::core::HpaModel;
using mambogo::core::MetricsCollector;
using mambogo::core::TimeSeriesStore;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QJsonObject json(const QString& text) {
  QJsonParseError error;
  const QJsonObject o = QJsonDocument::fromJson(text.toUtf8(), &error).object();
  if (error.error != QJsonParseError::NoError) qFatal("bad test JSON: %s", qPrintable(error.errorString()));
  return o;
}

ClusterRow workload(const QString& name, const QString& ready, const QString& rps, const QString& p99) {
  ClusterRow row;
  row.kind = ClusterRow::Kind::Workload;
  row.workloadKind = QStringLiteral("Deployment");
  row.workloadName = row.name = name;
  row.status = QStringLiteral("Available");
  row.ready = ready;
  row.restarts = QStringLiteral("0");
  row.age = QStringLiteral("5m");
  row.cpu = QStringLiteral("120m");
  row.memory = QStringLiteral("48Mi");
  row.rps = rps;
  row.p99 = p99;
  row.app = name;
  row.uid = QStringLiteral("d-") + name;
  return row;
}

ClusterRow podRow(const QString& workloadName, const QString& name, const QString& status, bool last) {
  ClusterRow row = workload(workloadName, QStringLiteral("1/1"), QStringLiteral("10.0"), QStringLiteral("12.0 ms"));
  row.kind = ClusterRow::Kind::Pod;
  row.name = name;
  row.status = status;
  row.uid = QStringLiteral("p-") + name;
  row.lastChild = last;
  return row;
}

ScreenSnapshot sampleSnapshot() {
  ScreenSnapshot s;
  s.header.context = QStringLiteral("mambogo-local");
  s.header.server = QStringLiteral("https://127.0.0.1:6443");
  s.header.connection = HeaderState::Connection::Connected;
  s.header.cluster = QStringLiteral("ready (embedded)");
  s.header.load = QStringLiteral("idle");
  s.rows << workload(QStringLiteral("gateway"), QStringLiteral("1/1"), QStringLiteral("20.0"), QStringLiteral("45.5 ms"))
         << podRow(QStringLiteral("gateway"), QStringLiteral("gateway-7d9f4-x2k8q"), QStringLiteral("Running"), true)
         << workload(QStringLiteral("payment-service"), QStringLiteral("1/2"), QStringLiteral("4.0"), QStringLiteral("120 ms"))
         << podRow(QStringLiteral("payment-service"), QStringLiteral("payment-service-5c6b-abcde"), QStringLiteral("Running"), false)
         << podRow(QStringLiteral("payment-service"), QStringLiteral("payment-service-5c6b-fghij"), QStringLiteral("CrashLoopBackOff"), true);
  s.hpas << HpaLine{QStringLiteral("payment-service"), QStringLiteral("Deployment/payment-service"), QStringLiteral("cpu: 135%/70%"), 2, 3, 1, 5};
  ServiceLine gateway;
  gateway.app = QStringLiteral("gateway");
  gateway.rps = 20;
  gateway.errorRate = 0;
  gateway.p50 = 0.004;
  gateway.p99 = 0.0455;
  gateway.rpsHistory = {0, 5, 10, 20};
  gateway.p99History = {0.01, kNaN, 0.02, 0.0455};
  ServiceLine payment;
  payment.app = QStringLiteral("payment-service");
  payment.rps = 4;
  payment.errorRate = 0.25;
  payment.p50 = 0.05;
  payment.p99 = 0.12;
  payment.breakers.insert(QStringLiteral("provider"), QStringLiteral("open"));
  s.services << gateway << payment;
  s.events << EventLine{QDateTime::currentDateTimeUtc(), QStringLiteral("Warning"), QStringLiteral("Pod/payment-service-5c6b-fghij"),
                        QStringLiteral("BackOff"), QStringLiteral("Back-off restarting failed container"), 3};
  s.faults << FaultLine{QStringLiteral("pod-failure on payment-service"), 23};
  return s;
}

Canvas draw(const ScreenSnapshot& s, int width, int height, const KeyHandler& keys = {}, int* scroll = nullptr) {
  ScreenLayout layout;
  if (scroll) layout.tableScroll = *scroll;
  Canvas canvas = renderScreen(s, keys, StatusMessage{QStringLiteral("scaled gateway to 2"), false}, width, height, layout);
  if (scroll) *scroll = layout.tableScroll;
  return canvas;
}

int lineContaining(const Canvas& canvas, const QString& needle) {
  for (int row = 0; row < canvas.height(); ++row)
    if (canvas.lineText(row).contains(needle)) return row;
  return -1;
}

QString dump(const Canvas& canvas) { return canvas.lines().join(QLatin1Char('\n')); }

}  // namespace

class TestTuiScreen : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void fullScreenShowsEverySection() {
    const Canvas c = draw(sampleSnapshot(), 160, 48);
    const QString header = c.lineText(0);
    QVERIFY2(header.contains(QStringLiteral("mambogo-local")) && header.contains(QStringLiteral("● connected")) &&
                 header.contains(QStringLiteral("ready (embedded)")) && header.contains(QStringLiteral("load: idle")),
             qPrintable(header));
    const QString columns = c.lineText(1);
    for (const char* title : {"NAME", "STATUS", "READY", "RESTARTS", "AGE", "CPU", "MEMORY", "RPS", "P99"})
      QVERIFY2(columns.contains(QLatin1String(title)), qPrintable(columns));
    QVERIFY2(c.lineText(2).contains(QStringLiteral("gateway deploy")), qPrintable(dump(c)));
    QVERIFY(c.lineText(3).contains(QStringLiteral(" └─ gateway-7d9f4-x2k8q")));
    QVERIFY(c.lineText(5).contains(QStringLiteral(" ├─ payment-service-5c6b-abcde")));
    QVERIFY(c.lineText(6).contains(QStringLiteral("CrashLoopBackOff")));
    QCOMPARE(c.styleAt(6, c.lineText(6).indexOf(QStringLiteral("CrashLoopBackOff"))), Style::Bad);

    const int hpa = lineContaining(c, QStringLiteral("replicas 2 → 3 (min 1, max 5)"));
    QVERIFY2(hpa > 0 && c.lineText(hpa).contains(QStringLiteral("cpu: 135%/70%")), qPrintable(dump(c)));
    const int gateway = lineContaining(c, QStringLiteral("20.0 rps"));
    QVERIFY2(gateway > hpa, qPrintable(dump(c)));
    const QString gatewayLine = c.lineText(gateway);
    QVERIFY2(gatewayLine.contains(QStringLiteral("▁▂▄█")) && gatewayLine.contains(QStringLiteral("p99   45.5 ms")) &&
                 gatewayLine.contains(QStringLiteral("p50   4.00 ms")),
             qPrintable(gatewayLine));
    QVERIFY2(gatewayLine.contains(QStringLiteral("▂ ▄█")), qPrintable(gatewayLine));  // the p99 gap stays a gap
    const int payment = lineContaining(c, QStringLiteral("provider:● open"));
    QVERIFY2(payment > gateway && c.lineText(payment).contains(QStringLiteral("err  25.0%")), qPrintable(dump(c)));
    QCOMPARE(c.styleAt(payment, c.lineText(payment).indexOf(QStringLiteral("● open"))), Style::Bad);
    QVERIFY(lineContaining(c, QStringLiteral("⚡ pod-failure on payment-service  23 s left")) > payment);
    const int event = lineContaining(c, QStringLiteral("Warning Pod/payment-service-5c6b-fghij"));
    QVERIFY2(event > payment && c.lineText(event).contains(QStringLiteral("Back-off restarting failed container (×3)")),
             qPrintable(dump(c)));
    const QString status = c.lineText(47);
    QVERIFY2(status.contains(QStringLiteral("L launch")) && status.contains(QStringLiteral("q quit")) &&
                 status.endsWith(QStringLiteral("scaled gateway to 2")),
             qPrintable(status));
  }

  void nothingSpillsPastTheEdgeAtAnySize_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("height");
    for (const auto& [w, h] : std::initializer_list<std::pair<int, int>>{{200, 60}, {160, 48}, {120, 40}, {80, 24}, {60, 20}, {40, 10}})
      QTest::addRow("%dx%d", w, h) << w << h;
  }

  void nothingSpillsPastTheEdgeAtAnySize() {
    QFETCH(int, width);
    QFETCH(int, height);
    const Canvas c = draw(sampleSnapshot(), width, height);
    QCOMPARE(c.height(), height);
    for (int row = 0; row < height; ++row) QVERIFY(textWidth(c.lineText(row)) <= width);
    QVERIFY2(c.lineText(0).startsWith(QStringLiteral(" mambogo ")), qPrintable(dump(c)));
    QVERIFY2(c.lineText(1).contains(QStringLiteral("NAME")) && c.lineText(1).contains(QStringLiteral("STATUS")), qPrintable(dump(c)));
    QVERIFY2(lineContaining(c, QStringLiteral("gateway")) == 2, qPrintable(dump(c)));
    QVERIFY2(c.lineText(height - 1).contains(QStringLiteral("L launch")), qPrintable(dump(c)));
  }

  void narrowTerminalsDropMinorColumnsAndCutNames() {
    ScreenSnapshot s = sampleSnapshot();
    s.rows[1].name = QStringLiteral("gateway-long-replicaset-7d9f4c8b6d-x2k8q");
    const Canvas wide = draw(s, 160, 48);
    const Canvas narrow = draw(s, 60, 20);
    QVERIFY(wide.lineText(3).contains(s.rows[1].name));
    QVERIFY2(narrow.lineText(3).contains(QStringLiteral("…")), qPrintable(dump(narrow)));
    QVERIFY(!narrow.lineText(1).contains(QStringLiteral("RESTARTS")));
    QVERIFY(narrow.lineText(1).contains(QStringLiteral("RPS")));  // the figures that move stay
  }

  void tooSmallSaysSo() {
    const Canvas c = draw(sampleSnapshot(), 30, 6);
    QVERIFY2(c.lineText(0).startsWith(QStringLiteral("mambogo: terminal too small")), qPrintable(c.lineText(0)));
  }

  void tableScrollsToKeepTheCursorVisible() {
    ScreenSnapshot s = sampleSnapshot();
    s.hpas.clear();
    s.events.clear();
    for (int i = 0; i < 60; ++i)
      s.rows << podRow(QStringLiteral("gateway"), QStringLiteral("gateway-pod-%1").arg(i, 2, 10, QLatin1Char('0')),
                       QStringLiteral("Running"), i == 59);
    KeyHandler keys;
    KeyContext context;
    context.rowCount = static_cast<int>(s.rows.size());
    for (int i = 0; i < 50; ++i) keys.press(Key::Down, context);
    int scroll = 0;
    const Canvas c = draw(s, 120, 30, keys, &scroll);
    const int cursorLine = lineContaining(c, QStringLiteral("gateway-pod-45"));
    QVERIFY2(cursorLine > 1, qPrintable(dump(c)));
    QCOMPARE(c.styleAt(cursorLine, 3), Style::Selected);
    QVERIFY(scroll > 0);
    QVERIFY(c.lineText(2).endsWith(QStringLiteral("▲")));
    // Moving up inside the visible rows does not scroll.
    keys.press(Key::Up, context);
    int again = scroll;
    draw(s, 120, 30, keys, &again);
    QCOMPARE(again, scroll);
  }

  void launchProgressReplacesTheTableWhileStarting() {
    ScreenSnapshot s;
    s.launching = true;
    s.header.cluster = QStringLiteral("starting (embedded)");
    s.launch << mambogo::core::PodLaunchState{QStringLiteral("gateway-7d9f"), QStringLiteral("Running"), 1, 1, {}}
             << mambogo::core::PodLaunchState{QStringLiteral("order-service-5d"), QStringLiteral("ContainerCreating"), 0, 1,
                                                QStringLiteral("waiting for product-service")};
    const Canvas c = draw(s, 120, 30);
    QVERIFY2(lineContaining(c, QStringLiteral("starting: 1 of 2 pods ready")) == 1, qPrintable(dump(c)));
    QVERIFY(c.lineText(2).contains(QStringLiteral("✔ gateway-7d9f")));
    QVERIFY(c.lineText(3).contains(QStringLiteral("… order-service-5d")));
    QVERIFY(c.lineText(3).contains(QStringLiteral("waiting for product-service")));
    QVERIFY(c.lineText(0).contains(QStringLiteral("○ not connected")));
  }

  void dialogsAreDrawnOverTheScreen() {
    ScreenSnapshot s = sampleSnapshot();
    KeyHandler keys;
    KeyContext context;
    context.rowCount = static_cast<int>(s.rows.size());
    context.workloadKind = QStringLiteral("Deployment");
    context.workloadName = QStringLiteral("gateway");
    context.desiredReplicas = 1;
    keys.press('s', context);
    keys.press('4', context);
    Canvas c = draw(s, 120, 40, keys);
    QVERIFY2(lineContaining(c, QStringLiteral("Replicas for Deployment/gateway (0-100):")) > 0, qPrintable(dump(c)));
    QVERIFY2(lineContaining(c, QStringLiteral("> 14▏")) > 0, qPrintable(dump(c)));
    keys.press(Key::Escape, context);
    keys.press('?', context);
    c = draw(s, 120, 40, keys);
    QVERIFY2(lineContaining(c, QStringLiteral("launch the local cluster")) > 0, qPrintable(dump(c)));
    s.busy = QStringLiteral("Stopping the local cluster…");
    c = draw(s, 120, 40);
    QVERIFY(lineContaining(c, QStringLiteral("Stopping the local cluster…")) > 0);
  }

  void snapshotOfTheCoreModels() {
    // The same models the GUI shows, fed as the informers and the collector feed them.
    TimeSeriesStore store;
    MetricsCollector collector(nullptr, nullptr, &store, MetricsCollector::Options{});
    ClusterModel cluster;
    cluster.setSources(nullptr, nullptr, nullptr, &collector);
    cluster.upsertWorkload(QStringLiteral("Deployment"),
                           json(QStringLiteral(R"({"metadata":{"name":"gateway","namespace":"default","uid":"d1",
        "creationTimestamp":"2026-11-27T00:00:00Z"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"gateway"}}},
        "status":{"readyReplicas":1}})")));
    cluster.upsertPod(json(QStringLiteral(R"({"metadata":{"name":"gateway-1","namespace":"default","uid":"p1",
        "labels":{"app":"gateway"},"creationTimestamp":"2026-11-27T00:55:00Z"},"spec":{"containers":[{"name":"main"}]},
        "status":{"phase":"Running","containerStatuses":[{"ready":true,"restartCount":2,"state":{"running":{}}}]}})")));
    HpaModel hpas;
    hpas.upsert(json(QStringLiteral(R"({"metadata":{"name":"gateway","namespace":"default","uid":"h1"},
        "spec":{"scaleTargetRef":{"kind":"Deployment","name":"gateway"},"minReplicas":1,"maxReplicas":4,
          "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]},
        "status":{"currentReplicas":1,"desiredReplicas":2}})")));
    EventModel events;
    for (int i = 0; i < 5; ++i)
      events.addConsoleEvent(QStringLiteral("note"), QStringLiteral("Deployment/gateway"), QStringLiteral("Note%1").arg(i),
                             QStringLiteral("event %1").arg(i));

    const qint64 t0 = 1'800'000'000'000;
    auto exposition = [](int count) {
      return QByteArrayLiteral("http_server_requests_seconds_count{status=\"200\"} ") + QByteArray::number(count) +
             "\nhttp_server_requests_seconds_bucket{status=\"200\",le=\"0.05\"} " + QByteArray::number(count) +
             "\nhttp_server_requests_seconds_bucket{status=\"200\",le=\"+Inf\"} " + QByteArray::number(count) + "\n";
    };
    int total = 0;
    for (int second = 0; second < 5; ++second) {
      total += 10 * second;  // 0, 10, 20, 30, 40 requests in successive seconds
      collector.ingestExposition(QStringLiteral("gateway-1"), QStringLiteral("gateway"), exposition(total), t0 + second * 1000);
      collector.finishRound(t0 + second * 1000);
    }

    ScreenSnapshot s;
    SnapshotSources sources{&cluster, &hpas, &events, &collector, &store};
    takeSnapshot(sources, t0 + 4000, 6, 3, s);
    QCOMPARE(s.rows.size(), 2);
    QCOMPARE(s.rows[0].name, QStringLiteral("gateway"));
    QCOMPARE(s.rows[0].ready, QStringLiteral("1/1"));
    QCOMPARE(s.rows[0].rps, QStringLiteral("40.0"));
    QCOMPARE(s.rows[1].kind, ClusterRow::Kind::Pod);
    QCOMPARE(s.rows[1].workloadName, QStringLiteral("gateway"));
    QCOMPARE(s.rows[1].restarts, QStringLiteral("2"));
    QVERIFY(s.rows[1].lastChild);
    QCOMPARE(s.hpas.size(), 1);
    QCOMPARE(s.hpas[0].desired, 2);
    QCOMPARE(s.hpas[0].max, 4);
    QCOMPARE(s.events.size(), 3);  // the newest three, newest last
    QCOMPARE(s.events.last().reason, QStringLiteral("Note4"));
    QCOMPARE(s.services.size(), 1);
    // Six seconds ending at t0+4 s: one before the first scrape, the baseline second (no rate
    // yet), then 10, 20, 30, 40 requests/s.
    const std::vector<double>& rps = s.services[0].rpsHistory;
    QCOMPARE(rps.size(), std::size_t(6));
    QVERIFY(std::isnan(rps[0]) && std::isnan(rps[1]));
    QCOMPARE(rps[2], 10.0);
    QCOMPARE(rps[3], 20.0);
    QCOMPARE(rps[5], 40.0);
    QCOMPARE(sparkline(rps, 6).right(3), QStringLiteral("▄▆█"));
  }
};

QTEST_GUILESS_MAIN(TestTuiScreen)
#include "tst_tui_screen.moc"
