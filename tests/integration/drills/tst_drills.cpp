// Drills end to end: `mambogo drill run` (the headless runner, app/drill) against a real local
// cluster (full profile: Redis, PostgreSQL primary + streaming replica), as a user or a CI job
// would run it.
//   - a drill made to fail (an impossible expectation) exits 1, its report says FAILED, and its
//     rollbacks ran: the fault it injected is gone and the setting it changed is back;
//   - the built-in drills 1 (multi-layer caching), 7 (payment outage) and 9 (pod kills) pass with
//     --fast, and their reports say so; the PDF of one is rendered to PNG for people to look at
//     (<build>/test-artifacts/drill-*.png).
#include <QtTest>

#include "cluster_process.h"

using mambogo::test::CommandResult;
using mambogo::test::LocalCluster;

namespace {

QString artifacts() { return QStringLiteral(MAMBOGO_ARTIFACT_DIR); }

}  // namespace

class TestDrills : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<LocalCluster> cluster_;
  QTemporaryDir out_;

  // Runs `mambogo drill run NAME --fast` with reports; the log goes to the test output.
  CommandResult runDrill(const QString& name, const QString& reportBase, int timeoutMs) {
    const QStringList args{"drill", "run", name, "--fast", "--kubeconfig", cluster_->kubeconfig(),
                           "--report", out_.filePath(reportBase + ".html"), "--pdf", out_.filePath(reportBase + ".pdf")};
    QProcessEnvironment env = cluster_->env();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    const CommandResult r = mambogo::test::run_command(mambogo::test::build_dir() + "/app/gui/mambogo", args, env, timeoutMs);
    qInfo().noquote() << "mambogo drill run" << name << "exit" << r.exit_code << "\n" << r.out << r.err;
    return r;
  }

  QString report(const QString& reportBase) {
    QFile f(out_.filePath(reportBase + ".html"));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
  }

  QJsonObject settings(const QString& podIp) {
    const CommandResult r = mambogo::test::run_command(
        "curl", {"-s", "-m", "5", "-H", "Authorization: Bearer " + cluster_->token("admin"), "http://" + podIp + ":8080/admin/settings"},
        cluster_->env());
    return QJsonDocument::fromJson(r.out.toUtf8()).object();
  }

  QString podIp(const QString& app) {
    const auto pods = cluster_->kubectl_json({"get", "pods", "-l", "app=" + app});
    for (const auto& p : pods["items"])
      if (p["status"].value("phase", "") == "Running") return QString::fromStdString(p["status"].value("podIP", ""));
    return {};
  }

  void expectPassed(const QString& name) {
    const CommandResult r = runDrill(name, name, 420'000);
    QVERIFY2(r.exit_code == 0, qPrintable(r.out.right(3000) + r.err));
    const QString html = report(name);
    QVERIFY(html.contains(">PASSED<"));
    QVERIFY(!html.contains("class=\"fail\""));
    QVERIFY(html.contains("data:image/png;base64,"));  // charts inline
    QVERIFY(QFileInfo(out_.filePath(name + ".pdf")).size() > 10'000);
  }

 private Q_SLOTS:
  void initTestCase() {
    if (!QFileInfo::exists(mambogo::test::build_dir() + "/app/gui/mambogo")) QSKIP("the console (app/gui) is not built");
    QVERIFY(out_.isValid());
    QDir().mkpath(artifacts());
    cluster_ = std::make_unique<LocalCluster>("full");
    QVERIFY2(cluster_->wait_ready(), qPrintable(cluster_->log()));
  }

  void aFailingDrillRollsBack() {
    const QString ip = podIp("payment-service");
    QVERIFY(!ip.isEmpty());
    const double latencyBefore = settings(ip)["provider.latency-p50-ms"].toObject()["value"].toDouble(-1);
    QVERIFY(latencyBefore >= 0);

    const CommandResult r = runDrill(QStringLiteral(MAMBOGO_TEST_DATA "/impossible.yaml"), "impossible", 180'000);
    QCOMPARE(r.exit_code, 1);  // failed, not an error
    QVERIFY2(r.out.contains("[FAIL] payments become impossibly fast"), qPrintable(r.out));
    const QString html = report("impossible");
    QVERIFY(html.contains(">FAILED<"));
    QVERIFY(html.contains("(automatic)"));  // the rollbacks are in the report

    // The rollbacks ran: no chaos object of the drill is left, the setting is back.
    const auto chaos = cluster_->kubectl_json({"get", "httpchaos,podchaos,networkchaos,stresschaos"});
    QVERIFY2(chaos["items"].empty(), chaos.dump().c_str());
    QCOMPARE(settings(ip)["provider.latency-p50-ms"].toObject()["value"].toDouble(-1), latencyBefore);
  }

  void paymentOutage() {
    expectPassed("payment-outage");
    // Look at it: the PDF's first page as PNG.
    const CommandResult png = mambogo::test::run_command(
        "pdftoppm", {"-r", "70", "-png", "-f", "1", "-l", "2", out_.filePath("payment-outage.pdf"), artifacts() + "/drill-payment-outage"},
        cluster_->env());
    QVERIFY2(png.ok(), qPrintable(png.err));
  }

  void podKills() { expectPassed("pod-kills"); }

  void multiLayerCaching() { expectPassed("multi-layer-caching"); }

  void cleanupTestCase() {
    if (cluster_) cluster_->stop();
  }
};

int main(int argc, char** argv) {
  // Qt Test's watchdog would abort this long test case after 5 minutes; ctest's timeout rules.
  qputenv("QTEST_FUNCTION_TIMEOUT", "1500000");
  QCoreApplication app(argc, argv);
  TestDrills test;
  return QTest::qExec(&test, argc, argv);
}
#include "tst_drills.moc"
