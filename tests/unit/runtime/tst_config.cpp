#include <QtTest>

#include "runtime/config.h"
#include "runtime/service.h"

using namespace mambogo::runtime;
using std::chrono::milliseconds;

class TestConfig : public QObject {
  Q_OBJECT

  static QString error_of(Config& c) {
    try {
      c.finish();
    } catch (const ConfigError& e) {
      return QString::fromStdString(e.what());
    }
    return {};
  }

 private slots:
  void readsEnvironmentWithDefaults() {
    Config c({"SERVER_PORT=9090", "ACCESS_LOG=off", "UNRELATED=1"}, {});
    QCOMPARE(c.integer("SERVER_PORT", 8080, 0, 65535, ""), 9090);
    QCOMPARE(c.boolean("ACCESS_LOG", true, ""), false);
    QCOMPARE(c.string("SERVICE_NAME", "x", ""), std::string("x"));
    QVERIFY(error_of(c).isEmpty());
  }

  void commandLineOverridesEnvironment() {
    Config c({"SERVER_PORT=9090", "LOG_LEVEL=info"}, {"--server-port=7070", "--log-level", "debug", "--access-log"});
    QCOMPARE(c.integer("SERVER_PORT", 8080, 0, 65535, ""), 7070);
    QCOMPARE(c.choice("LOG_LEVEL", "info", {"debug", "info"}, ""), std::string("debug"));
    QCOMPARE(c.boolean("ACCESS_LOG", false, ""), true);
    QVERIFY(error_of(c).isEmpty());
  }

  void parsesDurations_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("ms");
    QTest::newRow("ms") << "250ms" << 250;
    QTest::newRow("bare") << "40" << 40;
    QTest::newRow("s") << "30s" << 30'000;
    QTest::newRow("m") << "10m" << 600'000;
    QTest::newRow("h") << "1h" << 3'600'000;
  }
  void parsesDurations() {
    QFETCH(QString, text);
    QFETCH(int, ms);
    Config c({"T=" + text.toStdString()}, {});
    QCOMPARE(c.duration("T", milliseconds(1), milliseconds(0), milliseconds(3'600'000), "").count(), ms);
    QVERIFY(error_of(c).isEmpty());
  }

  void invalidValueNamesVariableAndRange_data() {
    QTest::addColumn<QString>("entry");
    QTest::addColumn<QString>("expected");
    QTest::newRow("port too big") << "SERVER_PORT=70000" << "SERVER_PORT='70000' is invalid: expected an integer from 0 to 65535";
    QTest::newRow("port not a number") << "SERVER_PORT=80a" << "SERVER_PORT='80a' is invalid";
    QTest::newRow("io threads zero") << "SERVER_IO_THREADS=0" << "SERVER_IO_THREADS='0' is invalid: expected an integer from 1 to 64";
    QTest::newRow("bad duration unit") << "SERVER_HEADER_TIMEOUT=5 days" << "SERVER_HEADER_TIMEOUT='5 days' is invalid: expected a duration from 10ms to 1h";
    QTest::newRow("bad bool") << "ACCESS_LOG=maybe" << "ACCESS_LOG='maybe' is invalid: expected true or false";
    QTest::newRow("bad policy") << "EXECUTOR_REJECTION_POLICY=drop" << "expected one of caller-runs, reject";
    QTest::newRow("max below core") << "EXECUTOR_MAX_SIZE=5" << "EXECUTOR_MAX_SIZE='5' is invalid: expected an integer from EXECUTOR_CORE_SIZE (10) to 1000";
  }
  void invalidValueNamesVariableAndRange() {
    QFETCH(QString, entry);
    QFETCH(QString, expected);
    Config c({entry.toStdString()}, {});
    read_service_settings(c);
    QString error = error_of(c);
    QVERIFY2(error.contains(expected), qPrintable(error));
  }

  void reportsEveryProblemAtOnce() {
    Config c({"SERVER_PORT=-1", "SERVER_IO_THREADS=999"}, {"--no-such-option=1", "stray"});
    read_service_settings(c);
    QString error = error_of(c);
    QVERIFY(error.contains("SERVER_PORT"));
    QVERIFY(error.contains("SERVER_IO_THREADS"));
    QVERIFY(error.contains("unknown option --no-such-option"));
    QVERIFY(error.contains("unexpected argument 'stray'"));
  }

  void invalidValueKeepsTheDefault() {
    Config c({"SERVER_PORT=nope"}, {});
    QCOMPARE(read_service_settings(c).server.port, std::uint16_t(8080));
  }

  void seedExecutorDefaults() {
    Config c({}, {});
    ServiceSettings s = read_service_settings(c);
    QCOMPARE(s.executor.core_threads, 10);
    QCOMPARE(s.executor.max_threads, 50);
    QCOMPARE(s.executor.queue_capacity, 100);
    QCOMPARE(int(s.executor.policy), int(RejectionPolicy::caller_runs));
    QVERIFY(error_of(c).isEmpty());
  }

  void helpListsEveryVariable() {
    Config c({}, {"--help"});
    read_service_settings(c);
    QVERIFY(c.help_requested());
    QString usage = QString::fromStdString(c.usage());
    for (const char* v : {"SERVER_PORT", "--server-port", "EXECUTOR_QUEUE_CAPACITY", "SHUTDOWN_GRACE"})
      QVERIFY2(usage.contains(v), v);
  }

  // Under mambogo-cluster a well-known container path (the service account's) is found where the
  // kubelet put the volume; elsewhere it stays as it is.
  void mountedPathsFollowTheKubeletsMounts() {
    const std::string mounts =
        "/etc/mambogo/auth=/state/pods/p/volumes/keys\n"
        "/var/run/secrets/kubernetes.io/serviceaccount=/state/pods/p/serviceaccount\n"
        "/var=/state/pods/p/volumes/var\n";
    const std::string account = "/var/run/secrets/kubernetes.io/serviceaccount";
    QCOMPARE(mounted_path(account, mounts), std::string("/state/pods/p/serviceaccount"));
    QCOMPARE(mounted_path(account + "/token", mounts), std::string("/state/pods/p/serviceaccount/token"));
    QCOMPARE(mounted_path("/var/lib/x", mounts), std::string("/state/pods/p/volumes/var/lib/x"));  // longest match wins
    QCOMPARE(mounted_path("/variable", mounts), std::string("/variable"));  // a prefix of a name is no match
    QCOMPARE(mounted_path(account, ""), account);
    QCOMPARE(mounted_path(account, "garbage\n=nothing\n"), account);
  }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
