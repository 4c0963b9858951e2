// ClusterLauncher: drives a stand-in mambogo-cluster (a shell script speaking its command
// line and output lines, fake_mambogo_cluster.sh) as a real child process: progress per pod,
// ready, failure, stop.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/cluster_launcher.h"

using mambogo::core::ClusterLauncher;
using mambogo::core::LaunchOptions;
using mambogo::core::PodLaunchState;


class TestClusterLauncher : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_program;

  LaunchOptions options(const QString& mode) {
    qputenv("FAKE_CLUSTER_MODE", mode.toUtf8());
    LaunchOptions o;
    o.program = m_program;
    o.stateDir = m_dir.filePath(QStringLiteral("state-") + mode);
    QDir().mkpath(o.stateDir);
    o.profile = QStringLiteral("embedded");
    o.stopTimeoutMs = 20'000;
    return o;
  }

  QString recordedArguments(const QString& command) {
    QFile f(m_dir.filePath(QStringLiteral("calls.") + command));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_program = m_dir.filePath(QStringLiteral("mambogo-cluster"));
    QVERIFY(QFile::copy(QStringLiteral(MAMBOGO_FAKE_CLUSTER), m_program));
    QFile f(m_program);
    QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    qputenv("FAKE_CLUSTER_LOG", m_dir.filePath(QStringLiteral("calls")).toUtf8());
  }

  void parsesProgressLines_data() {
    QTest::addColumn<QString>("line");
    QTest::addColumn<bool>("isPod");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("state");
    QTest::addColumn<int>("ready");
    QTest::addColumn<int>("total");
    QTest::addColumn<QString>("detail");
    QTest::addColumn<bool>("podReady");
    QTest::newRow("pending") << "pod/gateway-7d9f Pending 0/1" << true << "gateway-7d9f" << "Pending" << 0 << 1 << ""
                             << false;
    QTest::newRow("running") << "pod/redis-0 Running 1/1" << true << "redis-0" << "Running" << 1 << 1 << "" << true;
    QTest::newRow("running, not ready") << "pod/postgres-0 Running 0/1" << true << "postgres-0" << "Running" << 0 << 1
                                        << "" << false;
    QTest::newRow("with detail") << "pod/x CrashLoopBackOff 0/2 (back-off 10s: exit 1)" << true << "x"
                                 << "CrashLoopBackOff" << 0 << 2 << "back-off 10s: exit 1" << false;
    QTest::newRow("ready line") << "READY http://127.0.0.1:8080" << false << "" << "" << 0 << 0 << "" << false;
    QTest::newRow("created line") << "Deployment/gateway created" << false << "" << "" << 0 << 0 << "" << false;
    QTest::newRow("no counts") << "pod/x Running" << false << "" << "" << 0 << 0 << "" << false;
  }

  void parsesProgressLines() {
    QFETCH(QString, line);
    QFETCH(bool, isPod);
    const auto pod = ClusterLauncher::parseProgressLine(line);
    QCOMPARE(pod.has_value(), isPod);
    if (!pod) return;
    QFETCH(QString, name);
    QFETCH(QString, state);
    QFETCH(int, ready);
    QFETCH(int, total);
    QFETCH(QString, detail);
    QFETCH(bool, podReady);
    QCOMPARE(pod->name, name);
    QCOMPARE(pod->state, state);
    QCOMPARE(pod->ready, ready);
    QCOMPARE(pod->total, total);
    QCOMPARE(pod->detail, detail);
    QCOMPARE(pod->isReady(), podReady);
  }

  void profileFollowsInstalledDatabases() {
    const bool full = QFileInfo::exists(QStringLiteral("/usr/bin/redis-server")) &&
                      !QDir(QStringLiteral("/usr/lib/postgresql")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty();
    QCOMPARE(ClusterLauncher::autoProfile(), full ? QStringLiteral("full") : QStringLiteral("embedded"));
  }

  void startReportsEveryPodThenReady() {
    ClusterLauncher launcher;
    QSignalSpy pods(&launcher, &ClusterLauncher::podChanged);
    QSignalSpy ready(&launcher, &ClusterLauncher::ready);
    QSignalSpy failed(&launcher, &ClusterLauncher::failed);
    const LaunchOptions o = options(QStringLiteral("ok"));
    launcher.start(o);
    QCOMPARE(launcher.state(), ClusterLauncher::State::Starting);
    QVERIFY(ready.wait(15'000));
    QCOMPARE(failed.count(), 0);
    QCOMPARE(launcher.state(), ClusterLauncher::State::Ready);
    QVERIFY(launcher.ownsCluster());
    QCOMPARE(ready.first().at(0).toString(), QDir(o.stateDir).filePath(QStringLiteral("kubeconfig")));
    QCOMPARE(ready.first().at(1).toString(), QStringLiteral("http://127.0.0.1:8080"));
    QCOMPARE(pods.count(), 4);
    QCOMPARE(launcher.pods().size(), 2);
    for (const auto& pod : launcher.pods()) QVERIFY2(pod.isReady(), qPrintable(pod.name));
    const QString args = recordedArguments(QStringLiteral("up"));
    QVERIFY2(args.contains(QLatin1String("--foreground")), qPrintable(args));
    QVERIFY2(args.contains(QLatin1String("--profile embedded")), qPrintable(args));
    QVERIFY2(args.contains(QLatin1String("--state-dir ") + o.stateDir), qPrintable(args));

    QSignalSpy stopped(&launcher, &ClusterLauncher::stopped);
    launcher.stop();
    QCOMPARE(launcher.state(), ClusterLauncher::State::Stopping);
    QVERIFY(stopped.wait(20'000));
    QCOMPARE(launcher.state(), ClusterLauncher::State::Idle);
    QVERIFY(recordedArguments(QStringLiteral("down")).contains(o.stateDir));
    QVERIFY(!QFileInfo::exists(QDir(o.stateDir).filePath(QStringLiteral("cluster.pid"))));
  }

  void failedLineReportsThePodThatIsNotReady() {
    ClusterLauncher launcher;
    QSignalSpy failed(&launcher, &ClusterLauncher::failed);
    QSignalSpy ready(&launcher, &ClusterLauncher::ready);
    launcher.start(options(QStringLiteral("crash")));
    QVERIFY(failed.wait(15'000));
    QVERIFY2(failed.first().at(0).toString().contains(QLatin1String("payment-service-5c4b is CrashLoopBackOff")),
             qPrintable(failed.first().at(0).toString()));
    QCOMPARE(launcher.state(), ClusterLauncher::State::Failed);
    QCOMPARE(ready.count(), 0);
    const auto pods = launcher.pods();
    QCOMPARE(pods.size(), 2);
    QCOMPARE(pods.last().detail, QStringLiteral("back-off 10s restarting failed container"));
  }

  void exitBeforeReadyReportsItsErrorOutput() {
    ClusterLauncher launcher;
    QSignalSpy failed(&launcher, &ClusterLauncher::failed);
    launcher.start(options(QStringLiteral("usage")));
    QVERIFY(failed.wait(15'000));
    QVERIFY2(failed.first().at(0).toString().contains(QLatin1String("--profile: bad value")),
             qPrintable(failed.first().at(0).toString()));
  }

  void missingProgramFailsAtOnce() {
    ClusterLauncher launcher;
    QSignalSpy failed(&launcher, &ClusterLauncher::failed);
    LaunchOptions o = options(QStringLiteral("ok"));
    o.program = m_dir.filePath(QStringLiteral("no-such-program"));
    launcher.start(o);
    QVERIFY(failed.count() == 1 || failed.wait(10'000));
    QCOMPARE(launcher.state(), ClusterLauncher::State::Failed);
  }
};

QTEST_GUILESS_MAIN(TestClusterLauncher)
#include "tst_cluster_launcher.moc"
