// mambogo-token as a user runs it: keygen writes a private key file the services accept,
// issue prints a token that verifies with the requested subject, roles and lifetime, and
// mistakes on the command line are refused with exit code 2.
#include <QtTest>

#include <sys/stat.h>

#include "runtime/auth/token.h"

using namespace mambogo::runtime::auth;

namespace {
struct Run {
  int code = -1;
  QByteArray out, err;
};
Run run(const QStringList& args) {
  QProcess p;
  p.start(MAMBOGO_TOKEN_BINARY, args);
  Run r;
  if (!p.waitForFinished(20'000)) return r;
  r.code = p.exitCode();
  r.out = p.readAllStandardOutput();
  r.err = p.readAllStandardError();
  return r;
}
}  // namespace

class TestTokenCli : public QObject {
  Q_OBJECT
 private slots:
  void keygenThenIssueGivesAVerifiableToken() {
    QTemporaryDir dir;
    const QString keys = dir.filePath("keys.json");
    QCOMPARE(run({"keygen", "--out", keys}).code, 0);
    struct stat st {};
    QCOMPARE(::stat(keys.toLocal8Bit().constData(), &st), 0);
    QCOMPARE(st.st_mode & 0777, 0600u);
    QCOMPARE(run({"keygen", "--out", keys}).code, 1);  // never overwrites by accident

    Run issued = run({"issue", "--keys", keys, "--sub", "alice", "--roles", "user,admin", "--ttl", "1h"});
    QCOMPARE(issued.code, 0);
    const std::string token = issued.out.trimmed().toStdString();
    TokenVerifier verifier(KeySet::load_file(keys.toStdString()));
    auto result = verifier.verify(token);
    QVERIFY(result);
    QCOMPARE(result.identity->subject, std::string("alice"));
    QVERIFY(result.identity->has_role("user") && result.identity->has_role("admin"));
    const auto left = result.identity->expires_at - std::chrono::system_clock::now();
    QVERIFY(left > std::chrono::minutes(59) && left <= std::chrono::hours(1));
  }

  void badCommandLinesAreRefused_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    QTest::newRow("no subcommand") << QStringList{} << 2;
    QTest::newRow("issue without sub") << QStringList{"issue", "--keys", "/etc/hostname"} << 2;
    QTest::newRow("missing key file") << QStringList{"issue", "--keys", "/nonexistent", "--sub", "a"} << 2;
    QTest::newRow("bad ttl") << QStringList{"issue", "--keys", "/etc/hostname", "--sub", "a", "--ttl", "soon"} << 1;
  }
  void badCommandLinesAreRefused() {
    QFETCH(QStringList, args);
    QFETCH(int, code);
    Run r = run(args);
    QCOMPARE(r.code, code);
    QVERIFY(!r.err.isEmpty() || !r.out.isEmpty());
  }
};

QTEST_GUILESS_MAIN(TestTokenCli)
#include "tst_token_cli.moc"
