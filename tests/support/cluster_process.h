// A real mambogo-cluster for tests: `mambogo-cluster up --foreground` in a temporary state
// directory, on an address block of its own (127.<block>.x.y) so that tests may run side by
// side, plus kubectl and the Python Kubernetes client pointed at it.
//
// Thread-safety: belongs to the test thread. The destructor stops the cluster (SIGTERM, then
// waits for it to terminate every pod) and the temporary directory goes with it.
#pragma once

#include <QDir>
#include <QFile>
#include <QElapsedTimer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace mambogo::test {

struct CommandResult {
  int exit_code = -1;
  QString out;
  QString err;
  bool ok() const { return exit_code == 0; }
};

inline CommandResult run_command(const QString& program, const QStringList& args, const QProcessEnvironment& env,
                                 int timeout_ms = 60'000, const QByteArray& input = {}) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  if (!p.waitForStarted(10'000)) return {-1, {}, program + ": did not start"};
  if (!input.isEmpty()) p.write(input);
  p.closeWriteChannel();
  if (!p.waitForFinished(timeout_ms)) {
    p.kill();
    p.waitForFinished(5'000);
    return {-1, QString::fromUtf8(p.readAllStandardOutput()), program + ": timed out"};
  }
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
          QString::fromUtf8(p.readAllStandardError())};
}

inline QString build_dir() { return qEnvironmentVariable("MAMBOGO_BUILD_DIR"); }

class LocalCluster {
 public:
  // profile: "embedded" or "full". extra: more `up` arguments.
  explicit LocalCluster(const QString& profile = "embedded", const QStringList& extra = {})
      : block_(QRandomGenerator::global()->bounded(10, 250)) {
    // QTemporaryDir is 0700; the full profile's PostgreSQL (the postgres user) must reach it.
    QFile::setPermissions(dir_.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                                          QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther |
                                          QFileDevice::ExeOther);
    env_ = QProcessEnvironment::systemEnvironment();
    env_.insert("KUBECONFIG", kubeconfig());
    QStringList args{"up",         "--foreground", "--profile",  profile, "--state-dir", dir_.path(),
                     "--api-port", "0",            "--ip-prefix", QString("127.%1").arg(block_)};
    process_.setProcessChannelMode(QProcess::MergedChannels);
    process_.start(build_dir() + "/simulator/cluster/mambogo-cluster", args + extra);
  }
  ~LocalCluster() { stop(); }

  // Waits for "READY"; false (with the output in log()) on failure or timeout.
  bool wait_ready(int timeout_ms = 180'000) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeout_ms) {
      process_.waitForReadyRead(200);
      log_ += QString::fromUtf8(process_.readAll());
      if (log_.contains("\nREADY ") || log_.startsWith("READY ")) return true;
      if (log_.contains("FAILED ") || process_.state() == QProcess::NotRunning) return false;
    }
    return false;
  }

  void stop() {
    if (process_.state() == QProcess::NotRunning) return;
    process_.terminate();
    if (!process_.waitForFinished(90'000)) process_.kill();
    process_.waitForFinished(5'000);
    log_ += QString::fromUtf8(process_.readAll());
  }
  bool running() const { return process_.state() == QProcess::Running; }
  int exit_code() const { return process_.exitCode(); }

  QString log() {
    log_ += QString::fromUtf8(process_.readAll());
    return log_;
  }
  QString state_dir() const { return dir_.path(); }
  QString kubeconfig() const { return dir_.path() + "/kubeconfig"; }
  QString token(const QString& role) const {  // "user" or "admin"
    QFile f(dir_.path() + "/auth/" + role + ".jwt");
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()).trimmed() : QString();
  }
  // 127.<block>: pods are 127.<block>.1.N, Services 127.<block>.2.N, LoadBalancers 127.<block>.0.1.
  QString ip_prefix() const { return QString("127.%1").arg(block_); }
  QString load_balancer_address() const { return ip_prefix() + ".0.1"; }
  const QProcessEnvironment& env() const { return env_; }

  CommandResult kubectl(const QStringList& args, int timeout_ms = 60'000, const QByteArray& input = {}) const {
    return run_command("kubectl", args, env_, timeout_ms, input);
  }
  nlohmann::json kubectl_json(const QStringList& args) const {
    auto r = kubectl(args + QStringList{"-o", "json"});
    if (!r.ok()) return nlohmann::json();
    return nlohmann::json::parse(r.out.toStdString(), nullptr, false);
  }
  CommandResult python(const QString& code, int timeout_ms = 60'000) const {
    return run_command("/usr/bin/python3", {"-c", code}, env_, timeout_ms);
  }

  // Polls `check` every 200 ms until it is true or timeout_ms passes.
  static bool eventually(const std::function<bool()>& check, int timeout_ms) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < timeout_ms) {
      if (check()) return true;
      QThread::msleep(200);
    }
    return check();
  }

 private:
  QTemporaryDir dir_;
  int block_;
  QProcess process_;
  QProcessEnvironment env_;
  QString log_;
};

}  // namespace mambogo::test
