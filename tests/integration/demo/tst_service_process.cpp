// The demo service as a real process: what an operator or Kubernetes sees of any service on
// the runtime. Start-up, configuration errors, JSON logs, readiness during drain, SIGTERM.
#include <QtTest>

#include <csignal>
#include <future>

#include <nlohmann/json.hpp>

#include "raw_http.h"

using namespace mambogo::test;
using namespace std::chrono_literals;

namespace {

// Starts the demo with extra environment, waits for its "started" line, knows its port.
class DemoProcess {
 public:
  explicit DemoProcess(const QStringList& env, const QStringList& args = {}) {
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert("SERVER_PORT", "0");
    e.insert("SERVER_ADDRESS", "127.0.0.1");
    for (const auto& kv : env) e.insert(kv.section('=', 0, 0), kv.section('=', 1));
    process.setProcessEnvironment(e);
    process.start(MAMBOGO_DEMO_BINARY, args);
  }
  ~DemoProcess() {
    if (process.state() != QProcess::NotRunning) {
      process.kill();
      process.waitForFinished(5000);
    }
  }
  // Reads stdout until the "started" line; returns its port or 0.
  int wait_started() {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 10'000) {
      while (process.canReadLine()) {
        QByteArray line = process.readLine();
        stdout_lines.append(line);
        auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (!j.is_discarded() && j.value("msg", "") == "started") return port = j["port"].get<int>();
      }
      if (!process.waitForReadyRead(200) && process.state() == QProcess::NotRunning) return 0;
    }
    return 0;
  }
  QList<QByteArray> rest_of_stdout() {
    process.waitForFinished(10'000);
    while (process.canReadLine()) stdout_lines.append(process.readLine());
    stdout_lines.append(process.readAllStandardOutput());
    return stdout_lines;
  }
  void signal(int signo) { ::kill(static_cast<pid_t>(process.processId()), signo); }

  QProcess process;
  QList<QByteArray> stdout_lines;
  int port = 0;
};

}  // namespace

class TestServiceProcess : public QObject {
  Q_OBJECT
 private slots:
  void servesHealthMetricsAndActuatorPaths() {
    DemoProcess demo({"ACCESS_LOG=false"});
    int port = demo.wait_started();
    QVERIFY(port > 0);
    for (const char* path : {"/health/live", "/health/ready", "/health", "/actuator/health",
                             "/actuator/health/liveness", "/actuator/health/readiness"}) {
      auto r = http_request(port, "GET", path);
      QVERIFY2(r && r->status == 200, path);
      QVERIFY2(r->body.find("\"UP\"") != std::string::npos, path);
    }
    auto metrics = http_request(port, "GET", "/actuator/prometheus");
    QCOMPARE(metrics->status, 200);
    QVERIFY(metrics->header("content-type").find("text/plain; version=0.0.4") == 0);
    QVERIFY(metrics->body.find("process_start_time_seconds") != std::string::npos);
  }

  void sigtermDrainsInFlightRequestsAndExitsZero() {
    DemoProcess demo({"SHUTDOWN_GRACE=10s"});
    int port = demo.wait_started();
    QVERIFY(port > 0);
    std::vector<std::future<std::optional<RawResponse>>> inflight;
    for (int i = 0; i < 3; ++i)
      inflight.push_back(std::async(std::launch::async, [port] { return http_request(port, "GET", "/api/slow?ms=800"); }));
    std::this_thread::sleep_for(200ms);  // the requests are being served
    demo.signal(SIGTERM);
    for (auto& f : inflight) {
      auto r = f.get();
      QVERIFY(r);
      QCOMPARE(r->status, 200);  // accepted before the signal: answered, not dropped
    }
    QVERIFY(demo.process.waitForFinished(10'000));
    QCOMPARE(demo.process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(demo.process.exitCode(), 0);
    bool stopped_clean = false;
    for (const auto& line : demo.rest_of_stdout()) {
      auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
      if (!j.is_discarded() && j.value("msg", "") == "stopped")
        stopped_clean = j["drained"].get<bool>() && j["abandoned_requests"].get<int>() == 0;
    }
    QVERIFY(stopped_clean);
  }

  void readinessTurnsDownBeforeTheListenerCloses() {
    DemoProcess demo({"SHUTDOWN_READINESS_DELAY=1500ms", "ACCESS_LOG=false"});
    int port = demo.wait_started();
    QVERIFY(port > 0);
    QCOMPARE(http_request(port, "GET", "/health/ready")->status, 200);
    demo.signal(SIGINT);
    // During the delay the service still answers, but says it is not ready.
    QTRY_COMPARE_WITH_TIMEOUT(http_request(port, "GET", "/health/ready")->status, 503, 1000);
    QCOMPARE(http_request(port, "GET", "/health/live")->status, 200);
    QCOMPARE(http_request(port, "GET", "/hello")->status, 200);
    QVERIFY(demo.process.waitForFinished(10'000));
    QCOMPARE(demo.process.exitCode(), 0);
  }

  void invalidConfigurationStopsTheStartWithAClearMessage_data() {
    QTest::addColumn<QStringList>("env");
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("port out of range") << QStringList{"SERVER_PORT=99999"} << QStringList{}
                                       << "SERVER_PORT='99999' is invalid: expected an integer from 0 to 65535";
    QTest::newRow("command line wins and is checked") << QStringList{} << QStringList{"--server-io-threads=0"}
                                       << "SERVER_IO_THREADS='0' is invalid: expected an integer from 1 to 64";
    QTest::newRow("unknown option") << QStringList{} << QStringList{"--sever-port=1"}
                                    << "unknown option --sever-port";
    QTest::newRow("bad policy") << QStringList{"EXECUTOR_REJECTION_POLICY=drop"} << QStringList{}
                                << "EXECUTOR_REJECTION_POLICY='drop' is invalid: expected one of caller-runs, reject";
  }
  void invalidConfigurationStopsTheStartWithAClearMessage() {
    QFETCH(QStringList, env);
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    DemoProcess demo(env, args);
    QVERIFY(demo.process.waitForFinished(10'000));
    QCOMPARE(demo.process.exitCode(), 2);
    QString err = QString::fromUtf8(demo.process.readAllStandardError());
    QVERIFY2(err.contains(message), qPrintable(err));
    QVERIFY(demo.process.readAllStandardOutput().isEmpty());  // never started
  }

  void portInUseFailsWithExitCodeOne() {
    DemoProcess first({"ACCESS_LOG=false"});
    int port = first.wait_started();
    QVERIFY(port > 0);
    DemoProcess second({"SERVER_PORT=" + QString::number(port)});
    QVERIFY(second.process.waitForFinished(10'000));
    QCOMPARE(second.process.exitCode(), 1);
    QVERIFY(QString::fromUtf8(second.process.readAllStandardError()).contains("cannot start"));
  }

  void helpListsTheVariables() {
    DemoProcess demo({}, {"--help"});
    QVERIFY(demo.process.waitForFinished(10'000));
    QCOMPARE(demo.process.exitCode(), 0);
    QString out = QString::fromUtf8(demo.process.readAllStandardOutput());
    QVERIFY(out.contains("--server-port / SERVER_PORT"));
    QVERIFY(out.contains("EXECUTOR_REJECTION_POLICY"));
  }

  void logsAreJsonLinesWithRequestIds() {
    DemoProcess demo({});
    int port = demo.wait_started();
    QVERIFY(port > 0);
    http_request(port, "GET", "/api/items/77", {}, "X-Request-Id: trace-abc\r\n");
    demo.signal(SIGTERM);
    bool seen = false;
    for (const auto& line : demo.rest_of_stdout()) {
      if (line.trimmed().isEmpty()) continue;
      auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
      QVERIFY2(!j.is_discarded(), line.constData());
      QVERIFY(j.contains("ts") && j.contains("level") && j.contains("msg"));
      if (j.value("request_id", "") == "trace-abc") {
        seen = true;
        QCOMPARE(j["uri"].get<std::string>(), std::string("/api/items/{id}"));
        QCOMPARE(j["path"].get<std::string>(), std::string("/api/items/77"));
        QCOMPARE(j["status"].get<int>(), 200);
      }
    }
    QVERIFY(seen);
  }
};

QTEST_GUILESS_MAIN(TestServiceProcess)
#include "tst_service_process.moc"
