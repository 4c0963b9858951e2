// mambogo-load as a user runs it: a real process against a real server on loopback. Exit
// codes, the summary, the reports, plan errors, the wrk-like bench and stopping on a signal.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "load_test_server.h"

using mambogo::test::LoadTestServer;

namespace {

const QString binary = MAMBOGO_LOAD_BINARY;
const QString scenarios_dir = MAMBOGO_SCENARIOS_DIR;

struct Result {
  int code = -1;
  QString out, err;
};

Result run(const QStringList& args, int timeout_ms = 90'000) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("AUTH_TOKEN", "cli-token");
  p.setProcessEnvironment(env);
  p.start(binary, args);
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished(5000);
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
          QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
}

QString read(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(f.readAll());
}

QString write(const QTemporaryDir& dir, const QString& name, const QString& content) {
  QString path = dir.filePath(name);
  QFile f(path);
  if (f.open(QIODevice::WriteOnly)) f.write(content.toUtf8());
  return path;
}

}  // namespace

class TestLoadCli : public QObject {
  Q_OBJECT

 private slots:
  void runPrintsSummaryAndWritesSelfContainedReports() {
    LoadTestServer server;
    QTemporaryDir dir;
    auto r =
        run({"run", scenarios_dir + "/artillery-load-test.yml", "--target",
             QString::fromStdString(server.url()), "--rate-scale", "0.2", "--time-scale", "0.01",
             "--threshold", "p(95)<5000", "--threshold", "http_req_failed:rate<0.5", "--out",
             dir.filePath("r.json"), "--csv", dir.filePath("r.csv"), "--html", dir.filePath("r.html"), "-q"});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY(r.out.contains("█ THRESHOLDS"));
    QVERIFY(r.out.contains("✓ 'p(95)<5000' p(95)="));
    QVERIFY(r.out.contains("█ TOTAL RESULTS"));
    QVERIFY(r.out.contains("http_req_duration"));
    QVERIFY(r.out.contains("scenario Order Creation Flow"));

    auto json = nlohmann::json::parse(read(dir.filePath("r.json")).toStdString());
    std::int64_t requests = json["overall"]["requests"];
    QCOMPARE(requests, server.hits("POST /api/orders") * 2 + server.hits("GET /api/products") * 2);
    QVERIFY(json["requests"].contains("POST /api/orders"));
    QCOMPARE(json["thresholds"].size(), std::size_t{2});
    QVERIFY(json["thresholds"][0]["passed"].get<bool>());
    QVERIFY(!json["timeline"].empty());

    QString csv = read(dir.filePath("r.csv"));
    QVERIFY(csv.startsWith("elapsed_s,phase,rps,requests,failed,"));
    QVERIFY(csv.count('\n') >= 2);

    QString html = read(dir.filePath("r.html"));
    QVERIFY(html.startsWith("<!DOCTYPE html>"));
    QCOMPARE(html.count("<svg"), 3);  // rate, latency percentiles, errors over time
    QVERIFY(!html.contains("<script"));
    QVERIFY(!html.contains("src="));
    QVERIFY(!html.contains("<link"));
  }

  void aBreachedThresholdExitsWith99() {
    LoadTestServer server;
    auto r = run({"run", scenarios_dir + "/artillery-load-test.yml", "--target",
                  QString::fromStdString(server.url()), "--rate", "20", "--duration", "1s", "--threshold",
                  "p(99)<1us", "-q"});
    QCOMPARE(r.code, 99);
    QVERIFY(r.out.contains("✗ 'p(99)<1us'"));
    QVERIFY(r.err.contains("thresholds have failed"));
  }

  void planErrorsExitWith2AndNameFileAndLine() {
    QTemporaryDir dir;
    auto plan =
        write(dir, "p.yml",
              "config:\n  target: http://127.0.0.1:9\n  phases:\n    - {duration: 1, arrivalRate: 1}\n"
              "scenarios:\n  - flow:\n      - function: setup\n      - get: {url: /hello}\n");
    auto r = run({"run", plan});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(plan + ":7: unsupported Artillery element 'scenarios[0].flow.function'"),
             qPrintable(r.err));

    LoadTestServer server;
    auto lenient = run({"run", plan, "--lenient", "--target", QString::fromStdString(server.url()), "-q"});
    QCOMPARE(lenient.code, 0);
    QVERIFY(lenient.err.contains("warning: " + plan + ":7: unsupported Artillery element"));
    QCOMPARE(server.hits("/hello"), std::int64_t{1});

    QCOMPARE(run({"run", dir.filePath("missing.jmx")}).code, 2);
    QCOMPARE(run({"run", plan, "--rate", "5", "--vus", "2"}).code, 2);
    QCOMPARE(run({"run", plan, "--threshold", "p(95)<<5"}).code, 2);
    QCOMPARE(run({"frobnicate"}).code, 2);
  }

  void checkDescribesTheSeedPlans() {
    auto a = run({"check", scenarios_dir + "/artillery-load-test.yml"});
    QCOMPARE(a.code, 0);
    QVERIFY(a.out.contains("artillery plan, 2 scenario(s), 3 arrival phase(s)"));
    auto j = run({"check", scenarios_dir + "/order-load-test.jmx"});
    QCOMPARE(j.code, 0);
    QVERIFY(j.out.contains("jmeter plan, 1 scenario(s), 1 thread group(s)"));
  }

  void benchPrintsAWrkLikeReport() {
    LoadTestServer server;
    auto r = run({"bench", QString::fromStdString(server.url()) + "/hello", "-d", "1s", "-c", "4", "-q"});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains("Latency Distribution (HdrHistogram - Recorded Latency)"));
    QVERIFY(r.out.contains("Detailed Percentile spectrum:"));
    QVERIFY(r.out.contains("#[Buckets ="));
    QVERIFY(r.out.contains("Requests/sec:"));
    QVERIFY(server.hits("/hello") > 0);
  }

  void aSignalStopsTheRunAndStillPrintsTheSummary() {
    LoadTestServer server;
    QProcess p;
    p.start(binary, {"bench", QString::fromStdString(server.url()) + "/hello", "-d", "10m", "-c", "2", "-q"});
    QVERIFY(p.waitForStarted(10'000));
    for (int i = 0; i < 200 && server.hits("/hello") == 0; ++i) QThread::msleep(50);
    QVERIFY(server.hits("/hello") > 0);
    p.terminate();  // SIGTERM
    QVERIFY(p.waitForFinished(60'000));
    QCOMPARE(p.exitCode(), 0);
    QVERIFY(QString::fromUtf8(p.readAllStandardOutput()).contains("(stopped early)"));
  }
};

QTEST_GUILESS_MAIN(TestLoadCli)
#include "tst_load_cli.moc"
