#include "core/cluster_launcher.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTimer>
#include <algorithm>

namespace mambogo::core {
namespace {


bool postgresInstalled() {
  const QDir versions(QStringLiteral("/usr/lib/postgresql"));
  for (const QString& version : versions.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
    if (QFileInfo::exists(versions.filePath(version + QStringLiteral("/bin/postgres")))) return true;
  return false;
}

constexpr int kMaxErrorLines = 8;

}  // namespace

ClusterLauncher::ClusterLauncher(QObject* parent) : QObject(parent) { qRegisterMetaType<PodLaunchState>(); }

ClusterLauncher::~ClusterLauncher() {
  if (m_down) m_down->disconnect(this);
  if (m_up) {
    m_up->disconnect(this);
    if (m_up->state() != QProcess::NotRunning) {
      m_up->terminate();
      if (!m_up->waitForFinished(10'000)) m_up->kill();
    }
  }
}

QString ClusterLauncher::autoProfile() {
  const bool redis = QFileInfo::exists(QStringLiteral("/usr/bin/redis-server"));
  return redis && postgresInstalled() ? QStringLiteral("full") : QStringLiteral("embedded");
}

QString ClusterLauncher::findProgram() {
  const QString name = QStringLiteral("mambogo-cluster");
  const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(name);
  if (QFileInfo(beside).isExecutable()) return beside;
#ifdef MAMBOGO_BUILD_DIR
  const QString built = QStringLiteral(MAMBOGO_BUILD_DIR "/simulator/cluster/mambogo-cluster");
  if (QFileInfo(built).isExecutable()) return built;
#endif
  return QStandardPaths::findExecutable(name);
}

QString ClusterLauncher::defaultStateDir() {
  const QString state = qEnvironmentVariable("MAMBOGO_STATE_DIR");
  if (!state.isEmpty()) return QDir(state).filePath(QStringLiteral("cluster"));
  return QDir::homePath() + QStringLiteral("/.local/share/mambogo/cluster");
}

std::optional<PodLaunchState> ClusterLauncher::parseProgressLine(const QString& line) {
  static const QRegularExpression pattern(
      QStringLiteral(R"(^pod/(\S+) (\S+) (\d+)/(\d+)(?: \((.*)\))?\s*$)"));
  const auto match = pattern.match(line);
  if (!match.hasMatch()) return std::nullopt;
  PodLaunchState pod;
  pod.name = match.captured(1);
  pod.state = match.captured(2);
  pod.ready = match.captured(3).toInt();
  pod.total = match.captured(4).toInt();
  pod.detail = match.captured(5);
  return pod;
}

QString ClusterLauncher::kubeconfigPath() const { return QDir(m_stateDir).filePath(QStringLiteral("kubeconfig")); }
QString ClusterLauncher::userTokenPath() const { return QDir(m_stateDir).filePath(QStringLiteral("auth/user.jwt")); }
QString ClusterLauncher::adminTokenPath() const { return QDir(m_stateDir).filePath(QStringLiteral("auth/admin.jwt")); }

void ClusterLauncher::start(const LaunchOptions& options) {
  if ((m_state != State::Idle && m_state != State::Failed) || m_up) return;  // m_up: a failed start still ending
  m_program = options.program.isEmpty() ? findProgram() : options.program;
  m_stateDir = QDir(options.stateDir.isEmpty() ? defaultStateDir() : options.stateDir).absolutePath();
  m_profile = options.profile.isEmpty() ? autoProfile() : options.profile;
  m_stopTimeoutMs = options.stopTimeoutMs;
  m_pods.clear();
  m_lastErrors.clear();
  m_partial[0].clear();
  m_partial[1].clear();
  m_gatewayUrl.clear();
  m_owns = false;
  m_alreadyRunning = false;
  if (m_program.isEmpty()) {
    fail(QCoreApplication::translate("ClusterLauncher", "mambogo-cluster was not found next to the console, in its build tree or on PATH"));
    return;
  }

  QStringList arguments{QStringLiteral("up"), QStringLiteral("--foreground"), QStringLiteral("--state-dir"), m_stateDir,
                        QStringLiteral("--profile"), m_profile, QStringLiteral("--timeout"),
                        QString::number(options.readyTimeoutS)};
  if (options.apiPort) arguments << QStringLiteral("--api-port") << QString::number(*options.apiPort);
  arguments << options.extraArguments;

  m_up = new QProcess(this);
  m_up->setProgram(m_program);
  m_up->setArguments(arguments);
  connect(m_up, &QProcess::readyReadStandardOutput, this, [this] { readLines(QProcess::StandardOutput); });
  connect(m_up, &QProcess::readyReadStandardError, this, [this] { readLines(QProcess::StandardError); });
  connect(m_up, &QProcess::finished, this, &ClusterLauncher::onUpFinished);
  connect(m_up, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart || !m_up) return;  // no finished() follows this one
    const QString why = QCoreApplication::translate("ClusterLauncher", "could not start %1: %2").arg(m_program, m_up->errorString());
    m_up->deleteLater();
    m_up = nullptr;
    fail(why);
  });
  setState(State::Starting);
  Q_EMIT outputLine(m_program + QLatin1Char(' ') + arguments.join(QLatin1Char(' ')));
  m_up->start();
}

void ClusterLauncher::stop() {
  if (m_state == State::Idle || m_state == State::Failed || m_state == State::Stopping) return;
  const bool upRunning = m_up && m_up->state() != QProcess::NotRunning;
  setState(State::Stopping);
  m_down = new QProcess(this);
  m_down->setProgram(m_program);
  m_down->setArguments({QStringLiteral("down"), QStringLiteral("--state-dir"), m_stateDir});
  m_down->setProcessChannelMode(QProcess::MergedChannels);
  connect(m_down, &QProcess::readyRead, this, [this] {
    const auto text = QString::fromUtf8(m_down->readAll()).trimmed();
    if (!text.isEmpty()) Q_EMIT outputLine(text);
  });
  connect(m_down, &QProcess::finished, this, [this] {
    m_down->deleteLater();
    m_down = nullptr;
    if (m_up && m_up->state() != QProcess::NotRunning) {
      // `down` found no pid yet (still starting): the signal ends it once it is up.
      m_up->terminate();
      return;
    }
    if (m_state == State::Stopping) {
      setState(State::Idle);
      Q_EMIT stopped();
    }
  });
  if (upRunning) {
    QTimer::singleShot(m_stopTimeoutMs, m_up, [up = m_up] {
      if (up->state() != QProcess::NotRunning) up->kill();
    });
  }
  m_down->start();
}

void ClusterLauncher::setState(State state) {
  if (m_state == state) return;
  m_state = state;
  Q_EMIT stateChanged(state);
}

void ClusterLauncher::readLines(QProcess::ProcessChannel channel) {
  if (!m_up) return;
  m_up->setReadChannel(channel);
  QByteArray& partial = m_partial[channel == QProcess::StandardOutput ? 0 : 1];
  partial += m_up->readAll();
  qsizetype newline;
  while ((newline = partial.indexOf('\n')) >= 0) {
    const QString line = QString::fromUtf8(partial.left(newline)).trimmed();
    partial.remove(0, newline + 1);
    if (line.isEmpty()) continue;
    if (channel == QProcess::StandardError) {
      m_lastErrors << line;
      if (m_lastErrors.size() > kMaxErrorLines) m_lastErrors.removeFirst();
    }
    handleLine(line);
  }
}

void ClusterLauncher::handleLine(const QString& line) {
  Q_EMIT outputLine(line);
  if (auto pod = parseProgressLine(line)) {
    auto it = std::find_if(m_pods.begin(), m_pods.end(), [&](const auto& p) { return p.name == pod->name; });
    if (it == m_pods.end())
      m_pods.push_back(*pod);
    else
      *it = *pod;
    Q_EMIT podChanged(*pod);
    return;
  }
  if (line.startsWith(QLatin1String("READY ")) && m_state == State::Starting) {
    m_gatewayUrl = line.mid(6).trimmed();
    m_owns = true;
    setState(State::Ready);
    Q_EMIT ready(kubeconfigPath(), m_gatewayUrl);
    return;
  }
  if (line.startsWith(QLatin1String("FAILED ")) && m_state == State::Starting) {
    fail(line.mid(7).trimmed());
    return;
  }
  if (line.startsWith(QLatin1String("mambogo-cluster is already running"))) m_alreadyRunning = true;
}

void ClusterLauncher::onUpFinished(int exitCode, QProcess::ExitStatus status) {
  QProcess* up = m_up;
  m_up = nullptr;
  up->deleteLater();
  if (m_state == State::Starting && m_alreadyRunning && exitCode == 0 && status == QProcess::NormalExit) {
    m_gatewayUrl = QStringLiteral("http://127.0.0.1:8080");
    m_owns = false;
    setState(State::Ready);
    Q_EMIT ready(kubeconfigPath(), m_gatewayUrl);
    return;
  }
  if (m_state == State::Starting) {
    QString why = m_lastErrors.isEmpty() ? QCoreApplication::translate("ClusterLauncher", "mambogo-cluster exited (code %1) before the cluster was ready")
                                               .arg(exitCode)
                                         : m_lastErrors.join(QLatin1Char('\n'));
    fail(why);
    return;
  }
  if (m_state == State::Stopping && !m_down) {
    setState(State::Idle);
    Q_EMIT stopped();
    return;
  }
  if (m_state == State::Ready) {
    // The cluster ended by itself (killed, crashed): nothing runs any more.
    fail(QCoreApplication::translate("ClusterLauncher", "the local cluster stopped unexpectedly (exit code %1)").arg(exitCode));
  }
}

void ClusterLauncher::fail(const QString& message) {
  if (m_up && m_up->state() != QProcess::NotRunning) m_up->terminate();
  setState(State::Failed);
  Q_EMIT failed(message);
}

}  // namespace mambogo::core
