// ClusterLauncher: starts and stops the bundled local cluster (`mambogo-cluster`) for the
// console's "Launch local cluster" button, without ever blocking its thread.
//
// Offers
//   - start(options): runs `mambogo-cluster up --foreground --state-dir DIR --profile P` as a
//     child QProcess. The profile is "full" when Redis (/usr/bin/redis-server) and PostgreSQL
//     (/usr/lib/postgresql/*/bin/postgres) are installed, else "embedded" (SQLite, in-process
//     caches), unless the options name one. Its output is read line by line:
//       "pod/NAME STATE READY/TOTAL [(detail)]"  → podChanged(PodLaunchState)
//       "READY http://..."                       → ready(kubeconfig path, gateway URL)
//       "FAILED why" or an exit before READY     → failed(why)
//     and every line is relayed as outputLine() for a log view.
//     A cluster already running in that state directory is reused (ready() follows at once
//     with ownsCluster() false).
//   - stop(): runs `mambogo-cluster down --state-dir DIR` (which stops the pods gracefully)
//     and emits stopped() once the cluster process is gone. A cluster that does not end
//     within stopTimeoutMs is killed (its pods die with it).
//   - parseProgressLine(): the pure line parser, for tests and the terminal UI.
//
// Thread-safety: create, call and destroy on one thread with an event loop; signals come on
// it. Lifetime: destroying a launcher whose cluster still runs terminates it (SIGTERM, then
// SIGKILL after 10 s) — the one place that waits; call stop() and wait for stopped() first
// when the user closes the window.
#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <optional>

namespace mambogo::core {

struct PodLaunchState {
  QString name;
  QString state;   // "Pending", "ContainerCreating", "Running", "CrashLoopBackOff", "Terminating", ...
  int ready = 0;   // ready containers
  int total = 0;   // containers
  QString detail;  // the waiting message, if any

  bool isReady() const { return total > 0 && ready == total && state == QLatin1String("Running"); }
  bool operator==(const PodLaunchState&) const = default;
};

struct LaunchOptions {
  QString program;       // mambogo-cluster; empty: findProgram()
  QString stateDir;      // empty: defaultStateDir()
  QString profile;       // "full", "embedded"; empty: autoProfile()
  std::optional<int> apiPort;  // empty: mambogo-cluster's default (6443); 0: any free port
  int readyTimeoutS = 180;
  int stopTimeoutMs = 100'000;
  QStringList extraArguments;  // appended to `up`
};

class ClusterLauncher : public QObject {
  Q_OBJECT
 public:
  enum class State { Idle, Starting, Ready, Stopping, Failed };
  Q_ENUM(State)

  explicit ClusterLauncher(QObject* parent = nullptr);
  ~ClusterLauncher() override;

  // "full" when Redis and PostgreSQL are installed, else "embedded".
  static QString autoProfile();
  // mambogo-cluster next to this program, in the build tree it was built in, or on PATH;
  // empty when there is none.
  static QString findProgram();
  // $MAMBOGO_STATE_DIR/cluster, else ~/.local/share/mambogo/cluster (as mambogo-cluster).
  static QString defaultStateDir();
  // nullopt for lines that are not pod progress.
  static std::optional<PodLaunchState> parseProgressLine(const QString& line);

  // Ignored unless Idle or Failed (and a failed cluster process has ended). Outcome: ready() or failed().
  void start(const LaunchOptions& options = {});
  // Ignored when nothing runs. Outcome: stopped().
  void stop();

  State state() const { return m_state; }
  bool ownsCluster() const { return m_owns; }  // false when it found one already running
  QString profile() const { return m_profile; }
  QString stateDir() const { return m_stateDir; }
  QString kubeconfigPath() const;  // <state>/kubeconfig
  QString userTokenPath() const;   // <state>/auth/user.jwt
  QString adminTokenPath() const;  // <state>/auth/admin.jwt
  QString gatewayUrl() const { return m_gatewayUrl; }
  QList<PodLaunchState> pods() const { return m_pods; }  // in order of first appearance

 Q_SIGNALS:
  void stateChanged(mambogo::core::ClusterLauncher::State state);
  void podChanged(const mambogo::core::PodLaunchState& pod);
  void outputLine(const QString& line);
  void ready(const QString& kubeconfigPath, const QString& gatewayUrl);
  void failed(const QString& message);
  void stopped();

 private:
  void setState(State state);
  void readLines(QProcess::ProcessChannel channel);
  void handleLine(const QString& line);
  void onUpFinished(int exitCode, QProcess::ExitStatus status);
  void fail(const QString& message);

  // Set by start(), constant while a cluster runs.
  QString m_program, m_stateDir, m_profile;
  int m_stopTimeoutMs = 100'000;

  QProcess* m_up = nullptr;    // child: `up --foreground`, null when none runs
  QProcess* m_down = nullptr;  // child: `down`, null unless stopping
  State m_state = State::Idle;
  bool m_owns = false;
  bool m_alreadyRunning = false;
  QString m_gatewayUrl;
  QList<PodLaunchState> m_pods;
  QStringList m_lastErrors;  // the last stderr lines, for failure messages
  QByteArray m_partial[2];   // unterminated output per channel
};

}  // namespace mambogo::core

Q_DECLARE_METATYPE(mambogo::core::PodLaunchState)
