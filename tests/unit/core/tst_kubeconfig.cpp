// Kubeconfig parsing: good files, $KUBECONFIG merging, and bad files whose message must name
// the file and the field.
#include <QDir>
#include <QFile>
#include <QSslKey>
#include <QTemporaryDir>
#include <QtTest>

#include "core/kubeconfig.h"

using mambogo::core::Kubeconfig;
using mambogo::core::KubeconfigError;

namespace {

QByteArray readData(const char* name) {
  QFile f(QStringLiteral(MAMBOGO_CORE_TEST_DATA "/") + QLatin1String(name));
  if (!f.open(QIODevice::ReadOnly)) qFatal("missing test data %s", name);
  return f.readAll();
}

QByteArray b64(const QByteArray& raw) { return raw.toBase64(); }

}  // namespace

class TestKubeconfig : public QObject {
  Q_OBJECT

  QTemporaryDir m_dir;

  QString write(const QString& name, const QByteArray& text) {
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
    f.write(text);
    return path;
  }

  // The message load+settings give for `yaml`, or "" when they succeed.
  QString errorOf(const QByteArray& yaml, const QString& fileName = QStringLiteral("bad.yaml")) {
    try {
      Kubeconfig::load({write(fileName, yaml)}).settings();
    } catch (const KubeconfigError& e) {
      return e.message();
    }
    return {};
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(m_dir.isValid()); }

  void readsClusterUserAndContextFromOneFile() {
    const QByteArray yaml = "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
                            "clusters:\n- name: mambogo\n  cluster:\n    server: https://127.0.0.1:6443/\n"
                            "    certificate-authority-data: " + b64(readData("client.crt")) + "\n"
                            "users:\n- name: admin\n  user:\n"
                            "    client-certificate-data: " + b64(readData("client.crt")) + "\n"
                            "    client-key-data: " + b64(readData("client_pkcs8.key")) + "\n"
                            "contexts:\n- name: local\n  context: {cluster: mambogo, user: admin, namespace: shop}\n"
                            "- name: other\n  context: {cluster: mambogo}\n";
    const Kubeconfig config = Kubeconfig::load({write(QStringLiteral("good.yaml"), yaml)});
    QCOMPARE(config.currentContext(), QStringLiteral("local"));
    QCOMPARE(config.contextNames(), (QStringList{QStringLiteral("local"), QStringLiteral("other")}));

    const auto s = config.settings();
    QCOMPARE(s.contextName, QStringLiteral("local"));
    QCOMPARE(s.server, QUrl(QStringLiteral("https://127.0.0.1:6443")));
    QCOMPARE(s.nameSpace, QStringLiteral("shop"));
    QCOMPARE(s.certificateAuthorityPem, readData("client.crt"));
    QCOMPARE(s.clientKeyPem, readData("client_pkcs8.key"));
    QVERIFY(!s.insecureSkipTlsVerify);
    const QSslConfiguration ssl = s.sslConfiguration();
    QCOMPARE(ssl.caCertificates().size(), 1);
    QCOMPARE(ssl.localCertificate().subjectInfo(QSslCertificate::CommonName), QStringList{QStringLiteral("mambogo-test")});
    QVERIFY(!ssl.privateKey().isNull());
    QCOMPARE(ssl.peerVerifyMode(), QSslSocket::AutoVerifyPeer);

    const auto other = config.settings(QStringLiteral("other"));
    QCOMPARE(other.nameSpace, QStringLiteral("default"));
    QVERIFY(other.bearerToken.isEmpty());
    QVERIFY(other.clientCertificatePem.isEmpty());
  }

  void readsFilesRelativeToTheKubeconfigDirectory() {
    QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("sub/pki")));
    write(QStringLiteral("sub/pki/ca.crt"), readData("client.crt"));
    write(QStringLiteral("sub/pki/client.crt"), readData("client.crt"));
    write(QStringLiteral("sub/pki/client.key"), readData("client_ec.key"));
    write(QStringLiteral("sub/token"), "s3cr3t-token\n");
    const QByteArray yaml = "current-context: c\n"
                            "clusters: [{name: k, cluster: {server: 'https://127.0.0.2:6443', certificate-authority: pki/ca.crt}}]\n"
                            "users:\n- name: u\n  user: {tokenFile: token, client-certificate: pki/client.crt, client-key: pki/client.key}\n"
                            "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
    const auto s = Kubeconfig::load({write(QStringLiteral("sub/config"), yaml)}).settings();
    QCOMPARE(s.certificateAuthorityPem, readData("client.crt"));
    QCOMPARE(s.clientKeyPem, readData("client_ec.key"));
    QCOMPARE(s.bearerToken, QStringLiteral("s3cr3t-token"));
    QVERIFY(!s.sslConfiguration().privateKey().isNull());
  }

  void insecureSkipTlsVerifyTurnsPeerVerificationOff() {
    const QByteArray yaml = "current-context: c\n"
                            "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
                            "users: [{name: u, user: {token: abc}}]\n"
                            "contexts: [{name: c, context: {cluster: k, user: u}}]\n";
    const auto s = Kubeconfig::load({write(QStringLiteral("insecure.yaml"), yaml)}).settings();
    QVERIFY(s.insecureSkipTlsVerify);
    QCOMPARE(s.bearerToken, QStringLiteral("abc"));
    QCOMPARE(s.sslConfiguration().peerVerifyMode(), QSslSocket::VerifyNone);
  }

  void mergesKubeconfigFilesAsKubectlDoes() {
    const QString first = write(QStringLiteral("m1.yaml"),
                                "clusters: [{name: shared, cluster: {server: 'http://127.0.0.1:1001'}}]\n"
                                "users: [{name: me, user: {token: first}}]\n");
    const QString second = write(QStringLiteral("m2.yaml"),
                                 "current-context: from-second\n"
                                 "clusters: [{name: shared, cluster: {server: 'http://127.0.0.1:2002'}},\n"
                                 "           {name: only2, cluster: {server: 'http://127.0.0.1:2003'}}]\n"
                                 "users: [{name: me, user: {token: second}}]\n"
                                 "contexts: [{name: from-second, context: {cluster: shared, user: me, namespace: two}}]\n");
    const QString third = write(QStringLiteral("m3.yaml"),
                                "current-context: from-third\n"
                                "contexts: [{name: from-third, context: {cluster: only2, user: me}},\n"
                                "           {name: from-second, context: {cluster: only2}}]\n");
    const QString missing = m_dir.filePath(QStringLiteral("does-not-exist.yaml"));
    qputenv("KUBECONFIG", (first + QLatin1String("::") + missing + QLatin1Char(':') + second + QLatin1Char(':') + third).toLocal8Bit());
    const QStringList files = Kubeconfig::defaultFiles();
    qunsetenv("KUBECONFIG");
    QCOMPARE(files, (QStringList{first, missing, second, third}));

    const Kubeconfig config = Kubeconfig::load(files);
    QCOMPARE(config.currentContext(), QStringLiteral("from-second"));
    const auto s = config.settings();
    QCOMPARE(s.server, QUrl(QStringLiteral("http://127.0.0.1:1001")));  // first file wins
    QCOMPARE(s.bearerToken, QStringLiteral("first"));
    QCOMPARE(s.nameSpace, QStringLiteral("two"));
    QCOMPARE(config.settings(QStringLiteral("from-third")).server, QUrl(QStringLiteral("http://127.0.0.1:2003")));
    QCOMPARE(config.contexts().size(), 2);
  }

  void badFileMessageNamesFileAndField_data() {
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<QString>("expected");  // after "<file>: "
    const QByteArray okCluster = "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:1'}}]\n";
    const QByteArray ctx = "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n";
    QTest::newRow("key not base64") << okCluster + ctx + "users:\n- name: u\n  user:\n    client-certificate-data: " +
                                           b64(readData("client.crt")) + "\n    client-key-data: '%%%not-base64'\n"
                                    << "users[0].user.client-key-data: not base64";
    QTest::newRow("clusters not a list") << QByteArray("clusters: {name: k}\n") << "clusters: not a list";
    QTest::newRow("entry not a map") << QByteArray("users: [plain]\n") << "users[0]: not a map";
    QTest::newRow("name missing") << okCluster + "users: [{name: a, user: {}}, {user: {token: x}}]\n"
                                  << "users[1].name: missing";
    QTest::newRow("server missing") << QByteArray("clusters: [{name: k, cluster: {insecure-skip-tls-verify: true}}]\n")
                                    << "clusters[0].cluster.server: missing";
    QTest::newRow("server not http") << QByteArray("clusters: [{name: k, cluster: {server: 'ftp://127.0.0.1'}}]\n")
                                     << "clusters[0].cluster.server: not an http(s) URL: \"ftp://127.0.0.1\"";
    QTest::newRow("insecure not bool") << QByteArray("clusters: [{name: k, cluster: {server: 'http://a', insecure-skip-tls-verify: perhaps}}]\n")
                                       << "clusters[0].cluster.insecure-skip-tls-verify: not true or false";
    QTest::newRow("token not a string") << okCluster + ctx + "users: [{name: u, user: {token: [a, b]}}]\n"
                                        << "users[0].user.token: not a string";
    QTest::newRow("cert without key") << okCluster + ctx + "users: [{name: u, user: {client-certificate-data: " +
                                             b64(readData("client.crt")) + "}}]\n"
                                      << "users[0].user.client-key-data: missing (a client certificate needs its key)";
    QTest::newRow("context without cluster") << QByteArray("contexts: [{name: c, context: {user: u}}]\n")
                                             << "contexts[0].context.cluster: missing";
    QTest::newRow("context body missing") << QByteArray("contexts: [{name: c}]\n") << "contexts[0].context: missing";
    QTest::newRow("unknown cluster") << ctx + "users: [{name: u, user: {token: t}}]\n"
                                     << "contexts[0].context.cluster: cluster \"k\" is not defined";
    QTest::newRow("unknown user") << okCluster + ctx << "contexts[0].context.user: user \"u\" is not defined";
    QTest::newRow("CA data not a certificate") << QByteArray("clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', "
                                                             "certificate-authority-data: ") + b64("hello") + "}}]\n" + ctx +
                                                      "users: [{name: u, user: {token: t}}]\n"
                                               << "clusters[0].cluster.certificate-authority-data: no PEM certificate in it";
    QTest::newRow("key data not a key") << okCluster + ctx + "users: [{name: u, user: {client-certificate-data: " +
                                               b64(readData("client.crt")) + ", client-key-data: " + b64(readData("client.crt")) + "}}]\n"
                                        << "users[0].user.client-key-data: no PEM RSA or EC private key in it";
    QTest::newRow("exec plugin only") << okCluster + ctx + "users: [{name: u, user: {exec: {command: aws}}}]\n"
                                      << "users[0].user.exec: exec and auth-provider plugins are not supported; use a token or a client certificate";
  }

  void badFileMessageNamesFileAndField() {
    QFETCH(QByteArray, yaml);
    QFETCH(QString, expected);
    const QString message = errorOf(yaml);
    QCOMPARE(message, m_dir.filePath(QStringLiteral("bad.yaml")) + QStringLiteral(": ") + expected);
  }

  void missingReferencedFileIsNamed() {
    const QString message = errorOf("current-context: c\n"
                                    "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', certificate-authority: nowhere/ca.crt}}]\n"
                                    "contexts: [{name: c, context: {cluster: k}}]\n");
    const QString prefix = m_dir.filePath(QStringLiteral("bad.yaml")) +
                           QStringLiteral(": clusters[0].cluster.certificate-authority: cannot read ") +
                           m_dir.filePath(QStringLiteral("nowhere/ca.crt"));
    QVERIFY2(message.startsWith(prefix), qPrintable(message));
  }

  void yamlSyntaxErrorGivesFileLineAndColumn() {
    const QString message = errorOf("clusters:\n- name: k\n  cluster: {server: 'http://a'\n");
    const QString file = m_dir.filePath(QStringLiteral("bad.yaml"));
    QVERIFY2(message.startsWith(file + QStringLiteral(":")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral(": YAML syntax error: ")), qPrintable(message));
    const QStringList parts = message.mid(file.size() + 1).split(QLatin1Char(':'));
    QVERIFY(parts.size() >= 3);
    QVERIFY2(parts[0].toInt() >= 3, qPrintable(message));  // the unterminated flow map on line 3 (or after)
  }

  void noCurrentContextIsAnError() {
    QCOMPARE(errorOf("clusters: [{name: k, cluster: {server: 'http://a'}}]\n"),
             QStringLiteral("current-context is not set and no context was chosen"));
  }

  void homeDirectoryIsShownAsTilde() {
    QCOMPARE(mambogo::core::displayPath(QDir::homePath() + QStringLiteral("/.kube/config")), QStringLiteral("~/.kube/config"));
    QCOMPARE(mambogo::core::displayPath(QStringLiteral("/etc/kubeconfig")), QStringLiteral("/etc/kubeconfig"));
  }
};

QTEST_GUILESS_MAIN(TestKubeconfig)
#include "tst_kubeconfig.moc"
