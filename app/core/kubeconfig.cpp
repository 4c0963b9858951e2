#include "core/kubeconfig.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSslCertificate>
#include <QSslKey>
#include <QSet>
#include <yaml-cpp/yaml.h>

namespace mambogo::core {

QString displayPath(const QString& path) {
  const QString home = QDir::homePath();
  if (!home.isEmpty() && home != QLatin1String("/") && path.startsWith(home + QLatin1Char('/')))
    return QLatin1Char('~') + path.mid(home.size());
  return path;
}

namespace {

// Walks one parsed document, remembering the file and field for every message.
class DocumentReader {
 public:
  DocumentReader(QString fileName) : m_file(std::move(fileName)), m_dir(QFileInfo(m_file).absolutePath()) {}

  [[noreturn]] void fail(const QString& field, const QString& reason) const {
    throw KubeconfigError(QStringLiteral("%1: %2: %3").arg(displayPath(m_file), field, reason));
  }

  QString origin(const QString& field) const {
    return QStringLiteral("%1: %2").arg(displayPath(m_file), field);
  }

  // An optional string field: absent or null gives "".
  QString string(const YAML::Node& map, const char* key, const QString& field) const {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return {};
    if (!node.IsScalar()) fail(field + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not a string"));
    return QString::fromStdString(node.Scalar());
  }

  bool boolean(const YAML::Node& map, const char* key, const QString& field) const {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return false;
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value))
      fail(field + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not true or false"));
    return value;
  }

  QByteArray base64(const YAML::Node& map, const char* key, const QString& field) const {
    const QString text = string(map, key, field);
    if (text.isEmpty()) return {};
    auto decoded = QByteArray::fromBase64Encoding(text.toLatin1().trimmed(),
                                                  QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
      fail(field + QLatin1Char('.') + QLatin1String(key), QStringLiteral("not base64"));
    return *decoded;
  }

  QString path(const YAML::Node& map, const char* key, const QString& field) const {
    const QString p = string(map, key, field);
    if (p.isEmpty()) return {};
    return QDir::cleanPath(QDir(m_dir).absoluteFilePath(p));
  }

  // A list of named entries such as clusters: [{name: x, cluster: {...}}].
  template <typename Entry, typename Fill>
  QList<Entry> namedList(const YAML::Node& root, const char* listKey, const char* bodyKey, Fill fill) const {
    QList<Entry> out;
    const YAML::Node list = root[listKey];
    if (!list || list.IsNull()) return out;
    if (!list.IsSequence()) fail(QLatin1String(listKey), QStringLiteral("not a list"));
    QSet<QString> seen;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const QString field = QStringLiteral("%1[%2]").arg(QLatin1String(listKey)).arg(i);
      const YAML::Node item = list[i];
      if (!item.IsMap()) fail(field, QStringLiteral("not a map"));
      Entry entry;
      entry.name = string(item, "name", field);
      if (entry.name.isEmpty()) fail(field + QStringLiteral(".name"), QStringLiteral("missing"));
      const QString bodyField = field + QLatin1Char('.') + QLatin1String(bodyKey);
      const YAML::Node body = item[bodyKey];
      if (!body || body.IsNull()) fail(bodyField, QStringLiteral("missing"));
      if (!body.IsMap()) fail(bodyField, QStringLiteral("not a map"));
      entry.origin = origin(field);
      fill(entry, body, bodyField);
      if (!seen.contains(entry.name)) out.append(entry);  // first wins, as in kubectl
      seen.insert(entry.name);
    }
    return out;
  }

 private:
  QString m_file, m_dir;
};

Kubeconfig::Cluster readCluster(const DocumentReader& r, Kubeconfig::Cluster c, const YAML::Node& body,
                                const QString& field) {
  c.server = r.string(body, "server", field);
  if (c.server.isEmpty()) r.fail(field + QStringLiteral(".server"), QStringLiteral("missing"));
  const QUrl url(c.server, QUrl::StrictMode);
  if (!url.isValid() || (url.scheme() != QLatin1String("https") && url.scheme() != QLatin1String("http")) ||
      url.host().isEmpty())
    r.fail(field + QStringLiteral(".server"), QStringLiteral("not an http(s) URL: \"%1\"").arg(c.server));
  c.certificateAuthorityData = r.base64(body, "certificate-authority-data", field);
  c.certificateAuthorityFile = r.path(body, "certificate-authority", field);
  c.insecureSkipTlsVerify = r.boolean(body, "insecure-skip-tls-verify", field);
  return c;
}

Kubeconfig::User readUser(const DocumentReader& r, Kubeconfig::User u, const YAML::Node& body,
                          const QString& field) {
  u.token = r.string(body, "token", field);
  u.tokenFile = r.path(body, "tokenFile", field);
  u.clientCertificateData = r.base64(body, "client-certificate-data", field);
  u.clientCertificateFile = r.path(body, "client-certificate", field);
  u.clientKeyData = r.base64(body, "client-key-data", field);
  u.clientKeyFile = r.path(body, "client-key", field);
  u.hasUnsupportedAuth = body["exec"] || body["auth-provider"];
  const bool hasCert = !u.clientCertificateData.isEmpty() || !u.clientCertificateFile.isEmpty();
  const bool hasKey = !u.clientKeyData.isEmpty() || !u.clientKeyFile.isEmpty();
  if (hasCert && !hasKey) r.fail(field + QStringLiteral(".client-key-data"), QStringLiteral("missing (a client certificate needs its key)"));
  if (hasKey && !hasCert) r.fail(field + QStringLiteral(".client-certificate-data"), QStringLiteral("missing (a client key needs its certificate)"));
  return u;
}

QByteArray readFile(const QString& path, const QString& origin, const char* field) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly))
    throw KubeconfigError(QStringLiteral("%1.%2: cannot read %3: %4")
                              .arg(origin, QLatin1String(field), displayPath(path), f.errorString()));
  return f.readAll();
}

// Names the field the PEM bytes came from: "<origin>.<field>(-data)".
QString pemField(const QString& origin, const char* field, bool fromData) {
  return QStringLiteral("%1.%2%3").arg(origin, QLatin1String(field), fromData ? QStringLiteral("-data") : QString());
}

void checkCertificate(const QByteArray& pem, const QString& field) {
  if (!pem.isEmpty() && QSslCertificate::fromData(pem, QSsl::Pem).isEmpty())
    throw KubeconfigError(QStringLiteral("%1: no PEM certificate in it").arg(field));
}

QSslKey decodeKey(const QByteArray& pem) {
  QSslKey key(pem, QSsl::Rsa, QSsl::Pem);
  if (key.isNull()) key = QSslKey(pem, QSsl::Ec, QSsl::Pem);
  return key;
}

}  // namespace

Kubeconfig Kubeconfig::parse(const QByteArray& yaml, const QString& fileName) {
  const DocumentReader r(fileName);
  YAML::Node root;
  try {
    root = YAML::Load(yaml.toStdString());
  } catch (const YAML::Exception& e) {
    throw KubeconfigError(QStringLiteral("%1:%2:%3: YAML syntax error: %4")
                              .arg(displayPath(fileName))
                              .arg(e.mark.line + 1)
                              .arg(e.mark.column + 1)
                              .arg(QString::fromStdString(e.msg)));
  }
  Kubeconfig config;
  if (!root || root.IsNull()) return config;  // an empty file is an empty config
  if (!root.IsMap()) r.fail(QStringLiteral("(document)"), QStringLiteral("not a map"));
  config.m_currentContext = r.string(root, "current-context", QString());
  config.m_clusters = r.namedList<Cluster>(root, "clusters", "cluster", [&](Cluster& c, const YAML::Node& b, const QString& f) {
    c = readCluster(r, c, b, f);
  });
  config.m_users = r.namedList<User>(root, "users", "user", [&](User& u, const YAML::Node& b, const QString& f) {
    u = readUser(r, u, b, f);
  });
  config.m_contexts = r.namedList<Context>(root, "contexts", "context", [&](Context& c, const YAML::Node& b, const QString& f) {
    c.cluster = r.string(b, "cluster", f);
    if (c.cluster.isEmpty()) r.fail(f + QStringLiteral(".cluster"), QStringLiteral("missing"));
    c.user = r.string(b, "user", f);
    c.nameSpace = r.string(b, "namespace", f);
  });
  return config;
}

QStringList Kubeconfig::defaultFiles() {
  const QString env = qEnvironmentVariable("KUBECONFIG");
  if (!env.isEmpty()) {
    QStringList files;
    for (const QString& f : env.split(QLatin1Char(':'), Qt::SkipEmptyParts))
      if (!files.contains(f)) files.append(f);  // kubectl ignores repeats
    return files;
  }
  return {QDir::homePath() + QStringLiteral("/.kube/config")};
}

Kubeconfig Kubeconfig::load(const QStringList& files) {
  if (files.isEmpty()) throw KubeconfigError(QStringLiteral("no kubeconfig file given"));
  Kubeconfig merged;
  int found = 0;
  for (const QString& file : files) {
    QFile f(file);
    if (!f.exists() && files.size() > 1) continue;
    if (!f.open(QIODevice::ReadOnly))
      throw KubeconfigError(QStringLiteral("%1: cannot read: %2").arg(displayPath(file), f.errorString()));
    ++found;
    merged.mergeFrom(parse(f.readAll(), file));
  }
  if (found == 0)
    throw KubeconfigError(QStringLiteral("none of the kubeconfig files exists: %1").arg(files.join(QLatin1Char(':'))));
  return merged;
}

void Kubeconfig::mergeFrom(const Kubeconfig& other) {
  if (m_currentContext.isEmpty()) m_currentContext = other.m_currentContext;
  auto mergeList = [](auto& mine, const auto& theirs) {
    for (const auto& entry : theirs) {
      const bool known = std::any_of(mine.cbegin(), mine.cend(), [&](const auto& e) { return e.name == entry.name; });
      if (!known) mine.append(entry);
    }
  };
  mergeList(m_clusters, other.m_clusters);
  mergeList(m_users, other.m_users);
  mergeList(m_contexts, other.m_contexts);
}

QStringList Kubeconfig::contextNames() const {
  QStringList names;
  for (const Context& c : m_contexts) names.append(c.name);
  return names;
}

ConnectionSettings Kubeconfig::settings(const QString& contextName) const {
  const QString name = contextName.isEmpty() ? m_currentContext : contextName;
  if (name.isEmpty()) throw KubeconfigError(QStringLiteral("current-context is not set and no context was chosen"));
  auto byName = [](const auto& list, const QString& n) {
    auto it = std::find_if(list.cbegin(), list.cend(), [&](const auto& e) { return e.name == n; });
    return it == list.cend() ? nullptr : &*it;
  };
  const Context* context = byName(m_contexts, name);
  if (!context) throw KubeconfigError(QStringLiteral("context \"%1\" is not defined in any kubeconfig file").arg(name));
  const Cluster* cluster = byName(m_clusters, context->cluster);
  if (!cluster)
    throw KubeconfigError(QStringLiteral("%1.context.cluster: cluster \"%2\" is not defined").arg(context->origin, context->cluster));

  ConnectionSettings s;
  s.contextName = name;
  s.server = QUrl(cluster->server.endsWith(QLatin1Char('/')) ? cluster->server.chopped(1) : cluster->server);
  if (!context->nameSpace.isEmpty()) s.nameSpace = context->nameSpace;
  s.insecureSkipTlsVerify = cluster->insecureSkipTlsVerify;
  s.certificateAuthorityPem = !cluster->certificateAuthorityData.isEmpty()
                                  ? cluster->certificateAuthorityData
                                  : (cluster->certificateAuthorityFile.isEmpty()
                                         ? QByteArray()
                                         : readFile(cluster->certificateAuthorityFile, cluster->origin + QStringLiteral(".cluster"), "certificate-authority"));
  if (context->user.isEmpty()) {
    checkCertificate(s.certificateAuthorityPem,
                     pemField(cluster->origin + QStringLiteral(".cluster"), "certificate-authority",
                              !cluster->certificateAuthorityData.isEmpty()));
    return s;
  }
  const User* user = byName(m_users, context->user);
  if (!user) throw KubeconfigError(QStringLiteral("%1.context.user: user \"%2\" is not defined").arg(context->origin, context->user));
  const QString userField = user->origin + QStringLiteral(".user");
  s.bearerToken = user->token;
  if (s.bearerToken.isEmpty() && !user->tokenFile.isEmpty())
    s.bearerToken = QString::fromUtf8(readFile(user->tokenFile, userField, "tokenFile").trimmed());
  s.clientCertificatePem = !user->clientCertificateData.isEmpty()
                               ? user->clientCertificateData
                               : (user->clientCertificateFile.isEmpty() ? QByteArray() : readFile(user->clientCertificateFile, userField, "client-certificate"));
  s.clientKeyPem = !user->clientKeyData.isEmpty()
                       ? user->clientKeyData
                       : (user->clientKeyFile.isEmpty() ? QByteArray() : readFile(user->clientKeyFile, userField, "client-key"));
  if (s.bearerToken.isEmpty() && s.clientCertificatePem.isEmpty() && user->hasUnsupportedAuth)
    throw KubeconfigError(QStringLiteral("%1.exec: exec and auth-provider plugins are not supported; use a token or a client certificate").arg(userField));
  checkCertificate(s.certificateAuthorityPem,
                   pemField(cluster->origin + QStringLiteral(".cluster"), "certificate-authority",
                            !cluster->certificateAuthorityData.isEmpty()));
  checkCertificate(s.clientCertificatePem,
                   pemField(userField, "client-certificate", !user->clientCertificateData.isEmpty()));
  if (!s.clientKeyPem.isEmpty() && decodeKey(s.clientKeyPem).isNull())
    throw KubeconfigError(QStringLiteral("%1: no PEM RSA or EC private key in it")
                              .arg(pemField(userField, "client-key", !user->clientKeyData.isEmpty())));
  return s;
}

QSslConfiguration ConnectionSettings::sslConfiguration() const {
  QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
  if (!certificateAuthorityPem.isEmpty()) {
    const QList<QSslCertificate> cas = QSslCertificate::fromData(certificateAuthorityPem, QSsl::Pem);
    if (cas.isEmpty())
      throw KubeconfigError(QStringLiteral("context \"%1\": certificate-authority: no PEM certificate in the data").arg(contextName));
    ssl.setCaCertificates(cas);
  }
  if (insecureSkipTlsVerify) ssl.setPeerVerifyMode(QSslSocket::VerifyNone);
  if (!clientCertificatePem.isEmpty()) {
    const QList<QSslCertificate> certs = QSslCertificate::fromData(clientCertificatePem, QSsl::Pem);
    if (certs.isEmpty())
      throw KubeconfigError(QStringLiteral("context \"%1\": client-certificate: no PEM certificate in the data").arg(contextName));
    const QSslKey key = decodeKey(clientKeyPem);
    if (key.isNull())
      throw KubeconfigError(QStringLiteral("context \"%1\": client-key: no PEM RSA or EC private key in the data").arg(contextName));
    ssl.setLocalCertificate(certs.first());
    ssl.setPrivateKey(key);
  }
  return ssl;
}

}  // namespace mambogo::core
