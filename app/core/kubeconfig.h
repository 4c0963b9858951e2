// Kubeconfig: reads the kubeconfig files kubectl reads and turns one context into the
// ConnectionSettings KubeClient needs.
//
// Offers
//   - Kubeconfig::load(files): parses each YAML file (clusters, users, contexts, current-context)
//     and merges them as kubectl merges $KUBECONFIG: the first file that defines a cluster, user
//     or context name wins; current-context comes from the first file that sets it.
//   - Kubeconfig::defaultFiles(): $KUBECONFIG split on ':' (empty entries skipped), else
//     ~/.kube/config.
//   - settings(context): resolves a context (default: the current one) to a ConnectionSettings
//     with the server URL, the PEM bytes of the CA, client certificate and key (from the *-data
//     fields, or read from the referenced files, relative paths being relative to the directory
//     of the kubeconfig that named them), the bearer token (token, or read from tokenFile), the
//     namespace ("default" when the context names none) and insecure-skip-tls-verify.
//
// Errors: a malformed file, a bad field or an unresolvable context throws KubeconfigError whose
// message names the file (home directory shown as "~") and the field path, e.g.
//   "~/.kube/config: users[0].user.client-key-data: not base64"
//   "/tmp/k.yaml:3:7: YAML syntax error: end of map not found"
// Unknown fields are ignored, as kubectl ignores them. Exec and auth-provider plugins are not
// supported: a user that has only those is reported as an error naming the field.
//
// Thread-safety: a Kubeconfig is an immutable value after load(); const members may be called
// from any thread. load() and settings() read files (small, local) on the caller's thread.
#pragma once

#include <QByteArray>
#include <QList>
#include <QSslConfiguration>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <stdexcept>

namespace mambogo::core {

class KubeconfigError : public std::runtime_error {
 public:
  explicit KubeconfigError(const QString& message) : std::runtime_error(message.toStdString()) {}
  QString message() const { return QString::fromStdString(what()); }
};

// Everything needed to talk to one API server as one user.
struct ConnectionSettings {
  QString contextName;
  QUrl server;                        // http or https, no trailing slash
  QString nameSpace = QStringLiteral("default");
  bool insecureSkipTlsVerify = false;
  QByteArray certificateAuthorityPem;  // empty: the system's CA store
  QByteArray clientCertificatePem;     // empty: no client certificate
  QByteArray clientKeyPem;
  QString bearerToken;                 // empty: no Authorization header

  // The TLS configuration these settings describe. Throws KubeconfigError when the PEM bytes
  // do not hold a certificate or an RSA/EC key.
  QSslConfiguration sslConfiguration() const;
};

class Kubeconfig {
 public:
  struct Cluster {
    QString name, server, certificateAuthorityFile;  // file path already absolute
    QByteArray certificateAuthorityData;             // decoded PEM
    bool insecureSkipTlsVerify = false;
    QString origin;                                  // "file: clusters[i]" for messages
  };
  struct User {
    QString name, token, tokenFile, clientCertificateFile, clientKeyFile;  // paths absolute
    QByteArray clientCertificateData, clientKeyData;                       // decoded PEM
    bool hasUnsupportedAuth = false;                                      // exec / auth-provider
    QString origin;
  };
  struct Context {
    QString name, cluster, user, nameSpace;
    QString origin;
  };

  // Parses and merges `files` in order. A file that does not exist is skipped (as kubectl
  // does for $KUBECONFIG entries) unless it is the only one. Throws KubeconfigError.
  static Kubeconfig load(const QStringList& files);
  // Parses one document; `fileName` is used for messages and relative paths.
  static Kubeconfig parse(const QByteArray& yaml, const QString& fileName);
  static QStringList defaultFiles();

  QString currentContext() const { return m_currentContext; }
  QStringList contextNames() const;
  const QList<Cluster>& clusters() const { return m_clusters; }
  const QList<User>& users() const { return m_users; }
  const QList<Context>& contexts() const { return m_contexts; }

  // Resolves `context` (empty: current-context). Throws KubeconfigError.
  ConnectionSettings settings(const QString& context = {}) const;

 private:
  void mergeFrom(const Kubeconfig& other);

  QString m_currentContext;
  QList<Cluster> m_clusters;
  QList<User> m_users;
  QList<Context> m_contexts;
};

// "~/..." for paths under the home directory, else the path unchanged.
QString displayPath(const QString& path);

}  // namespace mambogo::core
